// safetensors: round trips, the writer's layout, and a precise error for each kind of damage.
#include "data/safetensors.h"

#include <gtest/gtest.h>

#include <cstring>
#include <nlohmann/json.hpp>

#include "base/error.h"
#include "test_files.h"

namespace tessera {
namespace {

using testing::fresh_dir;
using testing::read_bytes;
using testing::write_bytes;

StoredTensor make_tensor(const std::string& name, DType dtype, const Shape& shape) {
  StoredTensor t{name, dtype, shape, std::vector<uint8_t>(numel(shape) * dtype_size(dtype))};
  for (size_t i = 0; i < t.bytes.size(); ++i)
    t.bytes[i] = static_cast<uint8_t>(i * 37 + name.size());
  return t;
}

SafetensorsFile sample_contents() {
  SafetensorsFile file;
  file.tensors.push_back(make_tensor("h.0.attn.c_attn.weight", DType::BF16, {4, 12}));
  file.tensors.push_back(make_tensor("wte.weight", DType::F32, {5, 4}));
  file.tensors.push_back(make_tensor("scale", DType::F8E4M3, {3}));
  file.tensors.push_back(make_tensor("grad_e5m2", DType::F8E5M2, {2, 1}));
  file.tensors.push_back(make_tensor("half", DType::F16, {7}));
  file.tensors.push_back(make_tensor("step", DType::I64, {}));  // a scalar
  file.tensors.push_back(make_tensor("ids", DType::I32, {2, 3}));
  file.tensors.push_back(make_tensor("empty", DType::F32, {0, 4}));
  file.metadata = {{"format", "pt"}, {"note", "ünïcode ✓"}};
  return file;
}

// A file from a header text and a data buffer (the header length is the text's size).
std::string file_bytes(const std::string& header, const std::string& buffer) {
  std::string out(8, '\0');
  uint64_t n = header.size();
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>(n >> (8 * i));
  return out + header + buffer;
}

class SafetensorsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fresh_dir(std::string("safetensors_") +
                     ::testing::UnitTest::GetInstance()->current_test_info()->name());
    path_ = (dir_ / "model.safetensors").string();
  }
  // Writes `bytes` as the file and returns the message of the Error reading it throws.
  std::string read_error(const std::string& bytes) {
    write_bytes(path_, bytes);
    try {
      read_safetensors(path_);
    } catch (const Error& e) {
      return e.what();
    }
    return "(no error)";
  }
  std::string header_error(const std::string& header, const std::string& buffer) {
    return read_error(file_bytes(header, buffer));
  }
  std::filesystem::path dir_;
  std::string path_;
};

TEST_F(SafetensorsTest, RoundTripKeepsEveryTensorAndTheMetadata) {
  SafetensorsFile written = sample_contents();
  write_safetensors(path_, written);
  SafetensorsFile read = read_safetensors(path_);
  EXPECT_EQ(read.metadata, written.metadata);
  ASSERT_EQ(read.tensors.size(), written.tensors.size());
  for (const StoredTensor& want : written.tensors) {
    const StoredTensor* got = read.find(want.name);
    ASSERT_NE(got, nullptr) << want.name;
    EXPECT_EQ(got->dtype, want.dtype) << want.name;
    EXPECT_EQ(got->shape, want.shape) << want.name;
    EXPECT_EQ(got->bytes, want.bytes) << want.name;
  }
  EXPECT_EQ(read.find("missing"), nullptr);
}

