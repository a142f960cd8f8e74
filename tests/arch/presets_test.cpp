// Every preset in configs/chips loads, and its derived figures match the published ones
// (shared/reference/chips.md) within 2 %.
#include <gtest/gtest.h>

#include <fstream>

#include "arch/chip_figures.h"
#include "arch/chip_loader.h"
#include "arch/chip_validate.h"
#include "arch_test_util.h"

namespace tessera::arch {
namespace {

ChipSpec preset(const std::string& name) { return load_chip(name, {}, testing::presets_dir()); }

void expect_within(double derived, double published, double tolerance, const std::string& what) {
  EXPECT_LE(std::fabs(derived - published), tolerance * published)
      << what << ": derived " << derived << ", published " << published;
}

TEST(Presets, EveryPresetLoadsUnderItsFileName) {
  std::vector<std::string> names = preset_names(testing::presets_dir());
  for (const char* expected : {"t1", "h20", "h100", "h200", "a100", "ascend910b", "p800-est", "scalesim-32x32"}) {
    EXPECT_NE(std::find(names.begin(), names.end(), expected), names.end()) << expected;
  }
  for (const std::string& name : names) {
    ChipSpec chip = preset(name);
    EXPECT_EQ(chip.name, name);
    EXPECT_FALSE(chip.description.empty()) << name;
    EXPECT_GT(chip_figures(chip).bf16_flops_per_s, 0) << name;
  }
}

struct Published {
  const char* chip;
  double bf16_tflops, fp8_tflops;  // fp8 0: none
  double hbm_gb, hbm_tb_per_s, l2_mb, links_gb_per_s;
  double ridge;  // bf16 FLOP per HBM byte; 0: not published
};

TEST(Presets, DerivedFiguresMatchPublishedOnes) {
  const Published table[] = {
      {"t1", 420, 840, 96, 4.0, 64 * 1.048576, 800, 0},
      {"h20", 148, 296, 96, 4.0, 60, 900, 37},
      {"h100", 989.4, 1979, 80, 3.35, 50, 900, 295},
      {"h200", 989, 1979, 141, 4.8, 50, 900, 206},
      {"a100", 312, 0, 80, 2.039, 40, 600, 153},
      {"ascend910b", 363.7, 0, 64, 1.6, 192, 392, 230},
      {"p800-est", 345, 0, 96, 2.0, 64, 400, 0},
  };
  for (const Published& p : table) {
    ChipSpec chip = preset(p.chip);
    ChipFigures f = chip_figures(chip);
    expect_within(f.bf16_flops_per_s / 1e12, p.bf16_tflops, 0.02, std::string(p.chip) + " bf16 TFLOPS");
    EXPECT_EQ(f.fp16_flops_per_s, f.bf16_flops_per_s) << p.chip;
    if (p.fp8_tflops > 0) {
      expect_within(f.fp8_flops_per_s / 1e12, p.fp8_tflops, 0.02, std::string(p.chip) + " fp8 TFLOPS");
    } else {
      EXPECT_EQ(f.fp8_flops_per_s, 0) << p.chip;
    }
    expect_within(static_cast<double>(chip.hbm_bytes) / 1e9, p.hbm_gb, 1e-9, std::string(p.chip) + " HBM GB");
    expect_within(f.hbm_bytes_per_s / 1e12, p.hbm_tb_per_s, 1e-9, std::string(p.chip) + " HBM TB/s");
    expect_within(static_cast<double>(chip.l2_bytes) / 1e6, p.l2_mb, 1e-9, std::string(p.chip) + " L2 MB");
    expect_within(f.links_bytes_per_s / 1e9, p.links_gb_per_s, 1e-9, std::string(p.chip) + " links GB/s");
    if (p.ridge > 0) expect_within(f.ridge_flops_per_byte, p.ridge, 0.02, std::string(p.chip) + " ridge point");
  }
}

TEST(Presets, AscendPeakIsWithinTheTwoPublishedFigures) {
  double tflops = chip_figures(preset("ascend910b")).bf16_flops_per_s / 1e12;
  EXPECT_GE(tflops, 363.7 * 0.98);
  EXPECT_LE(tflops, 373.9 * 1.02);
}

TEST(Presets, T1IsTheSpecifiedChip) {
  ChipSpec t1 = preset("t1");
  EXPECT_EQ(t1.cores, 32);
  EXPECT_EQ(t1.clock_hz, 1.6e9);
  EXPECT_EQ(t1.matrix.kind, MatrixKind::systolic);
  EXPECT_EQ(t1.matrix.rows, 64);
  EXPECT_EQ(t1.matrix.cols, 64);
  EXPECT_EQ(t1.matrix.fp8_rate, 2);
  EXPECT_EQ(t1.scratchpad_bytes, 1572864);
  EXPECT_EQ(t1.links, 8);
  EXPECT_EQ(t1.link_bytes_per_s, 100e9);
  ChipFigures f = chip_figures(t1);
  EXPECT_DOUBLE_EQ(f.bf16_flops_per_s, 32.0 * 64 * 64 * 2 * 1.6e9);
  EXPECT_EQ(f.on_chip_bytes, 32 * 1572864LL + 64 * 1048576LL);
  EXPECT_DOUBLE_EQ(f.fp32_vector_flops_per_s, 32.0 * 128 * 2 * 1.6e9);
  EXPECT_GE(t1.scratchpad_bytes, smallest_tile_bytes(t1.matrix));
}

TEST(Presets, ReportShowsTheDerivedFigures) {
  std::string report = chip_report(preset("t1"));
  EXPECT_NE(report.find("peak TFLOPS      bf16 419.4, fp16 419.4, fp8 838.9, fp32 (vector) 13.1\n"),
            std::string::npos) << report;
  EXPECT_NE(report.find("on-chip memory   112 MiB (scratchpads 48 MiB + L2)\n"), std::string::npos) << report;
  EXPECT_NE(report.find("ridge point      104.9 bf16 FLOP per HBM byte\n"), std::string::npos) << report;
  EXPECT_NE(report.find("HBM              96 GB, 4 TB/s (90 % reached by streaming kernels), latency 500 ns\n"),
            std::string::npos) << report;
  std::string a100 = chip_report(preset("a100"));
  EXPECT_NE(a100.find("fp8 -,"), std::string::npos) << a100;
  EXPECT_NE(a100.find("chip-to-chip     12 links x 50 GB/s = 600 GB/s"), std::string::npos) << a100;
}

// The P800's published figures are its peak and its memory; every other value line of the
// file must say that it is an assumption.
TEST(Presets, P800MarksEveryUnpublishedFigureAsAnAssumption) {
  std::ifstream in(testing::presets_dir() + "/p800-est.yaml");
  std::string line;
  int values = 0;
  while (std::getline(in, line)) {
    size_t colon = line.find(':');
    size_t value = colon == std::string::npos ? std::string::npos : line.find_first_not_of(' ', colon + 1);
    if (line.starts_with("#") || value == std::string::npos || line[value] == '#') continue;  // no value
    bool published = line.starts_with("name:") || line.starts_with("description:") ||
                     line.find("capacity:") != std::string::npos;
    if (!published) {
      EXPECT_NE(line.find("# assumption"), std::string::npos) << line;
      ++values;
    }
  }
  EXPECT_GE(values, 15);
}

}  // namespace
}  // namespace tessera::arch
