// DMA between memories against a byte-by-byte reference of strided 2-D and 3-D blocks, another
// core's scratchpad (spm@N), memories that cost the host only what is written, and the faults of
// bad blocks.
#include <unistd.h>

#include "base/random.h"
#include "sim_test_util.h"

namespace tessera::sim::testing {
namespace {

std::vector<uint8_t> random_bytes(size_t n, uint64_t seed) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(random_bits(seed, i));
  return v;
}

// The reference: dst[d + p * dps + r * ds + x] = src[s + p * sps + r * ss + x].
void copy_reference(std::vector<uint8_t>& dst, int64_t d, const std::vector<uint8_t>& src, int64_t s, int64_t depth,
                    int64_t rows, int64_t row_bytes, int64_t ds, int64_t ss, int64_t dps, int64_t sps) {
  for (int64_t p = 0; p < depth; ++p)
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t x = 0; x < row_bytes; ++x)
        dst[static_cast<size_t>(d + p * dps + r * ds + x)] = src[static_cast<size_t>(s + p * sps + r * ss + x)];
}

TEST(Memory, A96GBMemoryCostsTheHostOnlyThePagesWritten) {
  Memory hbm("hbm", int64_t{96} << 30);
  EXPECT_EQ(hbm.resident_bytes(), 0);
  EXPECT_EQ(read<uint8_t>(hbm, (int64_t{90} << 30) + 5, 3), std::vector<uint8_t>(3, 0));
  // A write across a host page boundary touches two pages.
  std::vector<uint8_t> bytes = random_bytes(100, 1);
  hbm.write((int64_t{50} << 30) - 50, bytes.data(), 100);
  EXPECT_EQ(read<uint8_t>(hbm, (int64_t{50} << 30) - 50, 100), bytes);
  EXPECT_GT(hbm.resident_bytes(), 0);
  EXPECT_LE(hbm.resident_bytes(), 3 * sysconf(_SC_PAGESIZE));  // the page read and the two written
}

TEST(Dma, TwoDimensionalStridedCopiesBetweenEveryPairOfMemories) {
  arch::ChipSpec chip = small_t1(2);
  for (Space dst_space : {Space::Hbm, Space::L2, Space::Spm}) {
    for (Space src_space : {Space::Hbm, Space::L2, Space::Spm}) {
      Simulator sim(chip);
      // Source rows around 1 MiB in HBM and L2.
      int64_t src = src_space == Space::Spm ? 0x8000 : (1 << 20) - 300, dst = 0x1230;
      std::vector<uint8_t> src_bytes = random_bytes(8192, 2);
      sim.memory().at(src_space, 0).write(src, src_bytes.data(), 8192);
      sim.run(isa::Program{{{dma(at(dst_space, dst), at(src_space, src), 9, 100, 230, 700)}}});
      std::vector<uint8_t> want(8192 + 0x1230, 0), src_image(static_cast<size_t>(src) + 8192, 0);
      std::copy(src_bytes.begin(), src_bytes.end(), src_image.begin() + src);
      copy_reference(want, dst, src_image, src, 1, 9, 100, 230, 700, 0, 0);
      EXPECT_EQ(read<uint8_t>(sim.memory().at(dst_space, 0), 0, want.size()), want)
          << isa::space_name(src_space) << " -> " << isa::space_name(dst_space);
    }
  }
}

TEST(Dma, ThreeDimensionalCopyWithNegativeStrides) {
  arch::ChipSpec chip = small_t1(1);
  Simulator sim(chip);
  std::vector<uint8_t> src = random_bytes(20000, 3);
  write(sim.memory().hbm(), 0, src);
  // Planes walk backwards in the source, rows backwards in the destination.
  sim.run(isa::Program{{{ins(Opcode::DmaCopy3d, {spm(0x4000), hbm(15000), imm(3), imm(5), imm(64), imm(-100),
                                                  imm(128), imm(1000), imm(-4000)})}}});
  std::vector<uint8_t> want(0x8000, 0);
  copy_reference(want, 0x4000, src, 15000, 3, 5, 64, -100, 128, 1000, -4000);
  EXPECT_EQ(read<uint8_t>(sim.memory().spm(0), 0, want.size()), want);
}