TEST_F(SafetensorsTest, WriterLayoutIsPaddedAlignedAndIndependentOfInputOrder) {
  SafetensorsFile contents = sample_contents();
  write_safetensors(path_, contents);
  std::string bytes = read_bytes(path_);
  uint64_t header_bytes = 0;
  std::memcpy(&header_bytes, bytes.data(), 8);
  EXPECT_EQ(header_bytes % 8, 0u);
  std::string text = bytes.substr(8, header_bytes);
  nlohmann::json header = nlohmann::json::parse(text);  // trailing spaces are allowed JSON
  EXPECT_EQ(text.find_last_not_of(' ') + 1, header.dump().size()) << "padding must be spaces";
  EXPECT_EQ(header["__metadata__"]["format"], "pt");
  EXPECT_EQ(header["wte.weight"]["dtype"], "F32");
  EXPECT_EQ(header["wte.weight"]["shape"], nlohmann::json({5, 4}));
  EXPECT_EQ(header["scale"]["dtype"], "F8_E4M3");
  EXPECT_EQ(header["grad_e5m2"]["dtype"], "F8_E5M2");
  EXPECT_EQ(header["step"]["shape"], nlohmann::json::array());
  // Widest element first, then by name: i64 step; f32/i32 empty, ids, wte.weight; ...
  EXPECT_EQ(header["step"]["data_offsets"], nlohmann::json({0, 8}));
  EXPECT_EQ(header["empty"]["data_offsets"], nlohmann::json({8, 8}));
  EXPECT_EQ(header["ids"]["data_offsets"], nlohmann::json({8, 32}));
  EXPECT_EQ(header["wte.weight"]["data_offsets"], nlohmann::json({32, 112}));
  EXPECT_EQ(header["h.0.attn.c_attn.weight"]["data_offsets"], nlohmann::json({112, 208}));
  for (const auto& [name, entry] : header.items()) {
    if (name == "__metadata__") continue;
    uint64_t begin = entry["data_offsets"][0];
    EXPECT_EQ(begin % dtype_size(read_safetensors(path_).find(name)->dtype), 0u) << name;
  }
  // Same contents in another order: the same bytes.
  std::reverse(contents.tensors.begin(), contents.tensors.end());
  std::string other = (dir_ / "reversed.safetensors").string();
  write_safetensors(other, contents);
  EXPECT_EQ(read_bytes(other), bytes);
}

TEST_F(SafetensorsTest, WriterRefusesInconsistentTensors) {
  SafetensorsFile contents = sample_contents();
  contents.tensors.push_back(make_tensor("wte.weight", DType::F32, {1}));
  EXPECT_ERROR_WITH(write_safetensors(path_, contents), "tensor name 'wte.weight' appears twice");
  contents = sample_contents();
  contents.tensors[1].bytes.pop_back();
  EXPECT_ERROR_WITH(write_safetensors(path_, contents),
                    "tensor 'wte.weight' has 79 bytes but shape (5, 4) of f32 needs 80");
  contents = sample_contents();
  contents.tensors[0].name = "__metadata__";
  EXPECT_ERROR_WITH(write_safetensors(path_, contents), "'__metadata__' is not a tensor name");
  EXPECT_FALSE(std::filesystem::exists(path_)) << "a refused write must not create the file";
}

TEST_F(SafetensorsTest, TruncatedFilesAreRefusedWithTheReason) {
  SafetensorsFile contents;
  contents.tensors.push_back(make_tensor("a", DType::F32, {2, 2}));
  contents.tensors.push_back(make_tensor("b", DType::BF16, {3}));
  write_safetensors(path_, contents);
  std::string good = read_bytes(path_);
  uint64_t header_bytes = 0;
  std::memcpy(&header_bytes, good.data(), 8);
  std::string p = path_;
  EXPECT_EQ(read_error(good.substr(0, 0)),
            p + ": file is 0 bytes, too short for the 8-byte header length");
  EXPECT_EQ(read_error(good.substr(0, 5)),
            p + ": file is 5 bytes, too short for the 8-byte header length");
  EXPECT_EQ(read_error(good.substr(0, 8)),
            fmt::format("{}: header length {} goes beyond the end of the file (8 bytes)", p,
                        header_bytes));
  EXPECT_EQ(read_error(good.substr(0, 8 + header_bytes / 2)),
            fmt::format("{}: header length {} goes beyond the end of the file ({} bytes)", p,
                        header_bytes, 8 + header_bytes / 2));
  // Header complete, data cut: the last tensor's range runs past the buffer.
  EXPECT_EQ(read_error(good.substr(0, 8 + header_bytes)),
            p + ": tensor 'a': data_offsets [0, 16] go beyond the data buffer of 0 bytes");
  EXPECT_EQ(read_error(good.substr(0, good.size() - 1)),
            p + ": tensor 'b': data_offsets [16, 22] go beyond the data buffer of 21 bytes");
  // Every shorter length is refused, whatever the reason.
  for (size_t n = 0; n < good.size(); ++n)
    EXPECT_NE(read_error(good.substr(0, n)), "(no error)") << n;
  EXPECT_EQ(read_error(good + "xyz"), p + ": 3 trailing bytes after the last tensor's data (the "
                                          "buffer has 25 bytes, the tensors cover 22)");
}

