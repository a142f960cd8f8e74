// The native bf16 matrix product: an AVX-512 BF16 micro-kernel (vdpbf16ps, two bf16 products
// summed into each f32 lane) on panels packed as pairs along K, f32 accumulation.
//
// Blocking: the output is cut into kMc x kNc blocks (one task each, threaded by OpenMP); a task
// walks K in chunks of kKc, packs its A rows and B columns for the chunk into dword pairs
// (kk, kk + 1) and runs kMr x kNr micro-tiles that add the chunk's sum into an f32 block. Every
// output element is therefore summed chunk by chunk in the same order whatever the partition,
// so results are identical for any thread count.
#include "backends/cpu/fast_gemm.h"

#ifdef __AVX512BF16__
#include <omp.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "backends/cpu/fast_simd.h"

namespace tessera::fast {
namespace {

constexpr int64_t kMr = 8, kNr = 32;              // micro-tile: 8 rows x 2 vectors of columns
constexpr int64_t kMc = 128, kNc = 512, kKc = 256;  // block: kKc even, kMc a multiple of 16

__mmask16 lanes(int64_t n) { return n <= 0 ? 0 : tail_mask(n); }

// One 16-wide strip of a packed operand: out[p * out_stride + r] holds the bf16 pair
// (x(r, kk), x(r, kk + 1)), kk = k0 + 2p, for strip rows r < rows (others and kk >= k_end
// are 0). x(r, kk) = src[r * ld + kk] when `k_contiguous`, else src[kk * ld + r].
void pack_strip(const bf16* src, bool k_contiguous, int64_t ld, int64_t rows, int64_t k0,
                int64_t k_end, uint32_t* out, int64_t out_stride) {
  __mmask16 m = lanes(rows);
  int64_t pairs = (k_end - k0 + 1) / 2;
  if (k_contiguous) {
    __m512i index = _mm512_mullo_epi32(_mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
                                       _mm512_set1_epi32(static_cast<int>(ld)));
    int64_t full = (k_end - k0) / 2;  // pairs whose both halves lie inside K
    for (int64_t p = 0; p < full; ++p) {
      __m512i v = _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), m, index, src + k0 + 2 * p, 2);
      _mm512_storeu_si512(out + p * out_stride, v);
    }
    if (full < pairs) {  // odd K: the last pair's second half is 0
      uint32_t* row = out + full * out_stride;
      for (int64_t r = 0; r < 16; ++r) row[r] = r < rows ? src[r * ld + k_end - 1] : 0;
    }
    return;
  }
  for (int64_t p = 0; p < pairs; ++p) {
    int64_t kk = k0 + 2 * p;
    __m512i lo = _mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(m, src + kk * ld));
    __m512i hi = kk + 1 < k_end ? _mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(m, src + (kk + 1) * ld))
                                : _mm512_setzero_si512();
    _mm512_storeu_si512(out + p * out_stride, _mm512_or_si512(lo, _mm512_slli_epi32(hi, 16)));
  }
}

// c (rows, cols) += sum over `pairs` of a (pairs, a_stride; first kMr used) . b (pairs, kNr).
void micro_kernel(const uint32_t* a, int64_t a_stride, const uint32_t* b, int64_t pairs,
                  float* c, int64_t ldc, int64_t rows, int64_t cols) {
  __m512 acc[kMr][2];
#pragma GCC unroll 8
  for (int64_t r = 0; r < kMr; ++r) acc[r][0] = acc[r][1] = _mm512_setzero_ps();
  for (int64_t p = 0; p < pairs; ++p) {
    __m512bh b0 = (__m512bh)_mm512_loadu_si512(b + p * kNr);
    __m512bh b1 = (__m512bh)_mm512_loadu_si512(b + p * kNr + 16);
    const uint32_t* ap = a + p * a_stride;
#pragma GCC unroll 8
    for (int64_t r = 0; r < kMr; ++r) {
      __m512bh av = (__m512bh)_mm512_set1_epi32(static_cast<int>(ap[r]));
      acc[r][0] = _mm512_dpbf16_ps(acc[r][0], av, b0);
      acc[r][1] = _mm512_dpbf16_ps(acc[r][1], av, b1);
    }
  }
  __mmask16 m0 = lanes(cols), m1 = lanes(cols - 16);
  for (int64_t r = 0; r < rows; ++r) {
    float* row = c + r * ldc;
    store(row, _mm512_add_ps(load(row, m0), acc[r][0]), m0);
    store(row + 16, _mm512_add_ps(load(row + 16, m1), acc[r][1]), m1);
  }
}

