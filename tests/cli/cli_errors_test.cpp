// The `tessera` program on bad input: a one-line error naming the input and what is wrong,
// exit code 1, and no output file left behind.
#include <gtest/gtest.h>

#include "common/run_tessera.h"

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sys/wait.h>

namespace {

namespace fs = std::filesystem;

using tessera::testing::CommandResult;
using tessera::testing::run_tessera;

std::string temp_dir(const std::string& name) {
  std::string dir = std::string(TESSERA_BINARY_DIR) + "/test-tmp/cli-" + name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

// Exit code 1 and exactly one line "tessera: error: ..." containing `expected`.
void expect_one_line_error(const CommandResult& r, const std::string& expected) {
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_EQ(r.output.rfind("tessera: error: ", 0), 0u) << r.output;
  EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << r.output;
  EXPECT_NE(r.output.find(expected), std::string::npos) << "expected '" << expected << "' in: " << r.output;
}

TEST(CliErrors, UnknownModelListsTheKnownOnes) {
  expect_one_line_error(run_tessera("train --model gpt5 --dataset kjv --steps 1 --quiet"),
                        "unknown model 'gpt5': known models are cnn, gpt-mini, gpt2-1.5b, gpt2-124m");
}

TEST(CliErrors, UnknownDatasetAndTokenizer) {
  expect_one_line_error(run_tessera("train --model gpt-mini --dataset wiki --steps 1 --quiet"),
                        "unknown dataset 'wiki': known datasets are");
  expect_one_line_error(run_tessera("tokenize --tokenizer words hello"), "unknown tokenizer 'words': use char or gpt2");
}

TEST(CliErrors, UnknownOptionIsRefused) {
  CommandResult r = run_tessera("train --modle gpt-mini");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("--modle"), std::string::npos) << r.output;
}

TEST(CliErrors, ModelAndDatasetKindsMustAgree) {
  expect_one_line_error(run_tessera("train --model cnn --dataset kjv --steps 1 --quiet"),
                        "model 'cnn' takes images; dataset 'kjv' is text");
}

TEST(CliErrors, InvalidNumbers) {
  expect_one_line_error(run_tessera("train --model mlp --dataset fashion-mnist --steps 0 --quiet"),
                        "--steps must be at least 1, got 0");
  expect_one_line_error(run_tessera("train --model mlp --dataset fashion-mnist --precision f8 --quiet"),
                        "--precision 'f8' is not supported: use f32 or bf16");
}

TEST(CliErrors, SequenceLongerThanTheContext) {
  expect_one_line_error(run_tessera("train --model gpt-mini --dataset kjv --seq 300 --steps 1 --quiet"),
                        "gpt-mini: sequence length 300 exceeds the block size 256");
}

TEST(CliErrors, UnknownDevice) {
  expect_one_line_error(run_tessera("train --model mlp --dataset fashion-mnist --device tpu --steps 1 --quiet"),
                        "unknown device 'tpu': the registered backends are chip:a100, chip:ascend910b");
  expect_one_line_error(run_tessera("train --model mlp --dataset fashion-mnist --device tpu --steps 1 --quiet"),
                        "chip:t1, cpu, cpu-ref, record");
}

TEST(CliErrors, ResumeWithoutCheckpointAndCorruptCheckpoint) {
  std::string dir = temp_dir("resume");
  expect_one_line_error(run_tessera("train --model mlp --dataset fashion-mnist --steps 2 --quiet --resume --checkpoint-dir " + dir),
                        "--resume: no checkpoint in '" + dir + "'");
  CommandResult ok = run_tessera("train --model mlp --dataset fashion-mnist --steps 1 --batch 8 --eval-batches 1 --quiet --checkpoint-dir " + dir);
  ASSERT_EQ(ok.exit_code, 0) << ok.output;
  std::string weights = dir + "/step-00000001/model.safetensors";
  fs::resize_file(weights, fs::file_size(weights) / 2);
  expect_one_line_error(run_tessera("eval --checkpoint " + dir), weights);
}

TEST(CliErrors, MissingInitialWeightsFileIsNamed) {
  expect_one_line_error(run_tessera("train --model mlp --dataset fashion-mnist --steps 1 --quiet --init /nonexistent/w.safetensors"),
                        "/nonexistent/w.safetensors");
}

TEST(CliErrors, SampleNeedsAGptCheckpoint) {
  std::string dir = temp_dir("sample");
  CommandResult ok = run_tessera("train --model mlp --dataset fashion-mnist --steps 1 --batch 8 --eval-batches 1 --quiet --checkpoint-dir " + dir);
  ASSERT_EQ(ok.exit_code, 0) << ok.output;
  expect_one_line_error(run_tessera("sample --checkpoint " + dir), "holds a mlp model, not a GPT");
}

TEST(Cli, TokenizeReproducesGpt2Ids) {
  CommandResult r = run_tessera("tokenize --tokenizer gpt2 \"Hello world, it's 2026!\"");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  // Ids of the npm package gpt-3-encoder 1.1.4 for this text.
  EXPECT_EQ(r.output, "15496 995 11 340 338 1160 2075 0\n");
}

}  // namespace
