// The chip's staging packs f32 views a row at a time (backends/chip/pack.h). On random shapes
// and strides (broadcast zeros, transposes, negative steps, scalars, empty views) pack_f32 and
// unpack_f32 must give exactly what cpu-ref's element-at-a-time copy gives, to and from a
// contiguous array, bit for bit (NaN payloads included) and without touching other elements.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <bit>

#include "backends/chip/pack.h"
#include "base/random.h"
#include "kernel_harness.h"

namespace tessera::test {
namespace {

// A view of random rank, shape and strides into `storage`, whose elements all lie inside it.
View random_view(std::vector<float>& storage, uint64_t seed) {
  uint64_t counter = 0;
  auto below = [&](int64_t n) { return static_cast<int64_t>(random_bits(seed, counter++) % static_cast<uint64_t>(n)); };
  View v;
  v.dtype = DType::F32;
  size_t rank = static_cast<size_t>(below(5));
  for (size_t d = 0; d < rank; ++d) {
    v.shape.push_back(below(20) == 0 ? 0 : 1 + below(7));
    v.strides.push_back(below(5) == 0 ? 0 : (below(4) == 0 ? -1 : 1) * (1 + below(40)));
  }
  if (below(2) == 0) v.strides = contiguous_strides(v.shape);
  int64_t lowest = 0, highest = 0;  // offsets of the lowest and highest elements
  for (size_t d = 0; d < rank; ++d)
    if (v.shape[d] > 0) (v.strides[d] < 0 ? lowest : highest) += v.strides[d] * (v.shape[d] - 1);
  storage.assign(static_cast<size_t>(highest - lowest + 1), 0.0f);
  for (size_t i = 0; i < storage.size(); ++i)
    storage[i] = i % 17 == 0 ? std::bit_cast<float>(0x7fa00000u + static_cast<uint32_t>(i)) : random_normal(seed, i);
  v.data = storage.data() - lowest;
  return v;
}

std::vector<uint32_t> bits(const std::vector<float>& values) {
  std::vector<uint32_t> out;
  for (float v : values) out.push_back(std::bit_cast<uint32_t>(v));
  return out;
}

TEST(ChipPack, PackAndUnpackCopyAsCpuRefDoes) {
  Backend& ref = backend("cpu-ref");
  for (uint64_t seed = 1; seed <= 500; ++seed) {
    SCOPED_TRACE(fmt::format("seed {}", seed));
    std::vector<float> storage;
    View v = random_view(storage, seed);
    SCOPED_TRACE(fmt::format("shape {} strides {}", fmt::join(v.shape, "x"), fmt::join(v.strides, ",")));
    std::vector<float> want(static_cast<size_t>(v.numel()));
    ref.copy(v, View{want.data(), DType::F32, v.shape, contiguous_strides(v.shape)});
    ASSERT_EQ(bits(pack_f32(v)), bits(want));

    std::vector<float> values(want.size());
    for (size_t i = 0; i < values.size(); ++i) values[i] = random_normal(seed + 1000, i);
    std::vector<float> expected_storage = storage;
    View expected = v;
    expected.data = expected_storage.data() + (static_cast<float*>(v.data) - storage.data());
    ref.copy(View{values.data(), DType::F32, v.shape, contiguous_strides(v.shape)}, expected);
    unpack_f32(values, v);
    ASSERT_EQ(bits(storage), bits(expected_storage));
  }
}

}  // namespace
}  // namespace tessera::test
