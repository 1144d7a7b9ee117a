// AVX-512 Adam micro-kernels (contract: optim_ukernels.h): 16 floats per zmm, FMA; the last block
// through masked loads/stores (masked-off lanes never touch memory), so a tail runs the very same
// instructions as the body.
#include "ukernels/optim_ukernels.h"
#include "ukernels/x86_intrinsics.h"

namespace tf {
namespace {

inline __mmask16 tail_mask(int64_t left) {
  return left >= 16 ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << left) - 1);
}

template <bool kAmsgrad, bool kL2>
void adam_loop(const AdamUkernelParams& p, int64_t n, float* w, const float* g, float* m, float* v, float* v_max) {
  const __m512 b1 = _mm512_set1_ps(p.beta1), c1 = _mm512_set1_ps(p.one_minus_beta1);
  const __m512 b2 = _mm512_set1_ps(p.beta2), c2 = _mm512_set1_ps(p.one_minus_beta2);
  const __m512 decay = _mm512_set1_ps(p.decay), l2 = _mm512_set1_ps(p.l2);
  const __m512 inv_sqrt_bc2 = _mm512_set1_ps(p.inv_sqrt_bc2), eps = _mm512_set1_ps(p.eps);
  const __m512 neg_step = _mm512_set1_ps(p.neg_step_size);
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 k = tail_mask(n - i);
    __m512 wi = _mm512_mul_ps(_mm512_maskz_loadu_ps(k, w + i), decay);
    __m512 gi = _mm512_maskz_loadu_ps(k, g + i);
    if constexpr (kL2) gi = _mm512_fmadd_ps(l2, wi, gi);
    const __m512 mi = _mm512_fmadd_ps(b1, _mm512_maskz_loadu_ps(k, m + i), _mm512_mul_ps(c1, gi));
    const __m512 vi = _mm512_fmadd_ps(b2, _mm512_maskz_loadu_ps(k, v + i), _mm512_mul_ps(_mm512_mul_ps(c2, gi), gi));
    _mm512_mask_storeu_ps(m + i, k, mi);
    _mm512_mask_storeu_ps(v + i, k, vi);
    __m512 v_used = vi;
    if constexpr (kAmsgrad) {
      // max(v, v_max) keeps v_max when either is NaN, as std::max(v_max, v) in the portable kernel.
      v_used = _mm512_max_ps(vi, _mm512_maskz_loadu_ps(k, v_max + i));
      _mm512_mask_storeu_ps(v_max + i, k, v_used);
    }
    const __m512 denom = _mm512_fmadd_ps(_mm512_sqrt_ps(v_used), inv_sqrt_bc2, eps);
    wi = _mm512_fmadd_ps(neg_step, _mm512_div_ps(mi, denom), wi);
    _mm512_mask_storeu_ps(w + i, k, wi);
  }
}

}  // namespace

void adam_f32__avx512f(const AdamUkernelParams& p, int64_t n, float* w, const float* g, float* m, float* v,
                       float* v_max) {
  if (p.l2 != 0) {
    adam_loop<false, true>(p, n, w, g, m, v, v_max);
  } else {
    adam_loop<false, false>(p, n, w, g, m, v, v_max);
  }
}

void adam_amsgrad_f32__avx512f(const AdamUkernelParams& p, int64_t n, float* w, const float* g, float* m, float* v,
                               float* v_max) {
  if (p.l2 != 0) {
    adam_loop<true, true>(p, n, w, g, m, v, v_max);
  } else {
    adam_loop<true, false>(p, n, w, g, m, v, v_max);
  }
}

}  // namespace tf
