// Character tokenizer: vocabulary, round trip, JSON persistence and error messages.
#include "data/char_tokenizer.h"

#include <gtest/gtest.h>

#include "base/error.h"
#include "test_files.h"

namespace tessera {
namespace {

TEST(CharTokenizer, VocabularyIsSortedDistinctBytes) {
  CharTokenizer tokenizer = CharTokenizer::from_text("hello, world\n");
  EXPECT_EQ(tokenizer.bytes(),
            (std::vector<uint8_t>{'\n', ' ', ',', 'd', 'e', 'h', 'l', 'o', 'r', 'w'}));
  EXPECT_EQ(tokenizer.vocab_size(), 10);
  EXPECT_EQ(tokenizer.encode("hold"), (std::vector<int32_t>{5, 7, 6, 3}));
}

TEST(CharTokenizer, RoundTripsUtf8Text) {
  std::string text = "Καλημέρα κόσμε, здравствуй мир! 你好 \xf0\x9f\x98\x80\n";
  CharTokenizer tokenizer = CharTokenizer::from_text(text);
  std::vector<int32_t> ids = tokenizer.encode(text);
  EXPECT_EQ(ids.size(), text.size());
  EXPECT_EQ(tokenizer.decode(ids), text);
}

TEST(CharTokenizer, SaveAndLoadGiveTheSameVocabulary) {
  auto path = (testing::fresh_dir("char_tok") / "vocab.json").string();
  CharTokenizer original = CharTokenizer::from_text("The quick brown fox \xc3\xa9\t");
  original.save(path);
  CharTokenizer loaded = CharTokenizer::load(path);
  EXPECT_EQ(loaded.bytes(), original.bytes());
  EXPECT_EQ(loaded.encode("quick \xc3\xa9"), original.encode("quick \xc3\xa9"));
}

TEST(CharTokenizer, UnknownCharacterNamesItAndItsPosition) {
  CharTokenizer tokenizer = CharTokenizer::from_text("abc");
  EXPECT_ERROR_WITH(tokenizer.encode("abcQ"),
                    "character 'Q' (0x51) at byte 3 is not in the vocabulary of 3 characters");
  EXPECT_ERROR_WITH(tokenizer.encode("a\n"), "character 0x0a at byte 1");
  EXPECT_ERROR_WITH(tokenizer.decode(std::vector<int32_t>{0, 3}),
                    "id 3 at position 1 is outside the vocabulary [0, 3)");
  EXPECT_ERROR_WITH(CharTokenizer::from_text(""), "training text is empty");
}

TEST(CharTokenizer, LoadRejectsMalformedFiles) {
  auto dir = testing::fresh_dir("char_tok_bad");
  auto check = [&](const std::string& content, const char* message) {
    testing::write_bytes(dir / "v.json", content);
    EXPECT_ERROR_WITH(CharTokenizer::load((dir / "v.json").string()), "v.json", message);
  };
  check("{not json", "not valid JSON");
  check(R"({"format": "other", "version": 1, "bytes": [1]})",
        "\"format\" must be \"tessera-char-tokenizer\"");
  check(R"({"format": "tessera-char-tokenizer", "version": 2, "bytes": [1]})",
        "version 2 is not supported");
  check(R"({"format": "tessera-char-tokenizer", "version": 1, "bytes": []})",
        "\"bytes\" must be a non-empty list");
  check(R"({"format": "tessera-char-tokenizer", "version": 1, "bytes": [1, 256]})",
        "bytes[1] = 256 is not a byte value");
  check(R"({"format": "tessera-char-tokenizer", "version": 1, "bytes": [5, 5]})",
        "bytes[1] = 5 is not above the previous byte");
  EXPECT_ERROR_WITH(CharTokenizer::load((dir / "absent.json").string()), "absent.json",
                    "cannot read");
}

}  // namespace
}  // namespace tessera
