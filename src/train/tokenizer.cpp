// The char and GPT-2 BPE tokenizers behind TextTokenizer (see tokenizer.h).
#include "train/tokenizer.h"

#include "base/error.h"
#include "data/bpe_tokenizer.h"
#include "data/char_tokenizer.h"

namespace tessera {

namespace {

class CharText : public TextTokenizer {
 public:
  explicit CharText(CharTokenizer tokenizer) : tokenizer_(std::move(tokenizer)) {}
  std::vector<int32_t> encode(std::string_view text) const override { return tokenizer_.encode(text); }
  std::string decode(std::span<const int32_t> ids) const override { return tokenizer_.decode(ids); }
  int64_t vocab_size() const override { return tokenizer_.vocab_size(); }
  nlohmann::json to_json() const override { return {{"kind", "char"}, {"bytes", tokenizer_.bytes()}}; }

 private:
  CharTokenizer tokenizer_;
};

class Gpt2Text : public TextTokenizer {
 public:
  Gpt2Text() : tokenizer_(BpeTokenizer::load()) {}
  std::vector<int32_t> encode(std::string_view text) const override { return tokenizer_.encode(text); }
  std::string decode(std::span<const int32_t> ids) const override { return tokenizer_.decode(ids); }
  int64_t vocab_size() const override { return tokenizer_.vocab_size(); }
  nlohmann::json to_json() const override { return {{"kind", "gpt2"}}; }

 private:
  BpeTokenizer tokenizer_;
};

}  // namespace

std::unique_ptr<TextTokenizer> make_tokenizer(const std::string& name, std::string_view training_text) {
  if (name == "char") return std::make_unique<CharText>(CharTokenizer::from_text(training_text));
  if (name == "gpt2") return std::make_unique<Gpt2Text>();
  fail("unknown tokenizer '{}': use char or gpt2", name);
}

std::unique_ptr<TextTokenizer> tokenizer_from_json(const nlohmann::json& json) {
  std::string kind = json.value("kind", "");
  if (kind == "gpt2") return std::make_unique<Gpt2Text>();
  if (kind == "char") {
    std::string text;
    for (int byte : json.at("bytes")) text.push_back(static_cast<char>(byte));
    return std::make_unique<CharText>(CharTokenizer::from_text(text));
  }
  fail("checkpoint tokenizer description {} is not recognised", json.dump());
}

}  // namespace tessera
