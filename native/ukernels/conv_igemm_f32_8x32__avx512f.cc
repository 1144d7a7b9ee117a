// AVX-512 8x32 indirect-GEMM convolution micro-kernel (contract: conv_ukernels.h): 8 output pixels x
// 2 zmm of output channels = 16 accumulators; per input channel 2 weight loads, 8 broadcasts, 16 FMAs.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop
#else
#include <immintrin.h>
#endif

#include "ukernels/conv_ukernels.h"

namespace tf {
namespace {

constexpr int MR = 8;
constexpr int NV = 2;
constexpr int NR = NV * 16;

inline __mmask16 column_mask(int nr_valid, int v) {
  const int left = nr_valid - v * 16;
  if (left >= 16) return 0xFFFF;
  if (left <= 0) return 0;
  return static_cast<__mmask16>((1u << left) - 1u);
}

}  // namespace

void conv_igemm_f32_8x32__avx512f(int64_t ks, int64_t kc, const float* const* a, const float* w, float* c,
                                  int64_t ldc, int mr_valid, int nr_valid, const float* bias, bool relu) {
  __m512 acc[MR][NV];
  for (int i = 0; i < MR; ++i)
    for (int v = 0; v < NV; ++v) acc[i][v] = _mm512_setzero_ps();

  for (int64_t s = 0; s < ks; ++s, a += MR) {
    const float* a0 = a[0];
    const float* a1 = a[1];
    const float* a2 = a[2];
    const float* a3 = a[3];
    const float* a4 = a[4];
    const float* a5 = a[5];
    const float* a6 = a[6];
    const float* a7 = a[7];
    for (int64_t p = 0; p < kc; ++p, w += NR) {
      const __m512 b0 = _mm512_load_ps(w);
      const __m512 b1 = _mm512_load_ps(w + 16);
      const float* rows[MR] = {a0, a1, a2, a3, a4, a5, a6, a7};
      for (int i = 0; i < MR; ++i) {
        const __m512 ai = _mm512_set1_ps(rows[i][p]);
        acc[i][0] = _mm512_fmadd_ps(ai, b0, acc[i][0]);
        acc[i][1] = _mm512_fmadd_ps(ai, b1, acc[i][1]);
      }
    }
  }

  __mmask16 mask[NV];
  __m512 bv[NV];
  for (int v = 0; v < NV; ++v) {
    mask[v] = column_mask(nr_valid, v);
    bv[v] = bias != nullptr ? _mm512_maskz_loadu_ps(mask[v], bias + v * 16) : _mm512_setzero_ps();
  }
  const __m512 zero = _mm512_setzero_ps();
  for (int i = 0; i < MR && i < mr_valid; ++i) {
    float* ci = c + i * ldc;
    for (int v = 0; v < NV; ++v) {
      __m512 t = _mm512_add_ps(acc[i][v], bv[v]);
      // max(0, t) returns its second operand when either is NaN, so NaN is kept (and -0 stays -0).
      if (relu) t = _mm512_max_ps(zero, t);
      _mm512_mask_storeu_ps(ci + v * 16, mask[v], t);
    }
  }
}

}  // namespace tf
