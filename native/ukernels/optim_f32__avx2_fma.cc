// AVX2 Adam micro-kernels (contract: optim_ukernels.h): 8 floats per ymm, FMA; the last block
// through maskload/maskstore (masked-off lanes never touch memory), so a tail runs the very same
// instructions as the body.
#include "ukernels/optim_ukernels.h"
#include "ukernels/x86_intrinsics.h"

namespace tf {
namespace {

inline __m256i tail_mask(int64_t left) {
  const int n = left >= 8 ? 8 : static_cast<int>(left);
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

template <bool kAmsgrad, bool kL2>
void adam_loop(const AdamUkernelParams& p, int64_t n, float* w, const float* g, float* m, float* v, float* v_max) {
  const __m256 b1 = _mm256_set1_ps(p.beta1), c1 = _mm256_set1_ps(p.one_minus_beta1);
  const __m256 b2 = _mm256_set1_ps(p.beta2), c2 = _mm256_set1_ps(p.one_minus_beta2);
  const __m256 decay = _mm256_set1_ps(p.decay), l2 = _mm256_set1_ps(p.l2);
  const __m256 inv_sqrt_bc2 = _mm256_set1_ps(p.inv_sqrt_bc2), eps = _mm256_set1_ps(p.eps);
  const __m256 neg_step = _mm256_set1_ps(p.neg_step_size);
  for (int64_t i = 0; i < n; i += 8) {
    const __m256i k = tail_mask(n - i);
    __m256 wi = _mm256_mul_ps(_mm256_maskload_ps(w + i, k), decay);
    __m256 gi = _mm256_maskload_ps(g + i, k);
    if constexpr (kL2) gi = _mm256_fmadd_ps(l2, wi, gi);
    const __m256 mi = _mm256_fmadd_ps(b1, _mm256_maskload_ps(m + i, k), _mm256_mul_ps(c1, gi));
    const __m256 vi = _mm256_fmadd_ps(b2, _mm256_maskload_ps(v + i, k), _mm256_mul_ps(_mm256_mul_ps(c2, gi), gi));
    _mm256_maskstore_ps(m + i, k, mi);
    _mm256_maskstore_ps(v + i, k, vi);
    __m256 v_used = vi;
    if constexpr (kAmsgrad) {
      // max(v, v_max) keeps v_max when either is NaN, as std::max(v_max, v) in the portable kernel.
      v_used = _mm256_max_ps(vi, _mm256_maskload_ps(v_max + i, k));
      _mm256_maskstore_ps(v_max + i, k, v_used);
    }
    const __m256 denom = _mm256_fmadd_ps(_mm256_sqrt_ps(v_used), inv_sqrt_bc2, eps);
    wi = _mm256_fmadd_ps(neg_step, _mm256_div_ps(mi, denom), wi);
    _mm256_maskstore_ps(w + i, k, wi);
  }
}

}  // namespace

void adam_f32__avx2_fma(const AdamUkernelParams& p, int64_t n, float* w, const float* g, float* m, float* v,
                       float* v_max) {
  if (p.l2 != 0) {
    adam_loop<false, true>(p, n, w, g, m, v, v_max);
  } else {
    adam_loop<false, false>(p, n, w, g, m, v, v_max);
  }
}

void adam_amsgrad_f32__avx2_fma(const AdamUkernelParams& p, int64_t n, float* w, const float* g, float* m, float* v,
                               float* v_max) {
  if (p.l2 != 0) {
    adam_loop<true, true>(p, n, w, g, m, v, v_max);
  } else {
    adam_loop<true, false>(p, n, w, g, m, v, v_max);
  }
}

}  // namespace tf
