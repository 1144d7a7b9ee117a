// AVX2 depthwise micro-kernels (contract: dwconv_ukernels.h): 8 channels per ymm, the last block
// through masked loads/stores (masked-off lanes never touch memory).
#include <immintrin.h>

#include "ukernels/dwconv_ukernels.h"

namespace tf {
namespace {

inline __m256i tail_mask(int64_t left) {
  const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  const int n = left >= 8 ? 8 : static_cast<int>(left);
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), lane);
}

}  // namespace

void dwconv_f32__avx2_fma_fwd(int64_t c, int64_t ks, const float* const* in, const float* const* w, const float* bias,
                              float* out) {
  int64_t j = 0;
  // 32 channels at a time: four independent FMA chains hide the FMA latency.
  for (; j + 32 <= c; j += 32) {
    __m256 acc[4];
    for (int v = 0; v < 4; ++v) acc[v] = bias != nullptr ? _mm256_loadu_ps(bias + j + 8 * v) : _mm256_setzero_ps();
    for (int64_t s = 0; s < ks; ++s) {
      const float* x = in[s] + j;
      const float* k = w[s] + j;
      for (int v = 0; v < 4; ++v) acc[v] = _mm256_fmadd_ps(_mm256_loadu_ps(x + 8 * v), _mm256_loadu_ps(k + 8 * v), acc[v]);
    }
    for (int v = 0; v < 4; ++v) _mm256_storeu_ps(out + j + 8 * v, acc[v]);
  }
  for (; j < c; j += 8) {
    const __m256i m = tail_mask(c - j);
    __m256 acc = bias != nullptr ? _mm256_maskload_ps(bias + j, m) : _mm256_setzero_ps();
    for (int64_t s = 0; s < ks; ++s) {
      acc = _mm256_fmadd_ps(_mm256_maskload_ps(in[s] + j, m), _mm256_maskload_ps(w[s] + j, m), acc);
    }
    _mm256_maskstore_ps(out + j, m, acc);
  }
}

void dwconv_f32__avx2_fma_grad(int64_t c, int64_t ks, const float* const* in, const float* dy, float* acc,
                               float* acc_bias) {
  for (int64_t j = 0; j < c; j += 8) {
    const __m256i m = tail_mask(c - j);
    const __m256 d = _mm256_maskload_ps(dy + j, m);
    for (int64_t s = 0; s < ks; ++s) {
      float* a = acc + s * c + j;
      _mm256_maskstore_ps(a, m, _mm256_fmadd_ps(_mm256_maskload_ps(in[s] + j, m), d, _mm256_maskload_ps(a, m)));
    }
    if (acc_bias != nullptr) {
      _mm256_maskstore_ps(acc_bias + j, m, _mm256_add_ps(_mm256_maskload_ps(acc_bias + j, m), d));
    }
  }
}

}  // namespace tf
