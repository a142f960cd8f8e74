// Checkpoints resume exactly: a run interrupted and resumed follows the same loss trajectory,
// bit for bit, as an uninterrupted run (text with dropout, and images).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "train/trainer.h"

namespace tessera {
namespace {

std::string temp_dir(const std::string& name) {
  std::string dir = std::string(TESSERA_BINARY_DIR) + "/test-tmp/" + name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

TrainOptions small_gpt_run(const std::string& dir) {
  TrainOptions o;
  o.model = "gpt-mini";
  o.data.dataset = "kjv";
  o.data.tokenizer = "char";
  o.data.batch = 2;
  o.data.seq = 16;
  o.data.data_dir = dir + "/data";
  o.steps = 6;
  o.warmup = 2;
  o.lr = 3e-3f;
  o.dropout = 0.1f;  // exercises the dropout generator's checkpointed position
  o.grad_accum = 2;
  o.eval_batches = 1;
  o.quiet = true;
  return o;
}

TEST(Resume, TextModelWithDropoutResumesBitIdentically) {
  std::string dir = temp_dir("resume-text");
  TrainOptions full = small_gpt_run(dir);
  TrainResult uninterrupted = train(full);
  ASSERT_EQ(uninterrupted.losses.size(), 6u);

  TrainOptions first = small_gpt_run(dir);
  first.checkpoint_dir = dir + "/ckpt";
  first.checkpoint_every = 3;
  first.steps = 6;
  // Stop after step 3 by training a 3-step-long prefix with the same schedule: the schedule
  // depends on the total step count, so the prefix is the full run cut by its checkpoint.
  TrainResult whole = train(first);
  ASSERT_TRUE(std::filesystem::exists(dir + "/ckpt/step-00000003/model.safetensors"));
  std::filesystem::remove_all(dir + "/ckpt/step-00000006");
  { std::ofstream(dir + "/ckpt/latest") << "step-00000003\n"; }

  TrainOptions resumed = small_gpt_run(dir);
  resumed.checkpoint_dir = dir + "/ckpt";
  resumed.resume = true;
  TrainResult after = train(resumed);
  EXPECT_EQ(after.first_step, 3);
  ASSERT_EQ(after.losses.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(after.losses[i], uninterrupted.losses[3 + i]) << "step " << 4 + i;
    EXPECT_EQ(whole.losses[3 + i], uninterrupted.losses[3 + i]) << "checkpointing changed the run at step " << 4 + i;
  }
}

TEST(Resume, ImageModelResumesBitIdentically) {
  std::string dir = temp_dir("resume-image");
  TrainOptions o;
  o.model = "mlp";
  o.data.dataset = "fashion-mnist";
  o.data.batch = 32;
  o.steps = 8;
  o.optimizer = "sgd";
  o.lr = 0.05f;
  o.eval_batches = 1;
  o.quiet = true;
  TrainResult uninterrupted = train(o);

  TrainOptions interrupted = o;
  interrupted.checkpoint_dir = dir + "/ckpt";
  interrupted.checkpoint_every = 5;
  train(interrupted);
  { std::ofstream(dir + "/ckpt/latest") << "step-00000005\n"; }
  TrainOptions resumed = interrupted;
  resumed.resume = true;
  TrainResult after = train(resumed);
  ASSERT_EQ(after.losses.size(), 3u);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(after.losses[i], uninterrupted.losses[5 + i]) << "step " << 6 + i;
}

}  // namespace
}  // namespace tessera
