// The chip backends' embedding beyond the kernel harness: a table cut into blocks over many
// cores, ids in chunks of many rows, heavily repeated ids (which the backward pass must add up
// in order), bf16 tables, and a table too wide for the scratchpad.
#include "backends/chip/chip_backend.h"

#include "arch/chip_loader.h"
#include "base/error.h"
#include "compiler/embedding_program.h"
#include "kernel_harness.h"

namespace tessera::test {
namespace {

TEST(ChipEmbedding, BlocksOverTheCoresAndRepeatedIdsAddUp) {
  // 5000 ids over a (1000, 96) table: 32 blocks of 32 rows (on t1 the forward takes the table
  // whole and cuts the ids by position); ids 0..9 repeat about 250 times.
  const int64_t count = 5000, vocab = 1000, channels = 96;
  std::vector<float> ids = random_ints(count, 21, 0, vocab);
  for (int64_t i = 0; i < count; i += 2) ids[i] = static_cast<float>(i / 2 % 10);
  for (DType dtype : {DType::F32, DType::BF16})
    for (const char* device : {"chip:t1", "chip:h20"})
      expect_matches_reference(
          backend(device),
          [&](Workspace& ws) {
            View id_view = ws.input(DType::I64, {count}, ids);
            View table = ws.input(dtype, {vocab, channels}, random_values(vocab * channels, 22));
            View out = ws.output(dtype, {count, channels});
            View dtable = ws.output(dtype, {vocab, channels}, random_values(vocab * channels, 23));
            ws.backend().embedding(id_view, table, out);
            ws.backend().embedding_backward(id_view, ws.input(dtype, {count, channels},
                                                             random_values(count * channels, 24)), dtable);
            return std::vector<View>{out, dtable};
          },
          // About 250 repeats summed in f32 in the same order as cpu-ref's double sum.
          plus_abs(storage_tolerance(dtype), 1e-6 * 250), std::string("embedding on ") + device);
}

// A forward over a table that fits the scratchpad whole: the ids in runs of consecutive
// positions, one per core (16 ids each at least), each core storing its output rows with one DMA.
TEST(ChipEmbedding, AWholeTableForwardCutsTheIdsByPosition) {
  arch::ChipSpec t1 = arch::load_chip("t1");
  const int64_t count = 256;
  compiler::EmbeddingPlan p;
  p.vocab = 73, p.channels = 128, p.dtype = DType::F32;
  compiler::plan_embedding(t1, p, count, false);
  ASSERT_EQ(p.block_rows, p.vocab);
  compiler::EmbeddingPlan::Block whole{0, p.vocab, 0, {}};
  for (int64_t i = 0; i < count; ++i) whole.positions.push_back(i);
  p.blocks = {whole};
  compiler::split_by_position(t1, p);
  ASSERT_EQ(p.blocks.size(), 16u);
  for (size_t k = 0; k < p.blocks.size(); ++k) {
    const compiler::EmbeddingPlan::Block& b = p.blocks[k];
    EXPECT_EQ(b.v0, 0);
    EXPECT_EQ(b.rows, p.vocab);
    EXPECT_EQ(b.first, static_cast<int64_t>(k) * 16);
    EXPECT_EQ(b.positions, std::vector<int64_t>(whole.positions.begin() + b.first,
                                                whole.positions.begin() + b.first + 16));
  }
  p.table = 0, p.rows = 0x100000, p.indices = 0x200000;
  isa::Program program = compiler::embedding_program(t1, p);
  ASSERT_EQ(program.cores.size(), 16u);
  for (const auto& core : program.cores) {
    int stores = 0;
    for (const isa::Instruction& inst : core)
      if (inst.op == isa::Opcode::DmaCopy && inst.operands[0].addr.space == isa::Space::Hbm) ++stores;
    EXPECT_EQ(stores, 1);
  }
}

// The backward over a table that fits whole, cut by position: one core per run of positions, a
// barrier between the partial tables and their sum, and a program that does not depend on the
// ids (a second batch of other ids reuses it), with cpu-ref's values.
TEST(ChipEmbedding, AWholeTableBackwardCutByPositionSumsPartialsAndIgnoresTheIds) {
  arch::ChipSpec t1 = arch::load_chip("t1");
  compiler::EmbeddingPlan p;
  p.vocab = 73, p.channels = 128, p.dtype = DType::F32;
  compiler::plan_embedding(t1, p, 256, true);
  compiler::EmbeddingPlan::Block whole{0, p.vocab, 0, {}};
  for (int64_t i = 0; i < 256; ++i) whole.positions.push_back(i);
  p.blocks = {whole};
  compiler::split_by_position(t1, p);
  ASSERT_TRUE(compiler::cut_by_position(p));
  EXPECT_EQ(compiler::embedding_partials_bytes(p), 16 * 73 * 128 * 4);
  p.table = 0, p.rows = 0x100000, p.indices = 0x200000, p.partials = 0x300000;
  isa::Program program = compiler::embedding_backward_program(t1, p);
  ASSERT_EQ(program.cores.size(), 16u);
  for (const auto& core : program.cores) {
    int barriers = 0;
    for (const isa::Instruction& inst : core) barriers += inst.op == isa::Opcode::Barrier;
    EXPECT_EQ(barriers, 1);
  }

  auto& chip = dynamic_cast<ChipBackend&>(backend("chip:t1"));
  for (uint64_t seed : {31, 32}) {
    int64_t misses = chip.programs().misses();
    std::vector<float> ids = random_ints(256, seed, 0, 73);
    expect_matches_reference(
        chip,
        [&](Workspace& ws) {
          View dtable = ws.output(DType::F32, {73, 128}, random_values(73 * 128, 33));
          ws.backend().embedding_backward(ws.input(DType::I64, {256}, ids),
                                          ws.input(DType::F32, {256, 128}, random_values(256 * 128, 34)), dtable);
          return std::vector<View>{dtable};
        },
        plus_abs(storage_tolerance(DType::F32), 1e-6 * 16), "embedding backward by position");
    if (seed == 32) {
      EXPECT_EQ(chip.programs().misses(), misses) << "other ids built another program";
    }
  }
}

TEST(ChipEmbedding, ARowWiderThanTheScratchpadIsAnError) {
  Workspace ws(backend("chip:h20"));
  View ids = ws.input(DType::I64, {1}, {0.0f});
  View table = ws.input(DType::F32, {1, 100000}, std::vector<float>(100000, 1.0f));
  try {
    ws.backend().embedding(ids, table, ws.output(DType::F32, {1, 100000}));
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("embedding on chip h20: a table row of 100000 channels does not fit"),
              std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace tessera::test
