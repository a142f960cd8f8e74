// Reading and writing safetensors files (the weight format of Hugging Face and PyTorch users;
// layout in shared/reference/formats.md): an 8-byte little-endian header length, a JSON header
// naming each tensor's dtype, shape and byte range, then the tensors' raw bytes.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "base/dtype.h"
#include "base/shape.h"

namespace tessera {

// One tensor as stored: row-major, little-endian element bytes.
struct StoredTensor {
  std::string name;
  DType dtype = DType::F32;
  Shape shape;
  std::vector<uint8_t> bytes;  // numel(shape) * dtype_size(dtype)
};

struct SafetensorsFile {
  std::vector<StoredTensor> tensors;
  std::map<std::string, std::string> metadata;  // the header's "__metadata__"

  // The tensor called `name`, or nullptr.
  const StoredTensor* find(std::string_view name) const;
};

// Reads and checks the whole file: the header length, the JSON (no duplicate, missing or
// unknown keys), every dtype, shape and byte range, and that the ranges cover the data buffer
// exactly, without overlaps or holes. Tensors come in the order of their data in the file.
// Any problem is an Error naming the file and what is wrong; nothing is returned then.
// Dtypes read: F32 F16 BF16 F8_E4M3 F8_E5M2 I32 I64; the other safetensors dtypes (F64, I16,
// I8, U8, BOOL) are refused by name.
SafetensorsFile read_safetensors(const std::string& path);

// Writes the file atomically. The header is compact JSON padded with spaces to a multiple of
// 8 bytes; the tensors are laid out widest element first, then by name, so that the file does
// not depend on the order given and every tensor starts aligned to its element size. Error if
// a name repeats or is "__metadata__", or a tensor's byte count does not match its shape.
void write_safetensors(const std::string& path, const SafetensorsFile& contents);

}  // namespace tessera
