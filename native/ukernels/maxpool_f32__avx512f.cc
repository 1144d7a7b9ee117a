// AVX-512 max-pooling micro-kernels (contract: pool_ukernels.h): 16 channels per zmm, the last block
// masked (masked-off lanes never touch memory).
#include "ukernels/x86_intrinsics.h"

#include "ukernels/pool_ukernels.h"

namespace tf {
namespace {

inline __mmask16 tail_mask(int64_t left) {
  return left >= 16 ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << left) - 1u);
}

// Lanes where v replaces best: v > best, or v is NaN and best is not.
inline __mmask16 takes_max(__m512 v, __m512 best) {
  return _mm512_cmp_ps_mask(v, best, _CMP_GT_OQ) |
         (_mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q) & _mm512_cmp_ps_mask(best, best, _CMP_ORD_Q));
}

}  // namespace

void maxpool_f32__avx512f_max(int64_t c, int64_t ks, const float* const* in, float* out) {
  for (int64_t j = 0; j < c; j += 16) {
    const __mmask16 m = tail_mask(c - j);
    __m512 best = _mm512_maskz_loadu_ps(m, in[0] + j);
    for (int64_t s = 1; s < ks; ++s) {
      const __m512 v = _mm512_maskz_loadu_ps(m, in[s] + j);
      best = _mm512_mask_mov_ps(best, takes_max(v, best), v);
    }
    _mm512_mask_storeu_ps(out + j, m, best);
  }
}

void maxpool_f32__avx512f_route(int64_t c, int64_t ks, const float* const* in, const float* dy, float* const* out) {
  for (int64_t j = 0; j < c; j += 16) {
    const __mmask16 m = tail_mask(c - j);
    __m512 best = _mm512_maskz_loadu_ps(m, in[0] + j);
    __m512i where = _mm512_setzero_si512();
    for (int64_t s = 1; s < ks; ++s) {
      const __m512 v = _mm512_maskz_loadu_ps(m, in[s] + j);
      const __mmask16 take = takes_max(v, best);
      best = _mm512_mask_mov_ps(best, take, v);
      where = _mm512_mask_mov_epi32(where, take, _mm512_set1_epi32(static_cast<int>(s)));
    }
    // 0 + dy turns -0 into +0, as an accumulating dx = 0; dx += dy would.
    const __m512 value = _mm512_add_ps(_mm512_setzero_ps(), _mm512_maskz_loadu_ps(m, dy + j));
    for (int64_t s = 0; s < ks; ++s) {
      const __mmask16 hit = _mm512_cmpeq_epi32_mask(where, _mm512_set1_epi32(static_cast<int>(s)));
      _mm512_mask_storeu_ps(out[s] + j, m, _mm512_maskz_mov_ps(hit, value));
    }
  }
}

}  // namespace tf
