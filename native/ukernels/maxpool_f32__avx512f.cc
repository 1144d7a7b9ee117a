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

namespace tf {

// 2x2 windows, stride 2, no padding, one row of OW windows per call (pool_ukernels.h): a and b are the
// two input rows, window ow reads pixels 2ow and 2ow+1 of each (c floats apiece). In the window's row-major
// order (a0, a1, b0, b1) with takes_max, so the first maximum, as the per-window kernels above.
void maxpool2x2_f32__avx512f_row(int64_t c, int64_t ow, const float* a, const float* b, float* y) {
  for (int64_t i = 0; i < ow; ++i, a += 2 * c, b += 2 * c, y += c) {
    for (int64_t j = 0; j < c; j += 16) {
      const __mmask16 m = tail_mask(c - j);
      __m512 best = _mm512_maskz_loadu_ps(m, a + j);
      __m512 v = _mm512_maskz_loadu_ps(m, a + c + j);
      best = _mm512_mask_mov_ps(best, takes_max(v, best), v);
      v = _mm512_maskz_loadu_ps(m, b + j);
      best = _mm512_mask_mov_ps(best, takes_max(v, best), v);
      v = _mm512_maskz_loadu_ps(m, b + c + j);
      best = _mm512_mask_mov_ps(best, takes_max(v, best), v);
      _mm512_mask_storeu_ps(y + j, m, best);
    }
  }
}

void maxpool2x2_f32__avx512f_route_row(int64_t c, int64_t ow, const float* a, const float* b, const float* dy,
                                       float* da, float* db) {
  for (int64_t i = 0; i < ow; ++i, a += 2 * c, b += 2 * c, dy += c, da += 2 * c, db += 2 * c) {
    for (int64_t j = 0; j < c; j += 16) {
      const __mmask16 m = tail_mask(c - j);
      const __m512 a0 = _mm512_maskz_loadu_ps(m, a + j), a1 = _mm512_maskz_loadu_ps(m, a + c + j);
      const __m512 b0 = _mm512_maskz_loadu_ps(m, b + j), b1 = _mm512_maskz_loadu_ps(m, b + c + j);
      const __mmask16 t1 = takes_max(a1, a0);
      const __m512 m1 = _mm512_mask_mov_ps(a0, t1, a1);
      const __mmask16 t2 = takes_max(b0, m1);
      const __m512 m2 = _mm512_mask_mov_ps(m1, t2, b0);
      const __mmask16 t3 = takes_max(b1, m2);
      // Lanes whose maximum is b1, b0 (and not later), a1, a0.
      const __mmask16 at_b1 = t3, at_b0 = t2 & ~t3, at_a1 = t1 & ~t2 & ~t3;
      const __mmask16 at_a0 = static_cast<__mmask16>(~(t1 | t2 | t3));
      // 0 + dy turns -0 into +0, as an accumulating dx = 0; dx += dy would.
      const __m512 g = _mm512_add_ps(_mm512_setzero_ps(), _mm512_maskz_loadu_ps(m, dy + j));
      _mm512_mask_storeu_ps(da + j, m, _mm512_maskz_mov_ps(at_a0, g));
      _mm512_mask_storeu_ps(da + c + j, m, _mm512_maskz_mov_ps(at_a1, g));
      _mm512_mask_storeu_ps(db + j, m, _mm512_maskz_mov_ps(at_b0, g));
      _mm512_mask_storeu_ps(db + c + j, m, _mm512_maskz_mov_ps(at_b1, g));
    }
  }
}

}  // namespace tf
