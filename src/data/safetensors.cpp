// safetensors reader and writer (see safetensors.h). The reader checks the whole header
// against the file's size before it reads any tensor data.
#include "data/safetensors.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <tuple>

#include "base/atomic_file.h"
#include "base/error.h"

namespace tessera {
namespace {

static_assert(std::endian::native == std::endian::little,
              "tensor bytes are copied as they are: the host must be little-endian like the file");

struct DTypeName {
  std::string_view name;
  DType dtype;
};
constexpr DTypeName kDTypeNames[] = {{"F32", DType::F32},        {"F16", DType::F16},
                                     {"BF16", DType::BF16},      {"F8_E4M3", DType::F8E4M3},
                                     {"F8_E5M2", DType::F8E5M2}, {"I32", DType::I32},
                                     {"I64", DType::I64}};
// Valid in the format, without a Tessera dtype.
constexpr std::string_view kUnsupportedNames[] = {"F64", "I16", "I8", "U8", "BOOL"};

std::string_view safetensors_name(DType dtype) {
  for (const DTypeName& entry : kDTypeNames)
    if (entry.dtype == dtype) return entry.name;
  TS_ASSERT(!"dtype without a safetensors name");
  return "";
}

std::string supported_names() {
  std::string names;
  for (const DTypeName& entry : kDTypeNames)
    names += (names.empty() ? "" : ", ") + std::string(entry.name);
  return names;
}

constexpr uint64_t kHeaderLengthBytes = 8;

// ---- reading ----

// An open file, closed on every path out.
struct FileHandle {
  int fd = -1;
  ~FileHandle() {
    if (fd >= 0) ::close(fd);
  }
};

// Reads exactly `size` bytes at `offset`.
void read_at(int fd, const std::string& path, uint64_t offset, void* dst, uint64_t size) {
  auto* out = static_cast<char*>(dst);
  while (size > 0) {
    ssize_t n = ::pread(fd, out, size, static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail("{}: read failed at byte {}: {}", path, offset, std::strerror(errno));
    if (n == 0)
      fail("{}: file ended at byte {} while reading (was it changed meanwhile?)", path, offset);
    out += n;
    offset += static_cast<uint64_t>(n);
    size -= static_cast<uint64_t>(n);
  }
}

// Parses the header, refusing a key repeated within one object (the JSON library would keep
// only the last one).
nlohmann::json parse_header(const std::string& path, const std::string& text) {
  std::vector<std::set<std::string>> open_objects;
  auto on_event = [&](int, nlohmann::json::parse_event_t event, nlohmann::json& parsed) {
    using Event = nlohmann::json::parse_event_t;
    if (event == Event::object_start) open_objects.emplace_back();
    if (event == Event::object_end) open_objects.pop_back();
    if (event == Event::key && !open_objects.back().insert(parsed.get<std::string>()).second)
      fail("{}: header repeats the key '{}'", path, parsed.get<std::string>());
    return true;
  };
  try {
    return nlohmann::json::parse(text, on_event);
  } catch (const nlohmann::json::exception& e) {
    fail("{}: header is not valid JSON: {}", path, e.what());
  }
}

// A non-negative integer that fits in int64, or nullopt.
std::optional<uint64_t> as_count(const nlohmann::json& value) {
  if (!value.is_number_unsigned()) return std::nullopt;
  uint64_t n = value.get<uint64_t>();
  if (n > static_cast<uint64_t>(INT64_MAX)) return std::nullopt;
  return n;
}

struct Entry {
  std::string name;
  DType dtype;
  Shape shape;
  uint64_t begin, end;  // byte range in the data buffer
};

Entry parse_entry(const std::string& path, const std::string& name, const nlohmann::json& value) {
  std::string where = fmt::format("{}: tensor '{}'", path, name);
  if (!value.is_object()) fail("{}: entry must be an object, got {}", where, value.dump());
  for (const auto& [key, _] : value.items())
    if (key != "dtype" && key != "shape" && key != "data_offsets")
      fail("{}: unknown key '{}' (expected dtype, shape, data_offsets)", where, key);
  for (const char* key : {"dtype", "shape", "data_offsets"})
    if (!value.contains(key)) fail("{}: missing key '{}'", where, key);

  Entry entry{name, DType::F32, {}, 0, 0};
  const auto& dtype = value["dtype"];
  if (!dtype.is_string()) fail("{}: dtype must be a string, got {}", where, dtype.dump());
  std::string dtype_text = dtype.get<std::string>();
  const DTypeName* known = nullptr;
  for (const DTypeName& candidate : kDTypeNames)
    if (candidate.name == dtype_text) known = &candidate;
  if (!known) {
    for (std::string_view other : kUnsupportedNames)
      if (other == dtype_text)
        fail("{}: dtype {} is not supported by Tessera (supported: {})", where, dtype_text,
             supported_names());
    fail("{}: unknown dtype '{}' (valid: {}, F64, I16, I8, U8, BOOL)", where, dtype_text,
         supported_names());
  }
  entry.dtype = known->dtype;

  const auto& shape = value["shape"];
  if (!shape.is_array())
    fail("{}: shape must be a list of non-negative integers, got {}", where, shape.dump());
  uint64_t bytes = dtype_size(entry.dtype);
  for (const auto& dim : shape) {
    std::optional<uint64_t> n = as_count(dim);
    if (!n) fail("{}: shape must be a list of non-negative integers, got {}", where, shape.dump());
    if (__builtin_mul_overflow(bytes, *n, &bytes) || bytes > static_cast<uint64_t>(INT64_MAX))
      fail("{}: shape {} is too large", where, shape.dump());
    entry.shape.push_back(static_cast<int64_t>(*n));
  }

  const auto& offsets = value["data_offsets"];
  std::optional<uint64_t> begin, end;
  if (offsets.is_array() && offsets.size() == 2) {
    begin = as_count(offsets[0]);
    end = as_count(offsets[1]);
  }
  if (!begin || !end || *begin > *end)
    fail("{}: data_offsets must be [begin, end] with 0 <= begin <= end, got {}", where,
         offsets.dump());
  entry.begin = *begin;
  entry.end = *end;
  if (entry.end - entry.begin != bytes)
    fail("{}: data_offsets {} hold {} bytes but shape {} of {} needs {}", where, offsets.dump(),
         entry.end - entry.begin, shape_str(entry.shape), dtype_text, bytes);
  return entry;
}

std::map<std::string, std::string> parse_metadata(const std::string& path,
                                                  const nlohmann::json& value) {
  if (!value.is_object())
    fail("{}: __metadata__ must be an object of strings, got {}", path, value.dump());
  std::map<std::string, std::string> metadata;
  for (const auto& [key, text] : value.items()) {
    if (!text.is_string())
      fail("{}: __metadata__ must map strings to strings, but '{}' holds {}", path, key,
           text.dump());
    metadata[key] = text.get<std::string>();
  }
  return metadata;
}

// The ranges, sorted, must tile [0, buffer_bytes) exactly.
void check_layout(const std::string& path, std::vector<Entry>& entries, uint64_t buffer_bytes) {
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    return std::tie(a.begin, a.end, a.name) < std::tie(b.begin, b.end, b.name);
  });
  uint64_t covered = 0;
  const Entry* previous = nullptr;
  for (const Entry& entry : entries) {
    if (entry.end > buffer_bytes)
      fail("{}: tensor '{}': data_offsets [{}, {}] go beyond the data buffer of {} bytes", path,
           entry.name, entry.begin, entry.end, buffer_bytes);
    if (entry.begin < covered)
      fail("{}: tensors '{}' [{}, {}] and '{}' [{}, {}] overlap", path, previous->name,
           previous->begin, previous->end, entry.name, entry.begin, entry.end);
    if (entry.begin > covered)
      fail("{}: bytes [{}, {}) of the data buffer belong to no tensor (a hole before '{}')", path,
           covered, entry.begin, entry.name);
    covered = entry.end;
    previous = &entry;
  }
  if (covered != buffer_bytes)
    fail(
        "{}: {} trailing bytes after the last tensor's data (the buffer has {} bytes, the "
        "tensors cover {})",
        path, buffer_bytes - covered, buffer_bytes, covered);
}

// ---- writing ----

// Element size descending, then name: deterministic, and every tensor aligned to its size.
std::vector<const StoredTensor*> write_order(const std::string& path,
                                             const SafetensorsFile& contents) {
  std::vector<const StoredTensor*> order;
  for (const StoredTensor& tensor : contents.tensors) order.push_back(&tensor);
  std::sort(order.begin(), order.end(), [](const StoredTensor* a, const StoredTensor* b) {
    size_t size_a = dtype_size(a->dtype), size_b = dtype_size(b->dtype);
    return size_a != size_b ? size_a > size_b : a->name < b->name;
  });
  std::set<std::string_view> names;
  for (const StoredTensor* tensor : order)
    if (!names.insert(tensor->name).second)
      fail("write {}: tensor name '{}' appears twice", path, tensor->name);
  return order;
}

}  // namespace

