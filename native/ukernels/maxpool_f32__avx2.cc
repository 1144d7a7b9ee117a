// AVX2 max-pooling micro-kernels (contract: pool_ukernels.h): 8 channels per ymm, the last block
// through masked loads/stores (masked-off lanes never touch memory).
#include <immintrin.h>

#include "ukernels/pool_ukernels.h"

namespace tf {
namespace {

inline __m256i tail_mask(int64_t left) {
  const int n = left >= 8 ? 8 : static_cast<int>(left);
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

// Lanes (all ones) where v replaces best: v > best, or v is NaN and best is not.
inline __m256 takes_max(__m256 v, __m256 best) {
  return _mm256_or_ps(_mm256_cmp_ps(v, best, _CMP_GT_OQ),
                      _mm256_and_ps(_mm256_cmp_ps(v, v, _CMP_UNORD_Q), _mm256_cmp_ps(best, best, _CMP_ORD_Q)));
}

}  // namespace

void maxpool_f32__avx2_max(int64_t c, int64_t ks, const float* const* in, float* out) {
  for (int64_t j = 0; j < c; j += 8) {
    const __m256i m = tail_mask(c - j);
    __m256 best = _mm256_maskload_ps(in[0] + j, m);
    for (int64_t s = 1; s < ks; ++s) {
      const __m256 v = _mm256_maskload_ps(in[s] + j, m);
      best = _mm256_blendv_ps(best, v, takes_max(v, best));
    }
    _mm256_maskstore_ps(out + j, m, best);
  }
}

void maxpool_f32__avx2_route(int64_t c, int64_t ks, const float* const* in, const float* dy, float* const* out) {
  for (int64_t j = 0; j < c; j += 8) {
    const __m256i m = tail_mask(c - j);
    __m256 best = _mm256_maskload_ps(in[0] + j, m);
    __m256i where = _mm256_setzero_si256();
    for (int64_t s = 1; s < ks; ++s) {
      const __m256 v = _mm256_maskload_ps(in[s] + j, m);
      const __m256 take = takes_max(v, best);
      best = _mm256_blendv_ps(best, v, take);
      where = _mm256_castps_si256(_mm256_blendv_ps(_mm256_castsi256_ps(where),
                                                   _mm256_castsi256_ps(_mm256_set1_epi32(static_cast<int>(s))), take));
    }
    // 0 + dy turns -0 into +0, as an accumulating dx = 0; dx += dy would.
    const __m256 value = _mm256_add_ps(_mm256_setzero_ps(), _mm256_maskload_ps(dy + j, m));
    for (int64_t s = 0; s < ks; ++s) {
      const __m256 hit = _mm256_castsi256_ps(_mm256_cmpeq_epi32(where, _mm256_set1_epi32(static_cast<int>(s))));
      _mm256_maskstore_ps(out[s] + j, m, _mm256_and_ps(hit, value));
    }
  }
}

}  // namespace tf
