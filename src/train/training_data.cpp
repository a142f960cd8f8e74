// Text and image training data (see training_data.h).
#include "train/training_data.h"

#include <filesystem>
#include <fmt/format.h>

#include "base/error.h"
#include "data/corpus.h"
#include "data/fashion_mnist.h"
#include "data/lm_batches.h"
#include "data/shuffled_batches.h"
#include "data/token_file.h"

namespace tessera {

namespace {

class TextData : public TrainingData {
 public:
  TextData(const DataOptions& options, const nlohmann::json& tokenizer_json) : options_(options) {
    std::string text = load_corpus(options.dataset);
    TextSplit split = split_train_val(text, 0.1);
    tokenizer_ = tokenizer_json.is_null() ? make_tokenizer(options.tokenizer, split.train)
                                          : tokenizer_from_json(tokenizer_json);
    train_ = cached_tokens("train", split.train);
    val_ = cached_tokens("val", split.val);
    sampler_ = std::make_unique<LmSampler>(train_, options.batch, options.seq, SamplerPosition{options.seed, 0});
  }

  Batch next_train_batch() override { return to_batch(sampler_->next()); }

  int64_t eval_batch_count() const override {
    return tessera::eval_batch_count(static_cast<int64_t>(val_.size()), eval_batch(), options_.seq);
  }

  Batch eval_batch(int64_t index) const override {
    return to_batch(tessera::eval_batch(val_, eval_batch(), options_.seq, index));
  }

  nlohmann::json position() const override {
    return {{"seed", sampler_->state().seed}, {"position", sampler_->state().position}};
  }

  void restore_position(const nlohmann::json& p) override {
    SamplerPosition state{p.at("seed").get<uint64_t>(), p.at("position").get<int64_t>()};
    sampler_ = std::make_unique<LmSampler>(train_, options_.batch, options_.seq, state);
  }

  const char* item_unit() const override { return "tokens"; }

  std::string describe() const override {
    return fmt::format("corpus '{}' with the {} tokenizer (vocabulary {}): {} training and {} validation tokens",
                       options_.dataset, options_.tokenizer, tokenizer_->vocab_size(), train_.size(), val_.size());
  }

  const TextTokenizer& tokenizer() const { return *tokenizer_; }

 private:
  int64_t eval_batch() const { return options_.eval_batch > 0 ? options_.eval_batch : options_.batch; }

  // Tokens of one split, cached as a token file keyed by corpus, tokenizer and vocabulary.
  std::vector<int32_t> cached_tokens(const char* split, const std::string& text) const {
    std::string path = fmt::format("{}/{}-{}-{}.{}.tok", options_.data_dir, options_.dataset,
                                   options_.tokenizer, tokenizer_->vocab_size(), split);
    if (std::filesystem::exists(path)) {
      TokenFile file = read_token_file(path);
      if (file.vocab_size == tokenizer_->vocab_size()) return file.tokens;
    }
    std::vector<int32_t> tokens = tokenizer_->encode(text);
    std::filesystem::create_directories(options_.data_dir);
    write_token_file(path, tokens, tokenizer_->vocab_size());
    return tokens;
  }

  Batch to_batch(const LmBatch& b) const {
    Batch out;
    out.inputs = Tensor::from_ints(b.inputs, {b.batch, b.seq}, DType::I64, options_.device);
    out.targets = Tensor::from_ints(b.targets, {b.batch * b.seq}, DType::I64, options_.device);
    out.items = b.batch * b.seq;
    return out;
  }

  DataOptions options_;
  std::unique_ptr<TextTokenizer> tokenizer_;
  std::vector<int32_t> train_, val_;
  std::unique_ptr<LmSampler> sampler_;
};

class ImageData : public TrainingData {
 public:
  explicit ImageData(const DataOptions& options)
      : options_(options),
        train_(load_fashion_mnist(Split::Train, true)),
        test_(load_fashion_mnist(Split::Test, true)),
        batches_(train_.count, options.batch, EpochPosition{options.seed, 0, 0}) {}

  Batch next_train_batch() override {
    std::vector<int64_t> indices = batches_.next();
    return to_batch(gather_images(train_, indices));
  }

  int64_t eval_batch_count() const override { return (test_.count + eval_batch() - 1) / eval_batch(); }

  Batch eval_batch(int64_t index) const override {
    std::vector<int64_t> indices;
    for (int64_t i = index * eval_batch(); i < std::min(test_.count, (index + 1) * eval_batch()); ++i)
      indices.push_back(i);
    return to_batch(gather_images(test_, indices));
  }

  nlohmann::json position() const override {
    const EpochPosition& s = batches_.state();
    return {{"seed", s.seed}, {"epoch", s.epoch}, {"position", s.position}};
  }

  void restore_position(const nlohmann::json& p) override {
    EpochPosition s{p.at("seed").get<uint64_t>(), p.at("epoch").get<int64_t>(), p.at("position").get<int64_t>()};
    batches_ = ShuffledBatches(train_.count, options_.batch, s);
  }

  const char* item_unit() const override { return "images"; }

  std::string describe() const override {
    return fmt::format("Fashion-MNIST: {} training and {} test images", train_.count, test_.count);
  }

 private:
  int64_t eval_batch() const { return options_.eval_batch > 0 ? options_.eval_batch : std::max<int64_t>(options_.batch, 500); }

  Batch to_batch(const ImageBatch& b) const {
    Batch out;
    out.inputs = Tensor::from_floats(b.images, {b.size, 1, 28, 28}, DType::F32, options_.device);
    out.targets = Tensor::from_ints(b.labels, {b.size}, DType::I64, options_.device);
    out.items = b.size;
    return out;
  }

  DataOptions options_;
  ImageDataset train_, test_;
  ShuffledBatches batches_;
};

}  // namespace

std::vector<std::string> dataset_names() {
  std::vector<std::string> names = corpus_names();
  names.push_back("fashion-mnist");
  return names;
}

std::unique_ptr<TrainingData> open_training_data(const DataOptions& options, const nlohmann::json& tokenizer_json) {
  if (options.batch < 1) fail("--batch must be at least 1, got {}", options.batch);
  if (options.dataset == "fashion-mnist") return std::make_unique<ImageData>(options);
  for (const std::string& name : corpus_names())
    if (name == options.dataset) {
      if (options.seq < 1) fail("--seq must be at least 1, got {}", options.seq);
      return std::make_unique<TextData>(options, tokenizer_json);
    }
  std::string known;
  for (const std::string& n : dataset_names()) known += (known.empty() ? "" : ", ") + n;
  fail("unknown dataset '{}': known datasets are {}", options.dataset, known);
}

const TextTokenizer* data_tokenizer(const TrainingData& data) {
  auto* text = dynamic_cast<const TextData*>(&data);
  return text ? &text->tokenizer() : nullptr;
}

}  // namespace tessera