TEST_F(SafetensorsTest, DamagedHeaderLengthAndJson) {
  std::string p = path_;
  std::string huge = file_bytes("{}", "");
  huge[7] = '\x01';  // header length 2^56 + 2
  EXPECT_EQ(read_error(huge),
            p + ": header length 72057594037927938 goes beyond the end of the file (10 bytes)");
  EXPECT_EQ(header_error("{\"a\": {\"dtype\": \"F32\", ", "")
                .rfind(p + ": header is not valid JSON: ", 0),
            0u);
  EXPECT_EQ(header_error("[1, 2]  ", ""), p + ": header must be a JSON object, got array");
  EXPECT_EQ(header_error("{\"a\":1,\"a\":2}", ""), p + ": header repeats the key 'a'");
  std::string bad_utf8 = header_error("{\"\xff\": 1}", "");
  EXPECT_EQ(bad_utf8.rfind(p + ": header is not valid JSON: ", 0), 0u) << bad_utf8;
  // An empty header is a valid file with no tensors.
  write_bytes(path_, file_bytes("{}      ", ""));
  EXPECT_TRUE(read_safetensors(path_).tensors.empty());
}

TEST_F(SafetensorsTest, BadEntriesNameTheTensorAndTheProblem) {
  std::string p = path_ + ": tensor 'w': ";
  std::string buf(16, 'x');
  auto error = [&](const std::string& entry) { return header_error("{\"w\":" + entry + "}", buf); };
  EXPECT_EQ(error(R"({"dtype":"F32","shape":[4]})"), p + "missing key 'data_offsets'");
  EXPECT_EQ(error(R"({"shape":[4],"data_offsets":[0,16]})"), p + "missing key 'dtype'");
  EXPECT_EQ(error(R"({"dtype":"F32","shape":[4],"data_offsets":[0,16],"strides":[1]})"),
            p + "unknown key 'strides' (expected dtype, shape, data_offsets)");
  EXPECT_EQ(error(R"({"dtype":"F32","shape":[4],"dtype":"F16","data_offsets":[0,16]})"),
            path_ + ": header repeats the key 'dtype'");
  EXPECT_EQ(error(R"([1])"), p + "entry must be an object, got [1]");
  EXPECT_EQ(error(R"({"dtype":"F64","shape":[2],"data_offsets":[0,16]})"),
            p + "dtype F64 is not supported by Tessera (supported: F32, F16, BF16, F8_E4M3, "
                "F8_E5M2, I32, I64)");
  EXPECT_EQ(error(R"({"dtype":"U8","shape":[16],"data_offsets":[0,16]})"),
            p + "dtype U8 is not supported by Tessera (supported: F32, F16, BF16, F8_E4M3, "
                "F8_E5M2, I32, I64)");
  EXPECT_EQ(error(R"({"dtype":"F128","shape":[1],"data_offsets":[0,16]})"),
            p + "unknown dtype 'F128' (valid: F32, F16, BF16, F8_E4M3, F8_E5M2, I32, I64, F64, "
                "I16, I8, U8, BOOL)");
  EXPECT_EQ(error(R"({"dtype":32,"shape":[4],"data_offsets":[0,16]})"),
            p + "dtype must be a string, got 32");
  EXPECT_EQ(error(R"({"dtype":"F32","shape":[-4],"data_offsets":[0,16]})"),
            p + "shape must be a list of non-negative integers, got [-4]");
  EXPECT_EQ(error(R"({"dtype":"F32","shape":[2.5],"data_offsets":[0,16]})"),
            p + "shape must be a list of non-negative integers, got [2.5]");
  EXPECT_EQ(error(R"({"dtype":"F32","shape":4,"data_offsets":[0,16]})"),
            p + "shape must be a list of non-negative integers, got 4");
  EXPECT_EQ(error(R"({"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,16]})"),
            p + "shape [4294967296,4294967296] is too large");
  EXPECT_EQ(error(R"({"dtype":"F32","shape":[4],"data_offsets":[16,0]})"),
            p + "data_offsets must be [begin, end] with 0 <= begin <= end, got [16,0]");
  EXPECT_EQ(error(R"({"dtype":"F32","shape":[4],"data_offsets":[0]})"),
            p + "data_offsets must be [begin, end] with 0 <= begin <= end, got [0]");
  EXPECT_EQ(error(R"({"dtype":"F32","shape":[4],"data_offsets":[-1,15]})"),
            p + "data_offsets must be [begin, end] with 0 <= begin <= end, got [-1,15]");
  EXPECT_EQ(error(R"({"dtype":"F32","shape":[2,3],"data_offsets":[0,16]})"),
            p + "data_offsets [0,16] hold 16 bytes but shape (2, 3) of F32 needs 24");
  EXPECT_EQ(error(R"({"dtype":"BF16","shape":[16],"data_offsets":[8,40]})"),
            p + "data_offsets [8, 40] go beyond the data buffer of 16 bytes");
}

