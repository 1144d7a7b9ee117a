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

// MR pixels x NV zmm of output channels; the MR row pointers of a tap live in registers for its kc loop,
// unrolled Unroll times (one loop branch per Unroll input channels).
template <int MR, int NV, int Unroll = 1>
inline void igemm_tile(int64_t ks, int64_t kc, const float* const* a, const float* w, float* c, int64_t ldc,
                       int mr_valid, int nr_valid, const float* bias, bool relu) {
  constexpr int NR = NV * 16;
  __m512 acc[MR][NV];
  for (int i = 0; i < MR; ++i)
    for (int v = 0; v < NV; ++v) acc[i][v] = _mm512_setzero_ps();

  for (int64_t s = 0; s < ks; ++s, a += MR) {
    const float* rows[MR];
    for (int i = 0; i < MR; ++i) rows[i] = a[i];
    auto step = [&](int64_t p) {
      __m512 b[NV];
      for (int v = 0; v < NV; ++v) b[v] = _mm512_loadu_ps(w + v * 16);
      for (int i = 0; i < MR; ++i) {
        const __m512 ai = _mm512_set1_ps(rows[i][p]);
        for (int v = 0; v < NV; ++v) acc[i][v] = _mm512_fmadd_ps(ai, b[v], acc[i][v]);
      }
      w += NR;
    };
    int64_t p = 0;
    if constexpr (Unroll > 1) {
      for (; p + Unroll <= kc; p += Unroll) {
        for (int u = 0; u < Unroll; ++u) step(p + u);
      }
    }
    for (; p < kc; ++p) step(p);
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
  igemm_tile<6, 4, 2>(ks, kc, a, w, c, ldc, mr_valid, nr_valid, bias, relu);
}

namespace {

// r[i] = row i (16 floats) -> r[j] = column j of the 16 x 16 block: 64 shuffles, all in registers.
inline void transpose16(__m512 (&r)[16]) {
  __m512 t[16], u[16];
  for (int k = 0; k < 8; ++k) {
    t[2 * k] = _mm512_unpacklo_ps(r[2 * k], r[2 * k + 1]);
    t[2 * k + 1] = _mm512_unpackhi_ps(r[2 * k], r[2 * k + 1]);
  }
  // u[4m + c], 128-bit lane L: rows 4m..4m+3 of column 4L + c.
  for (int m = 0; m < 4; ++m) {
    u[4 * m + 0] = _mm512_shuffle_ps(t[4 * m], t[4 * m + 2], 0x44);
    u[4 * m + 1] = _mm512_shuffle_ps(t[4 * m], t[4 * m + 2], 0xEE);
    u[4 * m + 2] = _mm512_shuffle_ps(t[4 * m + 1], t[4 * m + 3], 0x44);
    u[4 * m + 3] = _mm512_shuffle_ps(t[4 * m + 1], t[4 * m + 3], 0xEE);
  }
  for (int c = 0; c < 4; ++c) {
    const __m512 even_lo = _mm512_shuffle_f32x4(u[c], u[4 + c], 0x88);
    const __m512 even_hi = _mm512_shuffle_f32x4(u[8 + c], u[12 + c], 0x88);
    const __m512 odd_lo = _mm512_shuffle_f32x4(u[c], u[4 + c], 0xDD);
    const __m512 odd_hi = _mm512_shuffle_f32x4(u[8 + c], u[12 + c], 0xDD);
    r[c] = _mm512_shuffle_f32x4(even_lo, even_hi, 0x88);
    r[8 + c] = _mm512_shuffle_f32x4(even_lo, even_hi, 0xDD);
    r[4 + c] = _mm512_shuffle_f32x4(odd_lo, odd_hi, 0x88);
    r[12 + c] = _mm512_shuffle_f32x4(odd_lo, odd_hi, 0xDD);
  }
}

}  // namespace

// Blocks of 16 pixels x 16 channels transposed in registers (loads and stores of whole rows; a partial
// block of pixels loads zero rows and stores through a lane mask); the channels past the last multiple
// of 16 are gathered, 16 pixels of one channel per instruction. Nothing past count or c is read or
// written. Index overflow (src_stride * 15 >= 2^31) takes the plain loop for those channels.
void conv_planes_f32__avx512f(int64_t count, int64_t c, const float* src, int64_t src_stride, float* dst,
                              int64_t dst_stride) {
  const int64_t c16 = c / 16 * 16;
  const bool gather = src_stride <= (int64_t{1} << 27);
  const __m512i idx = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                         _mm512_set1_epi32(static_cast<int>(gather ? src_stride : 0)));
  for (int64_t p0 = 0; p0 < count; p0 += 16) {
    const int64_t np = std::min<int64_t>(16, count - p0);
    const __mmask16 mask = static_cast<__mmask16>(np >= 16 ? 0xFFFFu : (1u << np) - 1u);
    const float* sp = src + p0 * src_stride;
    float* dp = dst + p0;
    for (int64_t c0 = 0; c0 < c16; c0 += 16) {
      __m512 r[16];
      for (int i = 0; i < 16; ++i) r[i] = i < np ? _mm512_loadu_ps(sp + i * src_stride + c0) : _mm512_setzero_ps();
      transpose16(r);
      for (int j = 0; j < 16; ++j) _mm512_mask_storeu_ps(dp + (c0 + j) * dst_stride, mask, r[j]);
    }
    for (int64_t ci = c16; ci < c; ++ci) {
      if (!gather) {
        for (int64_t i = 0; i < np; ++i) dp[ci * dst_stride + i] = sp[i * src_stride + ci];
        continue;
      }
      const __m512 v = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), mask, idx, sp + ci, 4);
      _mm512_mask_storeu_ps(dp + ci * dst_stride, mask, v);
    }
  }
}

}  // namespace tf
