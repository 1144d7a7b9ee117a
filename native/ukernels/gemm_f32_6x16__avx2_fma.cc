// AVX2+FMA 6x16 GEMM micro-kernel: 6 rows x 2 ymm columns = 12 accumulators, 2 B vectors and one
// broadcast: 15 of the 16 ymm registers. The epilogue (add C, add bias, activate) runs on the
// registers; a partial last column block uses maskload/maskstore (masked lanes never touch memory).
#include <immintrin.h>

#include "ukernels/gemm_ukernels.h"

namespace tf {
namespace {

// e^x: Cody-Waite reduction and a degree-6 polynomial (Cephes expf), 2^n built in the exponent
// bits. Clamped to [-87, 88] so the result stays a normal finite float.
inline __m256 exp_ps(__m256 x) {
  x = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(-87.0f)), _mm256_set1_ps(88.0f));
  const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                                   _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
  r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
  __m256 p = _mm256_set1_ps(1.9875691500e-4f);
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
  const __m256 y = _mm256_add_ps(_mm256_fmadd_ps(_mm256_mul_ps(p, r), r, r), _mm256_set1_ps(1.0f));
  const __m256i bits = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
  return _mm256_mul_ps(y, _mm256_castsi256_ps(bits));
}

inline __m256 activate(__m256 x, GemmActivation act, float alpha) {
  const __m256 zero = _mm256_setzero_ps();
  const __m256 one = _mm256_set1_ps(1.0f);
  switch (act) {
    case GemmActivation::none: return x;
    // max(x, 0) returns 0 for NaN, like the scalar `x > 0 ? x : 0`.
    case GemmActivation::relu: return _mm256_max_ps(x, zero);
    case GemmActivation::leaky_relu: {
      const __m256 pos = _mm256_cmp_ps(x, zero, _CMP_GT_OQ);
      return _mm256_blendv_ps(_mm256_mul_ps(x, _mm256_set1_ps(alpha)), x, pos);
    }
    case GemmActivation::elu: {
      const __m256 pos = _mm256_cmp_ps(x, zero, _CMP_GT_OQ);
      const __m256 neg = _mm256_mul_ps(_mm256_sub_ps(exp_ps(x), one), _mm256_set1_ps(alpha));
      return _mm256_blendv_ps(neg, x, pos);
    }
    case GemmActivation::sigmoid:
      return _mm256_div_ps(one, _mm256_add_ps(one, exp_ps(_mm256_sub_ps(zero, x))));
    case GemmActivation::tanh: {
      // tanh|x| = (1 - e^{-2|x|}) / (1 + e^{-2|x|}), sign restored from x.
      const __m256 sign_bit = _mm256_set1_ps(-0.0f);
      const __m256 ax = _mm256_andnot_ps(sign_bit, x);
      const __m256 e = exp_ps(_mm256_mul_ps(ax, _mm256_set1_ps(-2.0f)));
      const __m256 t = _mm256_div_ps(_mm256_sub_ps(one, e), _mm256_add_ps(one, e));
      return _mm256_or_ps(t, _mm256_and_ps(x, sign_bit));
    }
  }
  return x;
}

// Lane j of vector v is valid when v*8 + j < nr_valid.
inline __m256i column_mask(int nr_valid, int v) {
  const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(nr_valid - v * 8), lane);
}

}  // namespace

void gemm_f32_6x16__avx2_fma(int64_t kc, const float* a, const float* b, float* c, int64_t ldc, int mr_valid,
                             int nr_valid, const GemmTileEpilogue& ep) {
  constexpr int MR = 6;
  constexpr int NV = 2;
  constexpr int NR = NV * 8;
  // Twelve named accumulators: with an acc[MR][NV] array GCC 12 stores every accumulator to the
  // stack on each k step (the epilogue indexes rows at run time), which capped the kernel at ~60% of
  // the AVX2 FMA peak. Named values stay in ymm registers for the whole loop.
  __m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
  __m256 c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
  for (int64_t p = 0; p < kc; ++p) {
    const __m256 b0 = _mm256_load_ps(b);
    const __m256 b1 = _mm256_load_ps(b + 8);
    __m256 ai = _mm256_broadcast_ss(a + 0);
    c00 = _mm256_fmadd_ps(ai, b0, c00);
    c01 = _mm256_fmadd_ps(ai, b1, c01);
    ai = _mm256_broadcast_ss(a + 1);
    c10 = _mm256_fmadd_ps(ai, b0, c10);
    c11 = _mm256_fmadd_ps(ai, b1, c11);
    ai = _mm256_broadcast_ss(a + 2);
    c20 = _mm256_fmadd_ps(ai, b0, c20);
    c21 = _mm256_fmadd_ps(ai, b1, c21);
    ai = _mm256_broadcast_ss(a + 3);
    c30 = _mm256_fmadd_ps(ai, b0, c30);
    c31 = _mm256_fmadd_ps(ai, b1, c31);
    ai = _mm256_broadcast_ss(a + 4);
    c40 = _mm256_fmadd_ps(ai, b0, c40);
    c41 = _mm256_fmadd_ps(ai, b1, c41);
    ai = _mm256_broadcast_ss(a + 5);
    c50 = _mm256_fmadd_ps(ai, b0, c50);
    c51 = _mm256_fmadd_ps(ai, b1, c51);
    a += MR;
    b += NR;
  }
  const __m256 out[MR][NV] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}, {c40, c41}, {c50, c51}};

  const bool full = nr_valid == NR;
  __m256i mask[NV];
  __m256 bias[NV];
  for (int v = 0; v < NV; ++v) {
    mask[v] = column_mask(nr_valid, v);
    bias[v] = ep.finish && ep.bias != nullptr ? _mm256_maskload_ps(ep.bias + v * 8, mask[v]) : _mm256_setzero_ps();
  }
  for (int i = 0; i < MR; ++i) {
    if (i >= mr_valid) break;
    float* ci = c + i * ldc;
    for (int v = 0; v < NV; ++v) {
      __m256 t = out[i][v];
      if (ep.load_c) t = _mm256_add_ps(t, full ? _mm256_loadu_ps(ci + v * 8) : _mm256_maskload_ps(ci + v * 8, mask[v]));
      if (ep.finish) {
        if (ep.bias != nullptr) t = _mm256_add_ps(t, bias[v]);
        t = activate(t, ep.activation, ep.alpha);
      }
      if (full) {
        _mm256_storeu_ps(ci + v * 8, t);
      } else {
        _mm256_maskstore_ps(ci + v * 8, mask[v], t);
      }
    }
  }
}

}  // namespace tf
