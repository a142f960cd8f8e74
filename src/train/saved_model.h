// A trained model rebuilt from a checkpoint, for evaluation and sampling: the model (weights
// loaded), its tokenizer for text models, and the trainer state stored beside it.
#pragma once
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "nn/model.h"
#include "train/tokenizer.h"

namespace tessera {

struct SavedModel {
  std::string folder;  // the checkpoint folder that was loaded
  nlohmann::json state;
  std::unique_ptr<Model> model;
  std::unique_ptr<TextTokenizer> tokenizer;  // null for image models
};

// `path` is a checkpoint directory (its latest checkpoint is used) or one checkpoint folder.
SavedModel load_saved_model(const std::string& path, const std::string& device);

// Continues `prompt` by `count` tokens: temperature (> 0) and top-k (0 = all) sampling,
// deterministic for a seed. Returns the generated ids (without the prompt).
std::vector<int32_t> generate(Model& model, std::vector<int32_t> prompt, int64_t count, float temperature,
                              int64_t top_k, uint64_t seed, int64_t block_size);

}  // namespace tessera
