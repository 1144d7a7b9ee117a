// AVX-512 depthwise micro-kernels (contract: dwconv_ukernels.h): 16 channels per zmm, the last block
// masked (masked-off lanes never touch memory).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop
#else
#include <immintrin.h>
#endif

#include "ukernels/dwconv_ukernels.h"

namespace tf {
namespace {

inline __mmask16 tail_mask(int64_t left) {
  return left >= 16 ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << left) - 1u);
}

}  // namespace

void dwconv_f32__avx512f_fwd(int64_t c, int64_t ks, const float* const* in, const float* const* w, const float* bias,
                             float* out) {
  int64_t j = 0;
  // 64 channels at a time: four independent FMA chains hide the FMA latency (one chain of ks dependent
  // FMAs per vector would leave the FMA units idle most of the time).
  for (; j + 64 <= c; j += 64) {
    __m512 acc[4];
    for (int v = 0; v < 4; ++v) acc[v] = bias != nullptr ? _mm512_loadu_ps(bias + j + 16 * v) : _mm512_setzero_ps();
    for (int64_t s = 0; s < ks; ++s) {
      const float* x = in[s] + j;
      const float* k = w[s] + j;
      for (int v = 0; v < 4; ++v) acc[v] = _mm512_fmadd_ps(_mm512_loadu_ps(x + 16 * v), _mm512_loadu_ps(k + 16 * v), acc[v]);
    }
    for (int v = 0; v < 4; ++v) _mm512_storeu_ps(out + j + 16 * v, acc[v]);
  }
  for (; j < c; j += 16) {
    const __mmask16 m = tail_mask(c - j);
    __m512 acc = bias != nullptr ? _mm512_maskz_loadu_ps(m, bias + j) : _mm512_setzero_ps();
    for (int64_t s = 0; s < ks; ++s) {
      acc = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, in[s] + j), _mm512_maskz_loadu_ps(m, w[s] + j), acc);
    }
    _mm512_mask_storeu_ps(out + j, m, acc);
  }
}

void dwconv_f32__avx512f_grad(int64_t c, int64_t ks, const float* const* in, const float* dy, float* acc,
                              float* acc_bias) {
  for (int64_t j = 0; j < c; j += 16) {
    const __mmask16 m = tail_mask(c - j);
    const __m512 d = _mm512_maskz_loadu_ps(m, dy + j);
    for (int64_t s = 0; s < ks; ++s) {
      float* a = acc + s * c + j;
      _mm512_mask_storeu_ps(a, m, _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, in[s] + j), d, _mm512_maskz_loadu_ps(m, a)));
    }
    if (acc_bias != nullptr) {
      _mm512_mask_storeu_ps(acc_bias + j, m, _mm512_add_ps(_mm512_maskz_loadu_ps(m, acc_bias + j), d));
    }
  }
}

}  // namespace tf
