// The parameter table and `--set key=value` overrides.
#include "arch/chip_params.h"

#include <gtest/gtest.h>

#include <set>

#include "arch/chip_figures.h"
#include "arch/chip_loader.h"
#include "arch_test_util.h"

namespace tessera::arch {
namespace {

using testing::error_text;

ChipSpec preset(const std::string& name, std::vector<std::string> overrides = {}) {
  return load_chip(name, overrides, testing::presets_dir());
}

TEST(Params, EveryKeyIsDeclaredOnceWithDocAndAReadableDefault) {
  std::set<std::string> keys;
  for (const ParamSpec& spec : chip_params()) {
    EXPECT_TRUE(keys.insert(spec.key).second) << spec.key;
    EXPECT_FALSE(spec.doc.empty()) << spec.key;
    EXPECT_EQ(find_param(spec.key), &spec);
    EXPECT_EQ(spec.unit().empty(), spec.type != ParamType::quantity) << spec.key;
  }
  for (const char* key : {"name", "cores", "clock", "matrix.kind", "matrix.rows", "matrix.dataflow", "matrix.dtypes",
                          "matrix.fp8_rate", "matrix.macs_per_cycle", "vector.lanes", "vector.ops_per_cycle",
                          "scratchpad.size", "scratchpad.bandwidth", "dma.engines", "l2.size", "l2.bandwidth",
                          "hbm.capacity", "hbm.bandwidth", "hbm.latency", "hbm.efficiency", "links.count",
                          "links.bandwidth", "launch_overhead", "host_link.bandwidth"}) {
    EXPECT_TRUE(keys.count(key)) << key;
  }
  ChipSpec chip = default_chip();  // every default goes through the same reader as a file
  EXPECT_EQ(chip.matrix.dataflow, Dataflow::ws);
  EXPECT_EQ(chip.matrix.fp8_rate, 2);
  EXPECT_EQ(chip.hbm_latency_s, 500e-9);
  EXPECT_EQ(chip.host_link_bytes_per_s, 64e9);  // PCIe 5.0 x16, each direction
  EXPECT_EQ(chip.hbm_efficiency, 1);
  EXPECT_EQ(chip.matrix.dtypes, (std::vector<MatrixDtype>{MatrixDtype::bf16, MatrixDtype::fp16}));
  EXPECT_TRUE(chip.set_at.empty());
}

TEST(Params, MarkdownTableHasARowPerKey) {
  std::string table = params_markdown();
  EXPECT_TRUE(table.starts_with("| key | type | unit | default | doc |\n|---|---|---|---|---|\n"));
  EXPECT_EQ(std::count(table.begin(), table.end(), '\n'), static_cast<long>(chip_params().size()) + 2);
  EXPECT_NE(table.find("| `hbm.bandwidth` | bandwidth | bytes/s | required | off-chip memory bandwidth |\n"),
            std::string::npos);
  EXPECT_NE(table.find("| `matrix.dataflow` | one of os, ws, is |  | ws |"), std::string::npos);
}

TEST(Params, ClosestKeyByEditDistance) {
  EXPECT_EQ(closest_param("hbm.bandwith"), "hbm.bandwidth");
  EXPECT_EQ(closest_param("matrx.dataflow"), "matrix.dataflow");
  EXPECT_EQ(closest_param("core"), "cores");
  EXPECT_EQ(closest_param("l2.sise"), "l2.size");
  EXPECT_EQ(find_param("hbm"), nullptr);
}

TEST(Params, OverridesChangeTheChipAndItsFigures) {
  ChipSpec base = preset("t1");
  ChipSpec chip =
      preset("t1", {"matrix.dataflow=os", "hbm.bandwidth=4TB/s", "cores = 16", "matrix.dtypes=[bf16, fp8]"});
  EXPECT_EQ(base.matrix.dataflow, Dataflow::ws);
  EXPECT_EQ(chip.matrix.dataflow, Dataflow::os);
  EXPECT_EQ(chip.hbm_bytes_per_s, 4e12);
  EXPECT_EQ(chip.cores, 16);
  EXPECT_FALSE(chip.supports(MatrixDtype::fp16));
  EXPECT_TRUE(chip.supports(MatrixDtype::fp8));
  EXPECT_DOUBLE_EQ(chip_figures(chip).bf16_flops_per_s, chip_figures(base).bf16_flops_per_s / 2);
  EXPECT_DOUBLE_EQ(chip_figures(chip).ridge_flops_per_byte, 16.0 * 64 * 64 * 2 * 1.6e9 / 4e12);
  EXPECT_EQ(chip.set_at.at("hbm.bandwidth"), "--set hbm.bandwidth=4TB/s");
  EXPECT_EQ(chip.set_at.at("clock"), testing::presets_dir() + "/t1.yaml:6");
}

TEST(Params, LaterOverridesWin) {
  ChipSpec chip = preset("h100", {"hbm.bandwidth=1TB/s", "hbm.bandwidth=2TB/s"});
  EXPECT_EQ(chip.hbm_bytes_per_s, 2e12);
}

TEST(Params, OverrideErrorsNameTheOption) {
  EXPECT_EQ(error_text([] { preset("t1", {"hbm.bandwith=4TB/s"}); }),
            "--set hbm.bandwith=4TB/s: unknown key 'hbm.bandwith' (did you mean 'hbm.bandwidth'?)");
  EXPECT_EQ(error_text([] { preset("t1", {"hbm.bandwidth"}); }),
            "--set hbm.bandwidth: expected key=value, e.g. hbm.bandwidth=4TB/s");
  EXPECT_EQ(error_text([] { preset("t1", {"=4TB/s"}); }), "--set =4TB/s: expected key=value, e.g. hbm.bandwidth=4TB/s");
  EXPECT_EQ(error_text([] { preset("t1", {"hbm.bandwidth=4TB"}); }),
            "--set hbm.bandwidth=4TB: hbm.bandwidth: '4TB' is a size, expected a bandwidth such as 3.2TB/s");
  EXPECT_EQ(error_text([] { preset("t1", {"cores=0"}); }), "--set cores=0: cores: '0' is out of range (1 to 1000000)");
  EXPECT_EQ(error_text([] { preset("t1", {"cores=2.5"}); }), "--set cores=2.5: cores: '2.5' is not a whole number");
  EXPECT_EQ(error_text([] { preset("t1", {"clock=50GHz"}); }),
            "--set clock=50GHz: clock: '50GHz' is out of range (1 MHz to 20 GHz)");
  EXPECT_EQ(error_text([] { preset("t1", {"matrix.dataflow=rs"}); }),
            "--set matrix.dataflow=rs: matrix.dataflow: 'rs' is not one of os, ws, is");
  EXPECT_EQ(error_text([] { preset("t1", {"matrix.dtypes=bf16,int8"}); }),
            "--set matrix.dtypes=bf16,int8: matrix.dtypes: 'int8' is not one of bf16, fp16, fp8");
  EXPECT_EQ(error_text([] { preset("t1", {"matrix.dtypes=bf16,bf16"}); }),
            "--set matrix.dtypes=bf16,bf16: matrix.dtypes: 'bf16' is listed twice");
  EXPECT_EQ(error_text([] { preset("t1", {"scratchpad.size=1.5B"}); }),
            "--set scratchpad.size=1.5B: scratchpad.size: '1.5B' is not a whole number of bytes");
  EXPECT_EQ(error_text([] { preset("t1", {"name=T1"}); }),
            "--set name=T1: name: 'T1' is not a valid name (lower-case letters, digits, '.', '-', '_')");
}

TEST(Params, OverridesAreCheckedAgainstTheWholeChip) {
  EXPECT_EQ(error_text([] { preset("h20", {"matrix.dataflow=os"}); }),
            "--set matrix.dataflow=os: matrix.dataflow: applies to systolic engines only");
  EXPECT_EQ(error_text([] { preset("t1", {"matrix.sustained_rate=0.9"}); }),
            "--set matrix.sustained_rate=0.9: matrix.sustained_rate: applies to tensor_core engines only");
  EXPECT_EQ(error_text([] { preset("t1", {"scratchpad.size=16KiB"}); }),
            "--set scratchpad.size=16KiB: scratchpad.size: 16 KiB is smaller than the smallest tile of the 64x64 "
            "systolic engine (32 KiB: two bf16 operand tiles and an fp32 accumulator tile of 64x64)");
  EXPECT_EQ(error_text([] { preset("t1", {"matrix.dtypes=fp16,fp8"}); }),
            "--set matrix.dtypes=fp16,fp8: matrix.dtypes: must include bf16");
  EXPECT_EQ(error_text([] { preset("a100", {"matrix.fp8_rate=4"}); }),
            "--set matrix.fp8_rate=4: matrix.fp8_rate: is set but fp8 is not in matrix.dtypes");
  EXPECT_EQ(error_text([] { preset("t1", {"matrix.macs_per_cycle=100"}); }),
            "--set matrix.macs_per_cycle=100: matrix.macs_per_cycle: applies to tensor_core engines; a systolic "
            "engine does rows x cols = 4096 MACs per cycle");
  // A larger array needs a larger tile: 128 x 128 fits in 1.5 MiB, 512 x 512 (2 MiB) does not,
  // and the error names the line that set the scratchpad.
  EXPECT_EQ(preset("t1", {"matrix.rows=128", "matrix.cols=128"}).matrix.rows, 128);
  EXPECT_EQ(error_text([] { preset("t1", {"matrix.rows=512", "matrix.cols=512"}); }),
            testing::presets_dir() +
                "/t1.yaml:19: scratchpad.size: 1.5 MiB is smaller than the smallest tile of the 512x512 systolic "
                "engine (2 MiB: two bf16 operand tiles and an fp32 accumulator tile of 512x512)");
}

}  // namespace
}  // namespace tessera::arch
