// AVX-512 vector-math kernels: the algorithms of vmath_impl.h on 16 floats per __m512. A tail of
// 1..15 elements runs the same code with a masked load and store (masked lanes never touch memory),
// so every element gets the same bits wherever it sits in the array. getexp/getmant split a float
// into exponent and mantissa in one instruction each.

// GCC 12 warns "__Y may be used uninitialized" inside its own AVX-512 headers (_mm512_undefined_ps,
// GCC bug 105593, fixed in 13). The warning is located in the system header, so silence it there.
#include "ukernels/x86_intrinsics.h"

#include "ukernels/vmath_impl.h"
#include "ukernels/vmath_ukernels.h"

namespace tf {
namespace {

struct Avx512Ops {
  using F = __m512;
  using M = __mmask16;
  static F set(float c) { return _mm512_set1_ps(c); }
  static F add(F a, F b) { return _mm512_add_ps(a, b); }
  static F sub(F a, F b) { return _mm512_sub_ps(a, b); }
  static F mul(F a, F b) { return _mm512_mul_ps(a, b); }
  static F div(F a, F b) { return _mm512_div_ps(a, b); }
  static F fma(F a, F b, F c) { return _mm512_fmadd_ps(a, b, c); }
  static F fnma(F a, F b, F c) { return _mm512_fnmadd_ps(a, b, c); }
  // max/min return their second operand when a lane is NaN: x goes second, so NaN passes through.
  static F clamp(F x, F lo, F hi) { return _mm512_min_ps(hi, _mm512_max_ps(lo, x)); }
  static F abs(F x) { return _mm512_abs_ps(x); }
  static F copysign(F mag, F sign) {
    const __m512i s = _mm512_set1_epi32(static_cast<int>(0x80000000u));
    const __m512i m = _mm512_andnot_si512(s, _mm512_castps_si512(mag));
    return _mm512_castsi512_ps(_mm512_or_si512(m, _mm512_and_si512(s, _mm512_castps_si512(sign))));
  }
  static F round(F x) { return _mm512_roundscale_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
  static F pow2(F n) {
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_add_epi32(_mm512_cvtps_epi32(n), _mm512_set1_epi32(127)), 23));
  }
  static F exponent(F x) { return _mm512_getexp_ps(x); }
  static F mantissa(F x) { return _mm512_getmant_ps(x, _MM_MANT_NORM_1_2, _MM_MANT_SIGN_zero); }
  static M lt(F a, F b) { return _mm512_cmp_ps_mask(a, b, _CMP_LT_OQ); }
  static M gt(F a, F b) { return _mm512_cmp_ps_mask(a, b, _CMP_GT_OQ); }
  static M ge(F a, F b) { return _mm512_cmp_ps_mask(a, b, _CMP_GE_OQ); }
  static M eq(F a, F b) { return _mm512_cmp_ps_mask(a, b, _CMP_EQ_OQ); }
  static M isnan(F x) { return _mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q); }
  static F select(M m, F a, F b) { return _mm512_mask_blend_ps(m, b, a); }
};

using Math = vmath::Vmath<Avx512Ops>;

template <__m512 (*f)(__m512)>
void map(int64_t n, const float* x, float* y) {
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) _mm512_storeu_ps(y + i, f(_mm512_loadu_ps(x + i)));
  if (i < n) {
    const __mmask16 mask = static_cast<__mmask16>((1u << (n - i)) - 1u);
    _mm512_mask_storeu_ps(y + i, mask, f(_mm512_maskz_loadu_ps(mask, x + i)));
  }
}

}  // namespace

void vexp_f32__avx512f(int64_t n, const float* x, float* y) { map<&Math::exp>(n, x, y); }
void vexpm1_f32__avx512f(int64_t n, const float* x, float* y) { map<&Math::expm1>(n, x, y); }
void vlog_f32__avx512f(int64_t n, const float* x, float* y) { map<&Math::log>(n, x, y); }
void vtanh_f32__avx512f(int64_t n, const float* x, float* y) { map<&Math::tanh>(n, x, y); }
void vsigmoid_f32__avx512f(int64_t n, const float* x, float* y) { map<&Math::sigmoid>(n, x, y); }
void vsoftplus_f32__avx512f(int64_t n, const float* x, float* y) { map<&Math::softplus>(n, x, y); }

}  // namespace tf
