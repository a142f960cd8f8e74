// Row-at-a-time packing of strided f32 views (see pack.h).
#include "backends/chip/pack.h"

#include <cstring>

#include "base/error.h"

namespace tessera {

namespace {

// Calls row(offset, r) for every row r of `v` (its last dimension; a scalar is one row of one
// element) in row-major order, with the offset of the row's first element, in elements.
template <typename Row>
void for_each_row(const View& v, Row row) {
  TS_ASSERT(v.dtype == DType::F32 && v.shape.size() == v.strides.size());
  if (v.numel() == 0) return;
  if (v.shape.empty()) return row(0, 0);
  size_t outer = v.shape.size() - 1;
  int64_t rows = v.numel() / v.shape.back();
  std::vector<int64_t> index(outer, 0);
  int64_t offset = 0;
  for (int64_t r = 0; r < rows; ++r) {
    row(offset, r);
    for (size_t d = outer; d-- > 0;) {  // odometer step over the outer dimensions
      offset += v.strides[d];
      if (++index[d] < v.shape[d]) break;
      offset -= v.strides[d] * v.shape[d];
      index[d] = 0;
    }
  }
}

int64_t row_length(const View& v) { return v.shape.empty() ? 1 : v.shape.back(); }
int64_t row_step(const View& v) { return v.shape.empty() ? 1 : v.strides.back(); }

}  // namespace

std::vector<float> pack_f32(const View& v) {
  std::vector<float> out(static_cast<size_t>(v.numel()));
  int64_t cols = row_length(v), step = row_step(v);
  const float* src = v.as<float>();
  for_each_row(v, [&](int64_t offset, int64_t r) {
    float* dst = out.data() + r * cols;
    const float* row = src + offset;
    if (step == 1) return (void)std::memcpy(dst, row, static_cast<size_t>(cols) * sizeof(float));
    for (int64_t j = 0; j < cols; ++j) dst[j] = row[j * step];
  });
  return out;
}

void unpack_f32(const std::vector<float>& values, const View& v) {
  TS_ASSERT(static_cast<int64_t>(values.size()) == v.numel());
  int64_t cols = row_length(v), step = row_step(v);
  float* dst = v.as<float>();
  for_each_row(v, [&](int64_t offset, int64_t r) {
    const float* src = values.data() + r * cols;
    float* row = dst + offset;
    if (step == 1) return (void)std::memcpy(row, src, static_cast<size_t>(cols) * sizeof(float));
    for (int64_t j = 0; j < cols; ++j) row[j * step] = src[j];
  });
}

}  // namespace tessera
