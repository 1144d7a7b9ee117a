// AVX2+FMA epilogue helpers shared by the AVX2 GEMM kernels (gemm_*__avx2_fma.cc): e^x, the fused
// activations and the partial-column mask. Included only by files compiled with -mavx2 -mfma.
#pragma once

#include <immintrin.h>

#include "ukernels/gemm_ukernels.h"

namespace tf::avx2 {

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
    // max returns its second operand when either is NaN: max(0, x) keeps NaN, as the scalar
    // `x < 0 ? 0 : x`, the reference backend and PyTorch do.
    case GemmActivation::relu: return _mm256_max_ps(zero, x);
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

}  // namespace tf::avx2
