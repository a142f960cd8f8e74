// The data a training run consumes, behind one interface: token windows from a text corpus,
// or shuffled Fashion-MNIST batches. The position in the data is part of a checkpoint.
#pragma once
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "tensor/tensor.h"
#include "train/tokenizer.h"

namespace tessera {

struct Batch {
  Tensor inputs;   // tokens (B, T) I64 or images (B, 1, 28, 28) F32
  Tensor targets;  // (B*T) or (B) I64
  int64_t items = 0;  // tokens or images in the batch
};

class TrainingData {
 public:
  virtual ~TrainingData() = default;
  virtual Batch next_train_batch() = 0;
  virtual int64_t eval_batch_count() const = 0;
  virtual Batch eval_batch(int64_t index) const = 0;
  virtual nlohmann::json position() const = 0;  // checkpointed
  virtual void restore_position(const nlohmann::json& position) = 0;
  virtual const char* item_unit() const = 0;  // "tokens" or "images"
  virtual std::string describe() const = 0;
};

struct DataOptions {
  std::string dataset;          // a corpus name ("kjv", "fortunes") or "fashion-mnist"
  std::string tokenizer = "char";  // text only: "char" or "gpt2"
  std::string data_dir = "data";   // where prepared token files are cached
  std::string device = "cpu";
  int64_t batch = 8;
  int64_t seq = 64;                // text only
  uint64_t seed = 1337;
  int64_t eval_batch = 0;          // 0 = batch
};

// Text data also provides its tokenizer; `tokenizer_json` (from a checkpoint) overrides the
// one built from the corpus so that a resumed run uses the same vocabulary.
std::unique_ptr<TrainingData> open_training_data(const DataOptions& options,
                                                 const nlohmann::json& tokenizer_json = {});
// The tokenizer of text data (nullptr for image data).
const TextTokenizer* data_tokenizer(const TrainingData& data);
std::vector<std::string> dataset_names();

}  // namespace tessera
