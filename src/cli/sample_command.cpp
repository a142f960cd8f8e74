// `tessera sample`: text from a GPT checkpoint.
#include <algorithm>
#include <cstdio>

#include "base/error.h"
#include "cli/command.h"
#include "nn/gpt.h"
#include "train/saved_model.h"

namespace tessera::cli {

namespace {

const CommandRegistrar kSample("sample", "generate text from a GPT checkpoint", [](CLI::App& app) {
  struct Options {
    std::string checkpoint, prompt = "\n", device = "cpu";
    int64_t tokens = 200, top_k = 40;
    float temperature = 0.8f;
    uint64_t seed = 1;
  };
  auto o = std::make_shared<Options>();
  app.add_option("--checkpoint", o->checkpoint, "checkpoint directory or folder")->required();
  app.add_option("--prompt", o->prompt, "text to continue");
  app.add_option("--tokens", o->tokens, "tokens to generate")->capture_default_str();
  app.add_option("--temperature", o->temperature, "sampling temperature")->capture_default_str();
  app.add_option("--top-k", o->top_k, "sample among the k likeliest tokens (0 = all)")->capture_default_str();
  app.add_option("--seed", o->seed, "random seed")->capture_default_str();
  app.add_option("--device", o->device, "backend")->capture_default_str();
  return [o] {
    SavedModel saved = load_saved_model(o->checkpoint, o->device);
    auto* gpt = dynamic_cast<Gpt*>(saved.model.get());
    if (!gpt || !saved.tokenizer) fail("--checkpoint '{}' holds a {} model, not a GPT", o->checkpoint, saved.state.at("model").get<std::string>());
    if (o->tokens < 0) fail("--tokens must not be negative, got {}", o->tokens);
    std::vector<int32_t> prompt = saved.tokenizer->encode(o->prompt);
    // The context window is the sequence length the model was trained on: positions beyond it
    // have untrained position embeddings.
    int64_t window = std::min(gpt->config().block_size, saved.state.value("seq", gpt->config().block_size));
    std::vector<int32_t> out = generate(*gpt, prompt, o->tokens, o->temperature, o->top_k, o->seed, window);
    std::printf("%s%s\n", o->prompt.c_str(), saved.tokenizer->decode(out).c_str());
  };
});

}  // namespace

}  // namespace tessera::cli