// Random 3-D blocks (gaps, repeated and reversed rows, planes) from HBM and scratchpad to HBM
// and scratchpad, some reading bytes never written, against the byte reference.
TEST(Dma, RandomBlocksMatchTheReference) {
  constexpr int64_t kHalf = 2 << 20;  // HBM: sources in [0, 2 MiB), destinations in [2, 4) MiB
  constexpr int64_t kSpmHalf = 128 << 10;
  const std::vector<uint8_t> hbm_start = random_bytes(4 << 20, 1), spm_start = random_bytes(256 << 10, 2);
  for (uint64_t seed = 1; seed <= 100; ++seed) {
    SCOPED_TRACE(fmt::format("seed {}", seed));
    uint64_t counter = 0;
    auto below = [&](int64_t n) {
      return static_cast<int64_t>(random_bits(seed, counter++) % static_cast<uint64_t>(n));
    };
    Simulator sim(small_t1(1));
    std::vector<uint8_t> hbm_bytes = hbm_start, spm_bytes = spm_start;
    if (below(4) == 0) std::fill(hbm_bytes.begin() + (1 << 20), hbm_bytes.begin() + (2 << 20), 0);  // never written
    for (int64_t page = 0; page < 4; ++page)
      if (hbm_bytes[static_cast<size_t>(page << 20)] || hbm_bytes[static_cast<size_t>((page << 20) + 1)])
        sim.memory().hbm().write(page << 20, hbm_bytes.data() + (page << 20), 1 << 20);
    sim.memory().spm(0).write(0, spm_bytes.data(), 256 << 10);

    int64_t depth = 1 + below(3), rows = 1 + below(16), row_bytes = 1 + below(300);
    auto stride = [&] {
      int64_t st = row_bytes + below(3) * below(64);
      return below(8) == 0 ? 0 : (below(4) == 0 ? -st : st);
    };
    int64_t ds = stride(), ss = stride(), dps = depth == 1 ? 0 : 8192 - below(2) * 16384, sps = 8192;
    // Each block's lowest byte: around 1 MiB of HBM (sources) or 3 MiB
    // (destinations), anywhere in the scratchpad's lower or upper half. Blocks span < 24 KiB.
    auto lowest = [&](int64_t row_stride, int64_t plane_stride) {
      return std::min<int64_t>(0, row_stride * (rows - 1)) + std::min<int64_t>(0, plane_stride * (depth - 1));
    };
    bool dst_hbm = below(2) == 0, src_hbm = below(2) == 0;
    int64_t src_low = src_hbm ? (1 << 20) - 20000 + below(40000) : below(kSpmHalf - 40000);
    int64_t dst_low = dst_hbm ? kHalf + (1 << 20) - 20000 + below(40000) : kSpmHalf + below(kSpmHalf - 40000);
    int64_t s = src_low - lowest(ss, sps), d = dst_low - lowest(ds, dps);
    std::vector<uint8_t>& src = src_hbm ? hbm_bytes : spm_bytes;
    std::vector<uint8_t> want = dst_hbm ? hbm_bytes : spm_bytes;
    copy_reference(want, d, src, s, depth, rows, row_bytes, ds, ss, dps, sps);
    Instruction copy = ins(Opcode::DmaCopy3d, {dst_hbm ? hbm(d) : spm(d), src_hbm ? hbm(s) : spm(s), imm(depth),
                                               imm(rows), imm(row_bytes), imm(ds), imm(ss), imm(dps), imm(sps)});
    sim.run(isa::Program{{std::vector<Instruction>{copy}}});
    Memory& out = dst_hbm ? sim.memory().hbm() : sim.memory().spm(0);
    int64_t half = dst_hbm ? kHalf : kSpmHalf;
    ASSERT_EQ(read<uint8_t>(out, half, static_cast<size_t>(half)),
              std::vector<uint8_t>(want.begin() + half, want.end()));
  }
}

