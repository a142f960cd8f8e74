// Bad chip files: each error names the file, the line and the key, and says what is wrong.
#include <gtest/gtest.h>

#include "arch/chip_loader.h"
#include "arch_test_util.h"

namespace tessera::arch {
namespace {

using testing::error_text;
using testing::write_chip_file;

// A valid chip; the tests below change one line of it. Lines: 1 name, 2 cores, 3 clock,
// 4 matrix, 5 kind, 6 rows, 7 cols, 8 scratchpad, 9 size, 10 bandwidth, 11 hbm, 12 capacity,
// 13 bandwidth.
const std::string kTiny =
    "name: tiny\n"
    "cores: 2\n"
    "clock: 1GHz\n"
    "matrix:\n"
    "  kind: systolic\n"
    "  rows: 16\n"
    "  cols: 16\n"
    "scratchpad:\n"
    "  size: 64KiB\n"
    "  bandwidth: 100GB/s\n"
    "hbm:\n"
    "  capacity: 1GB\n"
    "  bandwidth: 100GB/s\n";

// kTiny with `from` replaced by `to`, written to a file named `name`; returns the path.
std::string tiny_with(const std::string& name, const std::string& from, const std::string& to) {
  std::string text = kTiny;
  size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  text.replace(at, from.size(), to);
  return write_chip_file(name, text);
}

std::string load_error(const std::string& path) {
  return error_text([&] { load_chip_file(path); });
}

TEST(ChipErrors, TheBaseFileIsValid) {
  ChipSpec chip = load_chip_file(write_chip_file("tiny.yaml", kTiny));
  EXPECT_EQ(chip.name, "tiny");
  EXPECT_EQ(chip.matrix.rows, 16);
  EXPECT_EQ(chip.hbm_bytes, 1000000000);
  EXPECT_EQ(chip.set_at.at("hbm.capacity"), chip.source + ":12");
}

TEST(ChipErrors, MalformedYamlNamesLineAndColumn) {
  std::string path = tiny_with("malformed.yaml", "  rows: 16\n", "  rows: [16, 32\n");
  std::string message = load_error(path);
  EXPECT_TRUE(message.starts_with(path + ":7:")) << message;
  EXPECT_NE(message.find(": malformed YAML: "), std::string::npos) << message;
}

TEST(ChipErrors, UnknownKeySuggestsTheClosest) {
  std::string path = tiny_with("unknown.yaml", "  bandwidth: 100GB/s\nhbm", "  bandwith: 100GB/s\nhbm");
  EXPECT_EQ(load_error(path), path + ":10: unknown key 'scratchpad.bandwith' (did you mean 'scratchpad.bandwidth'?)");
  path = tiny_with("unknown_top.yaml", "cores: 2", "coers: 2");
  EXPECT_EQ(load_error(path), path + ":2: unknown key 'coers' (did you mean 'cores'?)");
  path = tiny_with("unknown_section.yaml", "hbm:", "hmb:");
  EXPECT_EQ(load_error(path), path + ":12: unknown key 'hmb.capacity' (did you mean 'hbm.capacity'?)");
}

TEST(ChipErrors, ValueOutOfRange) {
  std::string path = tiny_with("range.yaml", "cores: 2", "cores: 0");
  EXPECT_EQ(load_error(path), path + ":2: cores: '0' is out of range (1 to 1000000)");
  path = tiny_with("range_size.yaml", "size: 64KiB", "size: 2GiB");
  EXPECT_EQ(load_error(path), path + ":9: scratchpad.size: '2GiB' is out of range (1 KiB to 1 GiB)");
}

TEST(ChipErrors, WrongUnit) {
  std::string path =
      tiny_with("unit.yaml", "  capacity: 1GB\n  bandwidth: 100GB/s", "  capacity: 1GB\n  bandwidth: 3.2TB");
  EXPECT_EQ(load_error(path), path + ":13: hbm.bandwidth: '3.2TB' is a size, expected a bandwidth such as 3.2TB/s");
  path = tiny_with("unit_clock.yaml", "clock: 1GHz", "clock: 1.6Gz");
  EXPECT_EQ(load_error(path), path + ":3: clock: '1.6Gz' has an unknown unit 'Gz' (valid: B KB MB GB TB KiB MiB GiB "
                                     "TiB, each also with /s; Hz kHz MHz GHz; s ms us ns)");
}

TEST(ChipErrors, ScratchpadTooSmallForTheSmallestTile) {
  std::string path = tiny_with("tile.yaml", "size: 64KiB", "size: 1KiB");
  EXPECT_EQ(load_error(path), path + ":9: scratchpad.size: 1 KiB is smaller than the smallest tile of the 16x16 "
                                     "systolic engine (2 KiB: two bf16 operand tiles and an fp32 accumulator tile "
                                     "of 16x16)");
}

TEST(ChipErrors, EngineKindMismatches) {
  std::string path = tiny_with("tensor.yaml", "kind: systolic", "kind: tensor_core");
  EXPECT_EQ(load_error(path), path + " (default): matrix.macs_per_cycle: a tensor_core engine needs its MACs per "
                                     "cycle (> 0)");
  path = tiny_with("tensor_dataflow.yaml", "kind: systolic", "kind: tensor_core\n  macs_per_cycle: 64\n  dataflow: os");
  EXPECT_EQ(load_error(path), path + ":7: matrix.dataflow: applies to systolic engines only");
  path = tiny_with("fp8_rate.yaml", "  cols: 16\n", "  cols: 16\n  fp8_rate: 4\n");
  EXPECT_EQ(load_error(path), path + ":8: matrix.fp8_rate: is set but fp8 is not in matrix.dtypes");
  path = tiny_with("no_bf16.yaml", "  cols: 16\n", "  cols: 16\n  dtypes: [fp16]\n");
  EXPECT_EQ(load_error(path), path + ":8: matrix.dtypes: must include bf16");
}

TEST(ChipErrors, MissingLevelBandwidths) {
  std::string path = tiny_with("l2.yaml", "hbm:", "l2:\n  size: 4MiB\nhbm:");
  EXPECT_EQ(load_error(path), path + " (default): l2.bandwidth: must be positive when l2.size is set");
  path = tiny_with("links.yaml", "hbm:", "links:\n  count: 4\nhbm:");
  EXPECT_EQ(load_error(path), path + " (default): links.bandwidth: must be positive when links.count is set");
}

TEST(ChipErrors, MissingRequiredKey) {
  std::string path = tiny_with("missing.yaml", "clock: 1GHz\n", "");
  EXPECT_EQ(load_error(path), path + ": missing required key 'clock' (clock of the matrix engines)");
}

TEST(ChipErrors, StructureMistakes) {
  std::string path = tiny_with("twice.yaml", "clock: 1GHz\n", "clock: 1GHz\nclock: 2GHz\n");
  EXPECT_EQ(load_error(path), path + ":4: clock is set twice (first on line 3)");
  path = tiny_with("section.yaml", "hbm:\n  capacity: 1GB\n  bandwidth: 100GB/s\n", "hbm: 100GB/s\n");
  EXPECT_EQ(load_error(path),
            path + ":11: hbm is a section (hbm.capacity, hbm.bandwidth, hbm.latency, hbm.efficiency), not a value");
  path = tiny_with("map_value.yaml", "cores: 2", "cores:\n  count: 2");
  EXPECT_EQ(load_error(path), path + ":2: cores: expected a value, got a map");
  path = tiny_with("list_value.yaml", "cores: 2", "cores: [1, 2]");
  EXPECT_EQ(load_error(path), path + ":2: cores: expected a single value, got a list");
  path = tiny_with("null.yaml", "cores: 2", "cores:");
  EXPECT_EQ(load_error(path), path + ":2: cores: has no value");
  path = tiny_with("nested_list.yaml", "  cols: 16\n", "  cols: 16\n  dtypes: [[bf16]]\n");
  EXPECT_EQ(load_error(path), path + ":8: matrix.dtypes: expected a list of words");
  path = write_chip_file("list.yaml", "- t1\n- h20\n");
  EXPECT_EQ(load_error(path), path + ": expected a map of chip parameters (see `tessera chips --params`)");
}

TEST(ChipErrors, FileOverridesAreCheckedToo) {
  std::string path = write_chip_file("tiny2.yaml", kTiny);
  std::vector<std::string> overrides = {"matrix.rows=64", "matrix.cols=64", "scratchpad.size=16KiB"};
  EXPECT_EQ(error_text([&] { load_chip_file(path, overrides); }),
            "--set scratchpad.size=16KiB: scratchpad.size: 16 KiB is smaller than the smallest tile of the 64x64 "
            "systolic engine (32 KiB: two bf16 operand tiles and an fp32 accumulator tile of 64x64)");
}

TEST(ChipErrors, UnknownChipListsThePresets) {
  EXPECT_EQ(error_text([] { load_chip("h30", {}, testing::presets_dir()); }),
            "unknown chip 'h30'; presets: a100, ascend910b, h100, h20, h200, p800-est, scalesim-16x16, "
            "scalesim-32x32, scalesim-4x4, scalesim-8x8, t1");
  std::string message = error_text([] { load_chip("no/such/chip.yaml"); });
  EXPECT_NE(message.find("no/such/chip.yaml"), std::string::npos) << message;
}

}  // namespace
}  // namespace tessera::arch
