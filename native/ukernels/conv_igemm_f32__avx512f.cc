// AVX-512 indirect-GEMM convolution micro-kernels (contract: conv_ukernels.h), one template, three
// tiles (see conv_ukernels.inc for the measured choice).
#include <algorithm>

#include "ukernels/x86_intrinsics.h"

#include "ukernels/conv_ukernels.h"

namespace tf {
namespace {

inline __mmask16 column_mask(int nr_valid, int v) {
  const int left = nr_valid - v * 16;
  if (left >= 16) return 0xFFFF;
  if (left <= 0) return 0;
  return static_cast<__mmask16>((1u << left) - 1u);
}

// MR pixels x NV zmm of output channels; the MR row pointers of a tap live in registers for its kc loop.
template <int MR, int NV>
inline void igemm_tile(int64_t ks, int64_t kc, const float* const* a, const float* w, float* c, int64_t ldc,
                       int mr_valid, int nr_valid, const float* bias, bool relu) {
  constexpr int NR = NV * 16;
  __m512 acc[MR][NV];
  for (int i = 0; i < MR; ++i)
    for (int v = 0; v < NV; ++v) acc[i][v] = _mm512_setzero_ps();

  for (int64_t s = 0; s < ks; ++s, a += MR) {
    const float* rows[MR];
    for (int i = 0; i < MR; ++i) rows[i] = a[i];
    for (int64_t p = 0; p < kc; ++p, w += NR) {
      __m512 b[NV];
      for (int v = 0; v < NV; ++v) b[v] = _mm512_loadu_ps(w + v * 16);
      for (int i = 0; i < MR; ++i) {
        const __m512 ai = _mm512_set1_ps(rows[i][p]);
        for (int v = 0; v < NV; ++v) acc[i][v] = _mm512_fmadd_ps(ai, b[v], acc[i][v]);
      }
    }
  }

  __mmask16 mask[NV];
  __m512 bv[NV];
  for (int v = 0; v < NV; ++v) {
    mask[v] = column_mask(nr_valid, v);
    bv[v] = bias != nullptr ? _mm512_maskz_loadu_ps(mask[v], bias + v * 16) : _mm512_setzero_ps();
  }
  const __m512 zero = _mm512_setzero_ps();
  for (int i = 0; i < MR && i < mr_valid; ++i) {
    float* ci = c + i * ldc;
    for (int v = 0; v < NV; ++v) {
      __m512 t = _mm512_add_ps(acc[i][v], bv[v]);
      // max(0, t) returns its second operand when either is NaN, so NaN is kept (and -0 stays -0).
      if (relu) t = _mm512_max_ps(zero, t);
      _mm512_mask_storeu_ps(ci + v * 16, mask[v], t);
    }
  }
}

}  // namespace

void conv_igemm_f32_8x32__avx512f(int64_t ks, int64_t kc, const float* const* a, const float* w, float* c,
                                  int64_t ldc, int mr_valid, int nr_valid, const float* bias, bool relu) {
  igemm_tile<8, 2>(ks, kc, a, w, c, ldc, mr_valid, nr_valid, bias, relu);
}

void conv_igemm_f32_16x16__avx512f(int64_t ks, int64_t kc, const float* const* a, const float* w, float* c,
                                   int64_t ldc, int mr_valid, int nr_valid, const float* bias, bool relu) {
  igemm_tile<16, 1>(ks, kc, a, w, c, ldc, mr_valid, nr_valid, bias, relu);
}

void conv_igemm_f32_6x64__avx512f(int64_t ks, int64_t kc, const float* const* a, const float* w, float* c,
                                  int64_t ldc, int mr_valid, int nr_valid, const float* bias, bool relu) {
  igemm_tile<6, 4>(ks, kc, a, w, c, ldc, mr_valid, nr_valid, bias, relu);
}

// 16 pixels of one channel per gather (the 16 source lines stay in L1 across the channels); a partial
// block of pixels through a lane mask (nothing past count is read or written). Index overflow
// (src_stride * 15 >= 2^31) falls back to the plain loop.
void conv_planes_f32__avx512f(int64_t count, int64_t c, const float* src, int64_t src_stride, float* dst,
                              int64_t dst_stride) {
  if (src_stride > (int64_t{1} << 27)) return conv_planes_f32__scalar(count, c, src, src_stride, dst, dst_stride);
  const __m512i idx = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                         _mm512_set1_epi32(static_cast<int>(src_stride)));
  for (int64_t p0 = 0; p0 < count; p0 += 16) {
    const int64_t np = std::min<int64_t>(16, count - p0);
    const __mmask16 mask = static_cast<__mmask16>(np >= 16 ? 0xFFFFu : (1u << np) - 1u);
    const float* sp = src + p0 * src_stride;
    float* dp = dst + p0;
    for (int64_t ci = 0; ci < c; ++ci) {
      const __m512 v = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), mask, idx, sp + ci, 4);
      _mm512_mask_storeu_ps(dp + ci * dst_stride, mask, v);
    }
  }
}

}  // namespace tf
