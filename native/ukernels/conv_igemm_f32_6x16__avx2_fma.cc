// AVX2 6x16 indirect-GEMM convolution micro-kernel (contract: conv_ukernels.h): 6 output pixels x
// 2 ymm of output channels = 12 accumulators; per input channel 2 weight loads, 6 broadcasts, 12 FMAs.
#include <immintrin.h>

#include <algorithm>

#include "ukernels/conv_ukernels.h"

namespace tf {
namespace {

constexpr int MR = 6;
constexpr int NR = 16;

}  // namespace

void conv_igemm_f32_6x16__avx2_fma(int64_t ks, int64_t kc, const float* const* a, const float* w, float* c,
                                   int64_t ldc, int mr_valid, int nr_valid, const float* bias, bool relu) {
  __m256 acc[MR][2];
  for (int i = 0; i < MR; ++i) acc[i][0] = acc[i][1] = _mm256_setzero_ps();

  for (int64_t s = 0; s < ks; ++s, a += MR) {
    const float* rows[MR] = {a[0], a[1], a[2], a[3], a[4], a[5]};
    for (int64_t p = 0; p < kc; ++p, w += NR) {
      const __m256 b0 = _mm256_loadu_ps(w);
      const __m256 b1 = _mm256_loadu_ps(w + 8);
      for (int i = 0; i < MR; ++i) {
        const __m256 ai = _mm256_broadcast_ss(rows[i] + p);
        acc[i][0] = _mm256_fmadd_ps(ai, b0, acc[i][0]);
        acc[i][1] = _mm256_fmadd_ps(ai, b1, acc[i][1]);
      }
    }
  }

  // The epilogue goes through a small array so partial columns need no masked stores.
  alignas(32) float t[NR];
  alignas(32) float b[NR] = {};
  if (bias != nullptr) {
    for (int j = 0; j < nr_valid; ++j) b[j] = bias[j];
  }
  const __m256 zero = _mm256_setzero_ps();
  for (int i = 0; i < MR && i < mr_valid; ++i) {
    for (int v = 0; v < 2; ++v) {
      __m256 r = _mm256_add_ps(acc[i][v], _mm256_load_ps(b + v * 8));
      // max(0, r) returns its second operand when either is NaN, so NaN is kept.
      if (relu) r = _mm256_max_ps(zero, r);
      _mm256_store_ps(t + v * 8, r);
    }
    float* ci = c + i * ldc;
    if (nr_valid == NR) {
      _mm256_storeu_ps(ci, _mm256_load_ps(t));
      _mm256_storeu_ps(ci + 8, _mm256_load_ps(t + 8));
    } else {
      for (int j = 0; j < nr_valid; ++j) ci[j] = t[j];
    }
  }
}

// 8 pixels of one channel per gather; a partial block of pixels through a lane mask (nothing past count
// is read or written). Index overflow (src_stride * 7 >= 2^31) falls back to the plain loop.
void conv_planes_f32__avx2(int64_t count, int64_t c, const float* src, int64_t src_stride, float* dst,
                           int64_t dst_stride) {
  if (src_stride > (int64_t{1} << 27)) return conv_planes_f32__scalar(count, c, src, src_stride, dst, dst_stride);
  const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  const __m256i idx = _mm256_mullo_epi32(lane, _mm256_set1_epi32(static_cast<int>(src_stride)));
  for (int64_t p0 = 0; p0 < count; p0 += 8) {
    const int np = static_cast<int>(std::min<int64_t>(8, count - p0));
    const __m256i mask = _mm256_cmpgt_epi32(_mm256_set1_epi32(np), lane);
    const float* sp = src + p0 * src_stride;
    float* dp = dst + p0;
    for (int64_t ci = 0; ci < c; ++ci) {
      const __m256 v = _mm256_mask_i32gather_ps(_mm256_setzero_ps(), sp + ci, idx, _mm256_castsi256_ps(mask), 4);
      _mm256_maskstore_ps(dp + ci * dst_stride, mask, v);
    }
  }
}

}  // namespace tf