const StoredTensor* SafetensorsFile::find(std::string_view name) const {
  for (const StoredTensor& tensor : tensors)
    if (tensor.name == name) return &tensor;
  return nullptr;
}

SafetensorsFile read_safetensors(const std::string& path) {
  FileHandle file;
  file.fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (file.fd < 0) fail("cannot read {}: {}", path, std::strerror(errno));
  struct stat info {};
  if (::fstat(file.fd, &info) != 0) fail("cannot read {}: {}", path, std::strerror(errno));
  if (S_ISDIR(info.st_mode)) fail("cannot read {}: {}", path, std::strerror(EISDIR));
  uint64_t file_bytes = static_cast<uint64_t>(info.st_size);

  if (file_bytes < kHeaderLengthBytes)
    fail("{}: file is {} bytes, too short for the 8-byte header length", path, file_bytes);
  uint8_t length_bytes[kHeaderLengthBytes];
  read_at(file.fd, path, 0, length_bytes, kHeaderLengthBytes);
  uint64_t header_bytes = 0;
  for (int i = 7; i >= 0; --i) header_bytes = (header_bytes << 8) | length_bytes[i];
  if (header_bytes > file_bytes - kHeaderLengthBytes)
    fail("{}: header length {} goes beyond the end of the file ({} bytes)", path, header_bytes,
         file_bytes);
  std::string text(header_bytes, '\0');
  read_at(file.fd, path, kHeaderLengthBytes, text.data(), header_bytes);

  nlohmann::json header = parse_header(path, text);
  if (!header.is_object())
    fail("{}: header must be a JSON object, got {}", path, header.type_name());
  SafetensorsFile result;
  std::vector<Entry> entries;
  for (const auto& [key, value] : header.items()) {
    if (key == "__metadata__")
      result.metadata = parse_metadata(path, value);
    else
      entries.push_back(parse_entry(path, key, value));
  }
  uint64_t data_start = kHeaderLengthBytes + header_bytes;
  check_layout(path, entries, file_bytes - data_start);

  for (const Entry& entry : entries) {
    StoredTensor tensor{entry.name, entry.dtype, entry.shape,
                        std::vector<uint8_t>(entry.end - entry.begin)};
    read_at(file.fd, path, data_start + entry.begin, tensor.bytes.data(), tensor.bytes.size());
    result.tensors.push_back(std::move(tensor));
  }
  return result;
}