struct Block {
  int64_t m0, mc, n0, nc;
};

// c (mc, nc) += op(a) rows [m0, m0 + mc) @ op(b) columns [n0, n0 + nc), all of K.
void block_product(const bf16* a, const bf16* b, const MatmulArgs& g, const Block& blk, float* c) {
  thread_local std::vector<uint32_t> a_pack, b_pack;
  int64_t lda = g.transpose_a ? g.m : g.k, ldb = g.transpose_b ? g.k : g.n;
  int64_t a_strips = (blk.mc + 15) / 16, b_strips = (blk.nc + kNr - 1) / kNr;
  for (int64_t k0 = 0; k0 < g.k; k0 += kKc) {
    int64_t k_end = std::min(g.k, k0 + kKc), pairs = (k_end - k0 + 1) / 2;
    a_pack.resize(static_cast<size_t>(a_strips * pairs * 16));
    b_pack.resize(static_cast<size_t>(b_strips * pairs * kNr));
    for (int64_t s = 0; s < a_strips; ++s) {
      int64_t r0 = blk.m0 + s * 16;
      const bf16* src = a + (g.transpose_a ? r0 : r0 * lda);
      pack_strip(src, !g.transpose_a, lda, std::min<int64_t>(16, blk.m0 + blk.mc - r0), k0, k_end,
                 a_pack.data() + s * pairs * 16, 16);
    }
    for (int64_t s = 0; s < b_strips; ++s)
      for (int64_t half = 0; half < kNr; half += 16) {
        int64_t j0 = blk.n0 + s * kNr + half;
        const bf16* src = b + (g.transpose_b ? j0 * ldb : j0);
        pack_strip(src, g.transpose_b, ldb, blk.n0 + blk.nc - j0, k0, k_end,
                   b_pack.data() + s * pairs * kNr + half, kNr);
      }
    for (int64_t s = 0; s < b_strips; ++s)
      for (int64_t i = 0; i < blk.mc; i += kMr)
        micro_kernel(a_pack.data() + (i / 16) * pairs * 16 + i % 16, 16,
                     b_pack.data() + s * pairs * kNr, pairs, c + i * blk.nc + s * kNr, blk.nc,
                     std::min(kMr, blk.mc - i), std::min(kNr, blk.nc - s * kNr));
  }
}

}  // namespace

void gemm_bf16(const bf16* a, const bf16* b, void* out, DType out_dtype, const MatmulArgs& g) {
  int64_t m_blocks = (g.m + kMc - 1) / kMc, n_blocks = (g.n + kNc - 1) / kNc;
  int64_t tasks = g.batch * m_blocks * n_blocks;
  double total_flops = 2.0 * static_cast<double>(g.m) * g.n * g.k * g.batch;
#pragma omp parallel for schedule(static) if (tasks > 1 && total_flops > 2.0e6)
  for (int64_t t = 0; t < tasks; ++t) {
    thread_local std::vector<float> c;
    int64_t bi = t / (m_blocks * n_blocks), mb = t / n_blocks % m_blocks, nb = t % n_blocks;
    Block blk{mb * kMc, std::min(kMc, g.m - mb * kMc), nb * kNc, std::min(kNc, g.n - nb * kNc)};
    c.assign(static_cast<size_t>(blk.mc * blk.nc), 0.0f);
    float* out_f32 = out_dtype == DType::F32 ? static_cast<float*>(out) + bi * g.batch_stride_out : nullptr;
    bf16* out_bf16 = out_dtype == DType::BF16 ? static_cast<bf16*>(out) + bi * g.batch_stride_out : nullptr;
    for (int64_t r = 0; r < blk.mc && g.accumulate; ++r) {
      int64_t at = (blk.m0 + r) * g.n + blk.n0;
      if (out_f32) std::memcpy(c.data() + r * blk.nc, out_f32 + at, static_cast<size_t>(blk.nc) * sizeof(float));
      else convert(out_bf16 + at, DType::BF16, c.data() + r * blk.nc, DType::F32, blk.nc);
    }
    block_product(a + bi * g.batch_stride_a, b + bi * g.batch_stride_b, g, blk, c.data());
    for (int64_t r = 0; r < blk.mc; ++r) {
      int64_t at = (blk.m0 + r) * g.n + blk.n0;
      if (out_f32) std::memcpy(out_f32 + at, c.data() + r * blk.nc, static_cast<size_t>(blk.nc) * sizeof(float));
      else convert(c.data() + r * blk.nc, DType::F32, out_bf16 + at, DType::BF16, blk.nc);
    }
  }
}

}  // namespace tessera::fast
#endif  // __AVX512BF16__
