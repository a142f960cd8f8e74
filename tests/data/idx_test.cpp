// IDX reader: a round trip through a gzip file written here with zlib, and every malformed case.
#include "data/idx.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include "base/error.h"
#include "test_files.h"

namespace tessera {
namespace {

using testing::fresh_dir;

// Big-endian header for u8 data of the given dims, followed by `payload`.
std::string idx_bytes(uint8_t type, const std::vector<uint32_t>& dims, const std::string& payload) {
  std::string bytes = {0, 0, static_cast<char>(type), static_cast<char>(dims.size())};
  for (uint32_t d : dims) {
    for (int shift = 24; shift >= 0; shift -= 8) bytes.push_back(static_cast<char>(d >> shift));
  }
  return bytes + payload;
}

std::string write_gz(const std::string& name, const std::string& bytes) {
  std::string path = (fresh_dir("idx_" + name) / (name + ".gz")).string();
  gzFile file = gzopen(path.c_str(), "wb");
  EXPECT_NE(file, nullptr);
  EXPECT_EQ(gzwrite(file, bytes.data(), static_cast<unsigned>(bytes.size())),
            static_cast<int>(bytes.size()));
  gzclose(file);
  return path;
}

std::string counting_payload(size_t n) {
  std::string payload(n, 0);
  for (size_t i = 0; i < n; ++i) payload[i] = static_cast<char>(i * 7 % 256);
  return payload;
}

TEST(Idx, RoundTripImagesAndLabels) {
  std::string payload = counting_payload(3 * 4 * 5);
  IdxArray images = read_idx_gz(write_gz("images", idx_bytes(0x08, {3, 4, 5}, payload)), 3);
  EXPECT_EQ(images.dims, (std::vector<int64_t>{3, 4, 5}));
  ASSERT_EQ(images.data.size(), payload.size());
  for (size_t i = 0; i < payload.size(); ++i)
    EXPECT_EQ(images.data[i], static_cast<uint8_t>(payload[i]));

  IdxArray labels = read_idx_gz(
      write_gz("labels", idx_bytes(0x08, {6}, std::string("\x01\x02\x03\x09\x00\x05", 6))), 1);
  EXPECT_EQ(labels.dims, (std::vector<int64_t>{6}));
  EXPECT_EQ(labels.data, (std::vector<uint8_t>{1, 2, 3, 9, 0, 5}));
}

TEST(Idx, MissingFile) {
  std::string path = (fresh_dir("idx_missing") / "absent.gz").string();
  EXPECT_ERROR_WITH(read_idx_gz(path, 1), "absent.gz", "cannot open");
}

TEST(Idx, BadMagic) {
  std::string bytes = idx_bytes(0x08, {2}, "ab");
  bytes[0] = 0x1f;
  EXPECT_ERROR_WITH(read_idx_gz(write_gz("magic", bytes), 1), "magic.gz", "bad magic 0x1f000801");
}

TEST(Idx, UnsupportedElementType) {
  EXPECT_ERROR_WITH(read_idx_gz(write_gz("type", idx_bytes(0x0D, {2}, "abcdefgh")), 1), "type.gz",
                    "element type 0x0d is not supported");
}

TEST(Idx, WrongRank) {
  EXPECT_ERROR_WITH(read_idx_gz(write_gz("rank", idx_bytes(0x08, {2, 2}, "abcd")), 3), "rank.gz",
                    "rank 2 but expected rank 3", "0x00000803");
}

TEST(Idx, TruncatedHeader) {
  EXPECT_ERROR_WITH(read_idx_gz(write_gz("short_magic", std::string("\0\0", 2)), 1),
                    "short_magic.gz", "truncated in the magic number");
  std::string bytes = idx_bytes(0x08, {3, 4, 5}, "");
  EXPECT_ERROR_WITH(read_idx_gz(write_gz("short_dims", bytes.substr(0, 10)), 3), "short_dims.gz",
                    "truncated in the dimensions");
}

TEST(Idx, TruncatedData) {
  EXPECT_ERROR_WITH(
      read_idx_gz(write_gz("short_data", idx_bytes(0x08, {3, 4}, counting_payload(11))), 2),
      "short_data.gz", "truncated data: 11 bytes but the dimensions need 12");
}

TEST(Idx, DataLongerThanDims) {
  EXPECT_ERROR_WITH(read_idx_gz(write_gz("long_data", idx_bytes(0x08, {3}, "abcd")), 1),
                    "long_data.gz", "data longer than the dimensions say (3 bytes expected)");
}

TEST(Idx, ZeroDimension) {
  EXPECT_ERROR_WITH(read_idx_gz(write_gz("zero", idx_bytes(0x08, {4, 0}, "")), 2), "zero.gz",
                    "dimension 1 is zero");
}

TEST(Idx, CorruptCompressedStream) {
  std::string path = write_gz("corrupt", idx_bytes(0x08, {64}, counting_payload(64)));
  std::string bytes = testing::read_bytes(path);
  for (size_t i = 12; i < bytes.size() - 8; ++i) bytes[i] = static_cast<char>(0xff);
  testing::write_bytes(path, bytes);
  EXPECT_ERROR_WITH(read_idx_gz(path, 1), "corrupt.gz", "IDX file");
}

}  // namespace
}  // namespace tessera