void write_safetensors(const std::string& path, const SafetensorsFile& contents) {
  std::vector<const StoredTensor*> order = write_order(path, contents);
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!contents.metadata.empty()) header["__metadata__"] = contents.metadata;
  uint64_t offset = 0;
  for (const StoredTensor* tensor : order) {
    if (tensor->name == "__metadata__") fail("write {}: '__metadata__' is not a tensor name", path);
    for (int64_t dim : tensor->shape)
      if (dim < 0)
        fail("write {}: tensor '{}' has a negative dimension in shape {}", path, tensor->name,
             shape_str(tensor->shape));
    uint64_t expected = static_cast<uint64_t>(numel(tensor->shape)) * dtype_size(tensor->dtype);
    if (tensor->bytes.size() != expected)
      fail("write {}: tensor '{}' has {} bytes but shape {} of {} needs {}", path, tensor->name,
           tensor->bytes.size(), shape_str(tensor->shape), dtype_name(tensor->dtype), expected);
    header[tensor->name] = {{"dtype", safetensors_name(tensor->dtype)},
                            {"shape", tensor->shape},
                            {"data_offsets", {offset, offset + expected}}};
    offset += expected;
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');
  uint8_t length_bytes[kHeaderLengthBytes];
  for (size_t i = 0; i < kHeaderLengthBytes; ++i)
    length_bytes[i] = static_cast<uint8_t>(text.size() >> (8 * i));

  std::vector<ByteRange> pieces = {{length_bytes, sizeof length_bytes}, {text.data(), text.size()}};
  for (const StoredTensor* tensor : order)
    pieces.push_back({tensor->bytes.data(), tensor->bytes.size()});
  write_file_atomic(path, pieces);
}

}  // namespace tessera