TEST_F(SafetensorsTest, RangesMustTileTheBufferExactly) {
  std::string p = path_ + ": ";
  std::string buf(24, 'x');
  // One-byte elements (F8_E4M3), so that element counts equal byte counts.
  auto entry = [](const char* name, int begin, int end) {
    return fmt::format(R"("{}":{{"dtype":"F8_E4M3","shape":[{}],"data_offsets":[{},{}]}})", name,
                       end - begin, begin, end);
  };
  auto header = [](std::initializer_list<std::string> entries) {
    std::string text;
    for (const std::string& e : entries) text += (text.empty() ? "" : ",") + e;
    return "{" + text + "}";
  };
  EXPECT_EQ(header_error(header({entry("a", 0, 16), entry("b", 8, 24)}), buf),
            p + "tensors 'a' [0, 16] and 'b' [8, 24] overlap");
  EXPECT_EQ(header_error(header({entry("a", 0, 8), entry("b", 8, 16), entry("c", 8, 24)}), buf),
            p + "tensors 'b' [8, 16] and 'c' [8, 24] overlap");
  EXPECT_EQ(header_error(header({entry("a", 0, 8), entry("b", 12, 24)}), buf),
            p + "bytes [8, 12) of the data buffer belong to no tensor (a hole before 'b')");
  EXPECT_EQ(header_error(header({entry("a", 4, 24)}), buf),
            p + "bytes [0, 4) of the data buffer belong to no tensor (a hole before 'a')");
  EXPECT_EQ(header_error(header({entry("a", 0, 20)}), buf),
            p + "4 trailing bytes after the last tensor's data (the buffer has 24 bytes, the "
                "tensors cover 20)");
  EXPECT_EQ(header_error(header({}), buf), p + "24 trailing bytes after the last tensor's data "
                                               "(the buffer has 24 bytes, the tensors cover 0)");
  // Out-of-order entries that do tile the buffer are fine; the result follows the data order.
  write_bytes(path_, file_bytes(header({entry("z", 0, 8), entry("a", 8, 24)}), buf));
  SafetensorsFile read = read_safetensors(path_);
  ASSERT_EQ(read.tensors.size(), 2u);
  EXPECT_EQ(read.tensors[0].name, "z");
  EXPECT_EQ(read.tensors[1].name, "a");
}

TEST_F(SafetensorsTest, MetadataMustMapStringsToStrings) {
  std::string p = path_ + ": ";
  EXPECT_EQ(header_error(R"({"__metadata__":{"step":12}})", ""),
            p + "__metadata__ must map strings to strings, but 'step' holds 12");
  EXPECT_EQ(header_error(R"({"__metadata__":["x"]})", ""),
            p + "__metadata__ must be an object of strings, got [\"x\"]");
}

// Flipping any single byte of a small file either gives an Error or a file that still reads
// consistently; nothing else escapes and nothing crashes.
TEST_F(SafetensorsTest, EveryFlippedByteIsRefusedOrHarmless) {
  SafetensorsFile contents;
  contents.tensors.push_back(make_tensor("a", DType::F32, {2, 2}));
  contents.tensors.push_back(make_tensor("b", DType::F8E5M2, {3}));
  contents.metadata = {{"k", "v"}};
  write_safetensors(path_, contents);
  std::string good = read_bytes(path_);
  size_t refused = 0;
  for (size_t i = 0; i < good.size(); ++i) {
    for (uint8_t mask : {0x01, 0x20, 0x80}) {
      std::string damaged = good;
      damaged[i] = static_cast<char>(damaged[i] ^ mask);
      write_bytes(path_, damaged);
      try {
        SafetensorsFile read = read_safetensors(path_);
        for (const StoredTensor& t : read.tensors)
          EXPECT_EQ(t.bytes.size(), numel(t.shape) * dtype_size(t.dtype)) << "byte " << i;
      } catch (const Error& e) {
        EXPECT_EQ(std::string(e.what()).rfind(path_ + ": ", 0), 0u) << e.what();
        ++refused;
      }
    }
  }
  EXPECT_GT(refused, good.size());  // most header damage is caught
}

TEST_F(SafetensorsTest, MissingFileIsReported) {
  std::string missing = (dir_ / "none.safetensors").string();
  EXPECT_ERROR_WITH(read_safetensors(missing), "cannot read", "none.safetensors",
                    "No such file or directory");
}

}  // namespace
}  // namespace tessera