TEST(Dma, ReachesAnotherCoresScratchpad) {
  arch::ChipSpec chip = small_t1(4);
  Simulator sim(chip);
  std::vector<uint8_t> bytes = random_bytes(256, 4);
  write(sim.memory().spm(1), 0x40, bytes);
  // Core 1 pushes to core 3; core 2 pulls the result from core 3 into its own scratchpad,
  // after a barrier.
  isa::Program program;
  program.cores.resize(4);
  program.cores[1] = {dma(at(Space::Spm, 0x100, -1, 3), spm(0x40), 1, 256, 256, 256), barrier()};
  program.cores[2] = {barrier(), li(4, 0x100), dma(spm(0x800), at(Space::Spm, 0, 4, 3), 1, 256, 256, 256)};
  program.cores[0] = program.cores[3] = {barrier()};
  sim.run(program);
  EXPECT_EQ(read<uint8_t>(sim.memory().spm(3), 0x100, 256), bytes);
  EXPECT_EQ(read<uint8_t>(sim.memory().spm(2), 0x800, 256), bytes);
}

TEST(Dma, FaultsNameTheBlockAndTheMemory) {
  arch::ChipSpec chip = small_t1(2);
  Simulator sim(chip);
  auto run = [&](Instruction inst) { return error_of([&] { sim.run(isa::Program{{{li(1, 0x3ff00), inst}}}); }); };
  EXPECT_EQ(run(dma(spm(0, 1), hbm(0), 4, 64, 128, 64)),
            "core 0 dma, instruction 1 `dma.copy spm[0x3ff00], hbm[0x0], 4, 64, 128, 64`: "
            "dst: the block at spm@0[0x3ff00] reaches bytes [261888, 262336) outside the 262144-byte spm@0");
  EXPECT_EQ(run(dma(spm(0), hbm(-64), 4, 64, 64, 64)),
            "core 0 dma, instruction 1 `dma.copy spm[0x0], hbm[-0x40], 4, 64, 64, 64`: "
            "src: the block at hbm[-0x40] reaches bytes [-64, 192) outside the 96000000000-byte hbm");
  EXPECT_EQ(run(dma(at(Space::Spm, 0, -1, 7), hbm(0), 1, 64, 64, 64)),
            "core 0 dma, instruction 1 `dma.copy spm@7[0x0], hbm[0x0], 1, 64, 64, 64`: "
            "dst: spm@7 names a core the chip does not have (cores 0..1)");
  EXPECT_EQ(run(dma(l2(0x80), l2(0x0), 2, 0x80, 0x80, 0x80)),
            "core 0 dma, instruction 1 `dma.copy l2[0x80], l2[0x0], 2, 128, 128, 128`: "
            "the source block at l2[0x0] and the destination block at l2[0x80] overlap");
  EXPECT_EQ(run(dma(l2(0x100), l2(0x0), 2, 0x80, 0x80, 0x80)), "");  // adjacent, not overlapping
  EXPECT_EQ(run(dma(l2(0x100), l2(0x0), 2, 0x80, 0x80, -0x80)),
            "core 0 dma, instruction 1 `dma.copy l2[0x100], l2[0x0], 2, 128, 128, -128`: "
            "src: the block at l2[0x0] reaches bytes [-128, 128) outside the 4194304-byte l2");
  EXPECT_EQ(run(dma(l2(0x100), l2(0x0), 0, 0x80, 0x80, 0x80)),
            "core 0 dma, instruction 1 `dma.copy l2[0x100], l2[0x0], 0, 128, 128, 128`: rows = 0 is outside [1, 16777216]");
  // Interleaved rows of one memory that share no byte are fine: even rows to odd rows.
  EXPECT_EQ(run(dma(l2(0x80), l2(0x0), 4, 0x80, 0x100, 0x100)), "");
}

}  // namespace
}  // namespace tessera::sim::testing
