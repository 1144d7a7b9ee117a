// AVX2+FMA vector-math kernels: the algorithms of vmath_impl.h on 8 floats per __m256. A tail of
// 1..7 elements runs the same code through maskload/maskstore (masked lanes never touch memory), so
// every element gets the same bits wherever it sits in the array.
#include <immintrin.h>

#include "ukernels/vmath_impl.h"
#include "ukernels/vmath_ukernels.h"

namespace tf {
namespace {

struct Avx2Ops {
  using F = __m256;
  using M = __m256;  // all-ones / all-zeros lanes, as the compares return them
  static F set(float c) { return _mm256_set1_ps(c); }
  static F add(F a, F b) { return _mm256_add_ps(a, b); }
  static F sub(F a, F b) { return _mm256_sub_ps(a, b); }
  static F mul(F a, F b) { return _mm256_mul_ps(a, b); }
  static F div(F a, F b) { return _mm256_div_ps(a, b); }
  static F fma(F a, F b, F c) { return _mm256_fmadd_ps(a, b, c); }
  static F fnma(F a, F b, F c) { return _mm256_fnmadd_ps(a, b, c); }
  // max/min return their second operand when a lane is NaN: x goes second, so NaN passes through.
  static F clamp(F x, F lo, F hi) { return _mm256_min_ps(hi, _mm256_max_ps(lo, x)); }
  static F abs(F x) { return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), x); }
  static F copysign(F mag, F sign) {
    const F s = _mm256_set1_ps(-0.0f);
    return _mm256_or_ps(_mm256_andnot_ps(s, mag), _mm256_and_ps(s, sign));
  }
  static F round(F x) { return _mm256_round_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
  static F pow2(F n) {
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23));
  }
  static F exponent(F x) {
    const __m256i biased = _mm256_srli_epi32(_mm256_castps_si256(x), 23);
    return _mm256_cvtepi32_ps(_mm256_sub_epi32(biased, _mm256_set1_epi32(127)));
  }
  static F mantissa(F x) {
    const __m256i frac = _mm256_and_si256(_mm256_castps_si256(x), _mm256_set1_epi32(0x007fffff));
    return _mm256_castsi256_ps(_mm256_or_si256(frac, _mm256_set1_epi32(0x3f800000)));
  }
  static M lt(F a, F b) { return _mm256_cmp_ps(a, b, _CMP_LT_OQ); }
  static M gt(F a, F b) { return _mm256_cmp_ps(a, b, _CMP_GT_OQ); }
  static M ge(F a, F b) { return _mm256_cmp_ps(a, b, _CMP_GE_OQ); }
  static M eq(F a, F b) { return _mm256_cmp_ps(a, b, _CMP_EQ_OQ); }
  static M isnan(F x) { return _mm256_cmp_ps(x, x, _CMP_UNORD_Q); }
  static F select(M m, F a, F b) { return _mm256_blendv_ps(b, a, m); }
};

using Math = vmath::Vmath<Avx2Ops>;

template <__m256 (*f)(__m256)>
void map(int64_t n, const float* x, float* y) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, f(_mm256_loadu_ps(x + i)));
  if (i < n) {
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256i mask = _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(n - i)), lane);
    _mm256_maskstore_ps(y + i, mask, f(_mm256_maskload_ps(x + i, mask)));
  }
}

}  // namespace

void vexp_f32__avx2_fma(int64_t n, const float* x, float* y) { map<&Math::exp>(n, x, y); }
void vexpm1_f32__avx2_fma(int64_t n, const float* x, float* y) { map<&Math::expm1>(n, x, y); }
void vlog_f32__avx2_fma(int64_t n, const float* x, float* y) { map<&Math::log>(n, x, y); }
void vtanh_f32__avx2_fma(int64_t n, const float* x, float* y) { map<&Math::tanh>(n, x, y); }
void vsigmoid_f32__avx2_fma(int64_t n, const float* x, float* y) { map<&Math::sigmoid>(n, x, y); }
void vsoftplus_f32__avx2_fma(int64_t n, const float* x, float* y) { map<&Math::softplus>(n, x, y); }

}  // namespace tf
