// AVX2 6x16 indirect-GEMM convolution micro-kernel (contract: conv_ukernels.h): 6 output pixels x
// 2 ymm of output channels = 12 accumulators; per input channel 2 weight loads, 6 broadcasts, 12 FMAs.
#include <immintrin.h>

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

}  // namespace tf
