// `tessera tokenize`: the token ids of a text with the char or GPT-2 tokenizer.
#include <cstdio>

#include "base/error.h"
#include "cli/command.h"
#include "data/corpus.h"
#include "train/tokenizer.h"

namespace tessera::cli {

namespace {

const CommandRegistrar kTokenize("tokenize", "print the token ids of a text", [](CLI::App& app) {
  struct Options {
    std::string text, tokenizer = "gpt2", corpus = "kjv";
  };
  auto o = std::make_shared<Options>();
  app.add_option("text", o->text, "the text")->required();
  app.add_option("--tokenizer", o->tokenizer, "gpt2 or char")->capture_default_str();
  app.add_option("--corpus", o->corpus, "corpus whose training text defines the char vocabulary")->capture_default_str();
  return [o] {
    std::string vocabulary_text = o->tokenizer == "char" ? split_train_val(load_corpus(o->corpus)).train : std::string();
    auto tokenizer = make_tokenizer(o->tokenizer, vocabulary_text);
    std::vector<int32_t> ids = tokenizer->encode(o->text);
    std::string line;
    for (size_t i = 0; i < ids.size(); ++i) line += (i ? " " : "") + std::to_string(ids[i]);
    std::printf("%s\n", line.c_str());
  };
});

}  // namespace

}  // namespace tessera::cli
