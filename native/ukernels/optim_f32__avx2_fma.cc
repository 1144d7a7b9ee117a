// AVX2+FMA Adam kernels: the update of optim_impl.h on 8 floats per __m256; the last 1..7 elements go
// through maskload/maskstore.
#include <immintrin.h>

#include <cfloat>

#include "ukernels/optim_impl.h"
#include "ukernels/optim_ukernels.h"

namespace tf {
namespace {

struct Avx2Ops {
  using F = __m256;
  using M = __m256i;  // all-ones lanes are loaded and stored
  static constexpr int64_t kLanes = 8;
  static F set(float c) { return _mm256_set1_ps(c); }
  static F mul(F a, F b) { return _mm256_mul_ps(a, b); }
  static F div(F a, F b) { return _mm256_div_ps(a, b); }
  static F sqrt(F x) { return _mm256_sqrt_ps(x); }
  static F fma(F a, F b, F c) { return _mm256_fmadd_ps(a, b, c); }
  // maxps(a, b) = a > b ? a : b, i.e. b unless b < a holds.
  static F max_of(F a, F b) { return _mm256_max_ps(a, b); }
  static F flush(F x) {
    const F abs = _mm256_andnot_ps(_mm256_set1_ps(-0.0f), x);
    const F tiny = _mm256_cmp_ps(abs, _mm256_set1_ps(FLT_MIN), _CMP_LT_OQ);
    return _mm256_andnot_ps(tiny, x);
  }
  static M tail(int64_t k) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(k < 8 ? k : 8)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  }
  template <bool kTail>
  static F load(M mask, const float* p) {
    if constexpr (kTail) return _mm256_maskload_ps(p, mask);
    return _mm256_loadu_ps(p);
  }
  template <bool kTail>
  static void store(M mask, float* p, F x) {
    if constexpr (kTail) {
      _mm256_maskstore_ps(p, mask, x);
    } else {
      _mm256_storeu_ps(p, x);
    }
  }
};

}  // namespace

void adam_f32__avx2_fma(const AdamUkernelParams& p, int64_t n, float* w, const float* g, float* m, float* v,
                        float* v_max) {
  adam_vectors_any<Avx2Ops, false>(p, n, w, g, m, v, v_max);
}

void adam_amsgrad_f32__avx2_fma(const AdamUkernelParams& p, int64_t n, float* w, const float* g, float* m, float* v,
                                float* v_max) {
  adam_vectors_any<Avx2Ops, true>(p, n, w, g, m, v, v_max);
}

}  // namespace tf
