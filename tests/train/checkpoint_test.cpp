// Checkpoint files: atomic layout, refusal of truncated or corrupted files without loading
// anything, Hugging Face GPT-2 names, and the stop on a non-finite loss.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <cstring>
#include <fmt/format.h>

#include "base/error.h"
#include "common/error_text.h"
#include "data/safetensors.h"
#include "nn/gpt.h"
#include "nn/optimizer.h"
#include "train/checkpoint.h"
#include "train/trainer.h"

namespace tessera {
namespace {

namespace fs = std::filesystem;

std::string temp_dir(const std::string& name) {
  std::string dir = std::string(TESSERA_BINARY_DIR) + "/test-tmp/" + name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

std::unique_ptr<Model> tiny_gpt(uint64_t seed) {
  ModelOptions o;
  o.vocab_size = 32;
  o.block_size = 16;
  o.seed = seed;
  return create_model("gpt-mini", o);
}

using tessera::testing::error_text;

TEST(Checkpoint, SavesHuggingFaceGpt2NamesAndLayout) {
  std::string dir = temp_dir("names");
  auto model = tiny_gpt(1);
  save_weights(dir + "/model.safetensors", *model);
  SafetensorsFile file = read_safetensors(dir + "/model.safetensors");
  ASSERT_NE(file.find("wte.weight"), nullptr);
  EXPECT_EQ(file.find("wte.weight")->shape, (Shape{32, 128}));
  EXPECT_EQ(file.find("wpe.weight")->shape, (Shape{16, 128}));
  EXPECT_EQ(file.find("h.0.attn.c_attn.weight")->shape, (Shape{128, 384}));  // (in, out)
  EXPECT_EQ(file.find("h.3.mlp.c_fc.weight")->shape, (Shape{128, 512}));
  EXPECT_EQ(file.find("h.3.mlp.c_proj.weight")->shape, (Shape{512, 128}));
  EXPECT_EQ(file.find("ln_f.bias")->shape, (Shape{128}));
  EXPECT_EQ(file.tensors.size(), 2u + 4u * 12u + 2u);
}

TEST(Checkpoint, LoadsHuggingFaceFilesWithPrefixAndBuffers) {
  std::string dir = temp_dir("hf");
  auto source = tiny_gpt(1);
  SafetensorsFile file;
  for (const auto& [name, t] : source->named_parameters()) {
    std::vector<float> v = t.to_floats();
    StoredTensor s{"transformer." + name, DType::F32, t.shape(), std::vector<uint8_t>(v.size() * 4)};
    std::memcpy(s.bytes.data(), v.data(), s.bytes.size());
    file.tensors.push_back(s);
  }
  StoredTensor mask{"transformer.h.0.attn.bias", DType::F32, {1, 1, 16, 16}, std::vector<uint8_t>(16 * 16 * 4)};
  file.tensors.push_back(mask);
  write_safetensors(dir + "/hf.safetensors", file);
  auto target = tiny_gpt(2);
  load_weights(dir + "/hf.safetensors", *target);
  EXPECT_EQ(target->named_parameters()[5].second.to_floats(), source->named_parameters()[5].second.to_floats());
}

TEST(Checkpoint, TruncatedOrCorruptedFilesAreRefusedWhole) {
  std::string dir = temp_dir("corrupt");
  auto model = tiny_gpt(1);
  AdamW optimizer(model->named_parameters(), AdamWOptions{});
  std::string folder = save_checkpoint(dir, 7, *model, optimizer, {{"step", 7}, {"model", "gpt-mini"}});
  EXPECT_EQ(folder, dir + "/step-00000007");
  EXPECT_EQ(*latest_checkpoint(dir), folder);
  auto target = tiny_gpt(2);
  std::vector<float> before = target->named_parameters()[0].second.to_floats();

  std::string weights = folder + "/model.safetensors";
  fs::resize_file(weights, fs::file_size(weights) - 100);
  std::string truncated = error_text([&] { load_checkpoint(folder, *target, nullptr); });
  EXPECT_NE(truncated.find(weights), std::string::npos) << truncated;
  EXPECT_EQ(target->named_parameters()[0].second.to_floats(), before) << "a refused checkpoint changed the model";

  save_checkpoint(dir, 7, *model, optimizer, {{"step", 7}, {"model", "gpt-mini"}});
  {
    std::fstream f(weights, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(12);
    f.write("\x01\x02", 2);  // inside the JSON header
  }
  std::string corrupted = error_text([&] { load_checkpoint(folder, *target, nullptr); });
  EXPECT_NE(corrupted.find(weights), std::string::npos) << corrupted;
  EXPECT_EQ(target->named_parameters()[0].second.to_floats(), before);
}

TEST(Checkpoint, WrongShapesAreNamed) {
  std::string dir = temp_dir("shape");
  auto model = tiny_gpt(1);
  save_weights(dir + "/model.safetensors", *model);
  ModelOptions o;
  o.vocab_size = 33;
  o.block_size = 16;
  auto other = create_model("gpt-mini", o);
  std::string m = error_text([&] { load_weights(dir + "/model.safetensors", *other); });
  EXPECT_NE(m.find("tensor 'wte.weight' has shape (32, 128), the model needs (33, 128)"), std::string::npos) << m;
}

TEST(Checkpoint, NoTemporaryFilesRemainAndOnlyTwoCheckpointsAreKept) {
  std::string dir = temp_dir("retention");
  auto model = tiny_gpt(1);
  AdamW optimizer(model->named_parameters(), AdamWOptions{});
  for (int step : {1, 2, 3}) save_checkpoint(dir, step, *model, optimizer, {{"step", step}, {"model", "gpt-mini"}});
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"latest", "step-00000002", "step-00000003"}));
  for (const auto& e : fs::recursive_directory_iterator(dir))
    EXPECT_EQ(e.path().string().find(".tmp"), std::string::npos) << e.path();
}

TEST(Trainer, NonFiniteLossStopsNamingTheStepAndKeepsTheLastGoodCheckpoint) {
  std::string dir = temp_dir("nan");
  TrainOptions o;
  o.model = "mlp";
  o.data.dataset = "fashion-mnist";
  o.data.batch = 16;
  o.optimizer = "sgd";
  o.momentum = 0.0f;
  o.lr = 1e4f;  // diverges within a few steps
  o.clip = 0.0f;
  o.steps = 50;
  o.checkpoint_dir = dir + "/ckpt";
  o.checkpoint_every = 1;
  o.quiet = true;
  std::string m = error_text([&] { train(o); });
  std::smatch match;
  ASSERT_TRUE(std::regex_search(m, match, std::regex("^step (\\d+): the loss is (nan|inf|-nan); training stopped, "
                                                     "the last good checkpoint is (.*)$")))
      << m;
  int step = std::stoi(match[1]);
  std::string last = match[3];
  EXPECT_EQ(last, dir + "/ckpt/step-" + fmt::format("{:08}", step - 1));
  EXPECT_EQ(*latest_checkpoint(dir + "/ckpt"), last);
  EXPECT_EQ(read_trainer_state(last).at("step").get<int>(), step - 1);
}

}  // namespace
}  // namespace tessera
