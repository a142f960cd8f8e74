// The chip backends' embedding beyond the kernel harness: a table cut into blocks over many
// cores, ids in chunks of many rows, heavily repeated ids (which the backward pass must add up
// in order), bf16 tables, and a table too wide for the scratchpad.
#include "backends/chip/chip_backend.h"

#include "base/error.h"
#include "kernel_harness.h"

namespace tessera::test {
namespace {

TEST(ChipEmbedding, BlocksOverTheCoresAndRepeatedIdsAddUp) {
  // 5000 ids over a (1000, 96) table: 32 blocks of 32 rows; ids 0..9 repeat about 250 times.
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
