// cpu-ref: registration, memory, element access for every dtype, copy and fill.
// The kernels live beside it: reference_elementwise.cpp, reference_nn.cpp,
// reference_attention.cpp, reference_matmul_conv.cpp, reference_optim.cpp.
#include "backends/cpu/reference_backend.h"

#include <cmath>
#include <cstring>
#include <limits>

#include "backends/cpu/host_block_cache.h"
#include "base/error.h"

namespace tessera {

REGISTER_BACKEND("cpu-ref", ReferenceBackend);

std::string ReferenceBackend::name() const { return "cpu-ref"; }

bool ReferenceBackend::supports(Kernel kernel, DType dtype) const {
  if (is_floating(dtype)) return true;
  return kernel == Kernel::Copy || kernel == Kernel::Fill;
}

std::shared_ptr<void> ReferenceBackend::allocate(size_t bytes) { return allocate_zeroed(bytes, name()); }

void ReferenceBackend::copy_from_host(void* dst, const void* host_src, size_t bytes) {
  if (bytes) std::memcpy(dst, host_src, bytes);
}

void ReferenceBackend::copy_to_host(void* host_dst, const void* src, size_t bytes) {
  if (bytes) std::memcpy(host_dst, src, bytes);
}

float ReferenceBackend::load(const View& v, int64_t offset) {
  const void* p = v.data;
  switch (v.dtype) {
    case DType::F32:
      return static_cast<const float*>(p)[offset];
    case DType::BF16:
      return bf16_to_f32(static_cast<const uint16_t*>(p)[offset]);
    case DType::F16:
      return f16_to_f32(static_cast<const uint16_t*>(p)[offset]);
    case DType::F8E4M3:
      return e4m3_to_f32(static_cast<const uint8_t*>(p)[offset]);
    case DType::F8E5M2:
      return e5m2_to_f32(static_cast<const uint8_t*>(p)[offset]);
    case DType::I32:
      return static_cast<float>(static_cast<const int32_t*>(p)[offset]);
    case DType::I64:
      return static_cast<float>(static_cast<const int64_t*>(p)[offset]);
  }
  internal_failure("unknown dtype", __FILE__, __LINE__);
}

namespace {
// Truncation toward zero that saturates at the integer range (NaN becomes 0).
int64_t truncate_to_int64(double value) {
  if (std::isnan(value)) return 0;
  if (value >= 9.2233720368547758e18) return std::numeric_limits<int64_t>::max();
  if (value <= -9.2233720368547758e18) return std::numeric_limits<int64_t>::min();
  return static_cast<int64_t>(value);
}
}  // namespace

void ReferenceBackend::store(const View& v, int64_t offset, float value) {
  void* p = v.data;
  switch (v.dtype) {
    case DType::F32:
      static_cast<float*>(p)[offset] = value;
      return;
    case DType::BF16:
      static_cast<uint16_t*>(p)[offset] = f32_to_bf16(value);
      return;
    case DType::F16:
      static_cast<uint16_t*>(p)[offset] = f32_to_f16(value);
      return;
    case DType::F8E4M3:
      static_cast<uint8_t*>(p)[offset] = f32_to_e4m3(value);
      return;
    case DType::F8E5M2:
      static_cast<uint8_t*>(p)[offset] = f32_to_e5m2(value);
      return;
    case DType::I32:
    case DType::I64:
      store_index(v, offset, truncate_to_int64(value));
      return;
  }
  internal_failure("unknown dtype", __FILE__, __LINE__);
}

int64_t ReferenceBackend::load_index(const View& v, int64_t offset) {
  switch (v.dtype) {
    case DType::I32:
      return static_cast<const int32_t*>(v.data)[offset];
    case DType::I64:
      return static_cast<const int64_t*>(v.data)[offset];
    default:
      return truncate_to_int64(load(v, offset));
  }
}

void ReferenceBackend::store_index(const View& v, int64_t offset, int64_t value) {
  switch (v.dtype) {
    case DType::I32: {
      // Saturate to the i32 range.
      int64_t clamped = std::min<int64_t>(std::max<int64_t>(value, INT32_MIN), INT32_MAX);
      static_cast<int32_t*>(v.data)[offset] = static_cast<int32_t>(clamped);
      return;
    }
    case DType::I64:
      static_cast<int64_t*>(v.data)[offset] = value;
      return;
    default:
      store(v, offset, static_cast<float>(value));
      return;
  }
}

std::vector<int64_t> ReferenceBackend::element_offsets(const Shape& shape, const Strides& strides) {
  TS_ASSERT(shape.size() == strides.size());
  int64_t count = numel(shape);
  std::vector<int64_t> offsets;
  offsets.reserve(static_cast<size_t>(std::max<int64_t>(count, 0)));
  std::vector<int64_t> index(shape.size(), 0);
  for (int64_t e = 0; e < count; ++e) {
    int64_t offset = 0;
    for (size_t d = 0; d < shape.size(); ++d) offset += index[d] * strides[d];
    offsets.push_back(offset);
    for (size_t d = shape.size(); d-- > 0;) {  // odometer step, last dimension fastest
      if (++index[d] < shape[d]) break;
      index[d] = 0;
    }
  }
  return offsets;
}

std::vector<float> ReferenceBackend::load_all(const View& v) {
  std::vector<float> values;
  for (int64_t offset : element_offsets(v.shape, v.strides)) values.push_back(load(v, offset));
  return values;
}

void ReferenceBackend::store_all(const View& v, const std::vector<float>& values) {
  std::vector<int64_t> offsets = element_offsets(v.shape, v.strides);
  TS_ASSERT(offsets.size() == values.size());
  for (size_t i = 0; i < offsets.size(); ++i) store(v, offsets[i], values[i]);
}

void ReferenceBackend::store_all(const View& v, const std::vector<double>& values) {
  std::vector<int64_t> offsets = element_offsets(v.shape, v.strides);
  TS_ASSERT(offsets.size() == values.size());
  for (size_t i = 0; i < offsets.size(); ++i) store(v, offsets[i], static_cast<float>(values[i]));
}

void ReferenceBackend::copy(const View& src, const View& dst) {
  TS_ASSERT(src.shape == dst.shape);
  std::vector<int64_t> src_offsets = element_offsets(src.shape, src.strides);
  std::vector<int64_t> dst_offsets = element_offsets(dst.shape, dst.strides);
  size_t src_size = dtype_size(src.dtype), dst_size = dtype_size(dst.dtype);
  // One element at a time through the project's conversion rules (base/dtype.h).
  for (size_t i = 0; i < src_offsets.size(); ++i)
    convert_elements(static_cast<const char*>(src.data) + src_offsets[i] * src_size, src.dtype,
                     static_cast<char*>(dst.data) + dst_offsets[i] * dst_size, dst.dtype, 1);
}

void ReferenceBackend::fill(const View& dst, double value) {
  for (int64_t offset : element_offsets(dst.shape, dst.strides)) {
    if (is_floating(dst.dtype))
      store(dst, offset, static_cast<float>(value));
    else
      store_index(dst, offset, truncate_to_int64(value));
  }
}

}  // namespace tessera
