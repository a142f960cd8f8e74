// Token files: round trips in both widths, and every corruption the reader must catch.
#include "data/token_file.h"

#include <gtest/gtest.h>

#include "base/error.h"
#include "test_files.h"

namespace tessera {
namespace {

std::string path_in(const std::string& dir, const std::string& name) {
  return (testing::fresh_dir(dir) / name).string();
}

TEST(TokenFile, RoundTripNarrowTokens) {
  std::string path = path_in("tok_narrow", "train.tok");
  std::vector<int32_t> tokens = {0, 5, 64, 3, 64, 1};
  write_token_file(path, tokens, 65);
  std::string bytes = testing::read_bytes(path);
  ASSERT_EQ(bytes.size(), kTokenFileHeaderBytes + 2 * tokens.size());
  EXPECT_EQ(bytes.substr(0, 5), "TSTOK");
  EXPECT_EQ(bytes[5], 1);                                                 // version
  EXPECT_EQ(bytes[6], 2);                                                 // u16
  EXPECT_EQ(static_cast<uint8_t>(bytes[8]), 65);                          // vocab, little-endian
  EXPECT_EQ(static_cast<uint8_t>(bytes[12]), 6);                          // count
  EXPECT_EQ(static_cast<uint8_t>(bytes[kTokenFileHeaderBytes + 4]), 64);  // third token
  TokenFile file = read_token_file(path);
  EXPECT_EQ(file.vocab_size, 65);
  EXPECT_EQ(file.tokens, tokens);
  auto entries = std::filesystem::directory_iterator(std::filesystem::path(path).parent_path());
  EXPECT_EQ(std::distance(begin(entries), end(entries)), 1);  // no temporary file left behind
}

TEST(TokenFile, RoundTripWideTokens) {
  std::string path = path_in("tok_wide", "big.tok");
  std::vector<int32_t> tokens = {70000, 0, 65535, 65536, 99999};
  write_token_file(path, tokens, 100000);
  EXPECT_EQ(testing::read_bytes(path).size(), kTokenFileHeaderBytes + 4 * tokens.size());
  TokenFile file = read_token_file(path);
  EXPECT_EQ(file.vocab_size, 100000);
  EXPECT_EQ(file.tokens, tokens);
}

TEST(TokenFile, GptVocabularyFitsSixteenBits) {
  std::string path = path_in("tok_gpt", "gpt.tok");
  write_token_file(path, std::vector<int32_t>{50256, 0}, 50257);
  EXPECT_EQ(testing::read_bytes(path)[6], 2);
  EXPECT_EQ(read_token_file(path).tokens, (std::vector<int32_t>{50256, 0}));
}

TEST(TokenFile, WriterRejectsOutOfRangeTokens) {
  std::string path = path_in("tok_bad_write", "x.tok");
  EXPECT_ERROR_WITH(write_token_file(path, std::vector<int32_t>{1, 2, 10}, 10), "x.tok",
                    "token 10 at position 2 is outside the vocabulary [0, 10)");
  EXPECT_ERROR_WITH(write_token_file(path, std::vector<int32_t>{1}, 0), "vocabulary size 0");
  EXPECT_FALSE(std::filesystem::exists(path));
}

class CorruptTokenFile : public ::testing::Test {
 protected:
  void SetUp() override {
    // One folder per test: ctest may run them in parallel.
    path_ = path_in(std::string("tok_corrupt_") +
                        ::testing::UnitTest::GetInstance()->current_test_info()->name(),
                    "c.tok");
    write_token_file(path_, std::vector<int32_t>{1, 2, 3, 4}, 10);
    bytes_ = testing::read_bytes(path_);
  }
  void rewrite() { testing::write_bytes(path_, bytes_); }
  std::string path_, bytes_;
};

TEST_F(CorruptTokenFile, Missing) {
  std::filesystem::remove(path_);
  EXPECT_ERROR_WITH(read_token_file(path_), "c.tok", "cannot read");
}

TEST_F(CorruptTokenFile, ShortHeader) {
  bytes_.resize(12);
  rewrite();
  EXPECT_ERROR_WITH(read_token_file(path_), "c.tok", "12 bytes is shorter than the 20-byte header");
}

TEST_F(CorruptTokenFile, BadMagic) {
  bytes_[0] = 'X';
  rewrite();
  EXPECT_ERROR_WITH(read_token_file(path_), "c.tok", "bad magic");
}

TEST_F(CorruptTokenFile, UnknownVersion) {
  bytes_[5] = 7;
  rewrite();
  EXPECT_ERROR_WITH(read_token_file(path_), "c.tok", "version 7 is not supported (expected 1)");
}

TEST_F(CorruptTokenFile, BadWidth) {
  bytes_[6] = 3;
  rewrite();
  EXPECT_ERROR_WITH(read_token_file(path_), "c.tok", "token width 3 must be 2 or 4");
}

TEST_F(CorruptTokenFile, ZeroVocabulary) {
  bytes_[8] = 0;
  rewrite();
  EXPECT_ERROR_WITH(read_token_file(path_), "c.tok", "vocabulary size 0");
}

TEST_F(CorruptTokenFile, Truncated) {
  bytes_.pop_back();
  rewrite();
  EXPECT_ERROR_WITH(read_token_file(path_), "c.tok",
                    "header says 4 tokens of 2 bytes but 7 bytes follow it");
}

TEST_F(CorruptTokenFile, TrailingBytes) {
  bytes_ += "xy";
  rewrite();
  EXPECT_ERROR_WITH(read_token_file(path_), "header says 4 tokens of 2 bytes but 10 bytes");
}

TEST_F(CorruptTokenFile, HugeCount) {
  bytes_[19] = static_cast<char>(0x80);
  rewrite();
  EXPECT_ERROR_WITH(read_token_file(path_), "c.tok", "but 8 bytes follow it");
}

TEST_F(CorruptTokenFile, OutOfRangeIdNamesItsPosition) {
  bytes_[kTokenFileHeaderBytes + 2 * 2] = 10;     // third token: 3 -> 10
  bytes_[kTokenFileHeaderBytes + 2 * 3 + 1] = 1;  // fourth token: 4 -> 260
  rewrite();
  EXPECT_ERROR_WITH(read_token_file(path_), "c.tok",
                    "token 10 at position 2 is outside the vocabulary [0, 10)");
}

}  // namespace
}  // namespace tessera
