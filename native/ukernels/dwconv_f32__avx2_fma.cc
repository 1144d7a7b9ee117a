// AVX2 depthwise micro-kernels (contract: dwconv_ukernels.h): 8 channels per ymm, the last block
// through masked loads/stores (masked-off lanes never touch memory).
#include <immintrin.h>

#include "ukernels/dwconv_ukernels.h"

namespace tf {
namespace {


inline __m256i tail_mask(int64_t left) {
  const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  const int n = left >= 8 ? 8 : left <= 0 ? 0 : static_cast<int>(left);
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), lane);
}

// Taps whose accumulators stay in registers across the pixel run (6 x 2 ymm = 12 accumulators).
constexpr int kTapGroup = 6;

// The row kernels' vector interface (dwconv_impl.h): one ymm, the channel tail through maskload/maskstore.
struct Ops {
  static constexpr int kFwdTile = 8;   // output pixels per forward register tile
  static constexpr int kFwd2Tile = 4;  // the same with two output rows (fwd_row2)
  static constexpr int kGradTile = 4;   // pixels per backward-filter tile (their dy vectors in registers)
  static constexpr int64_t L = 8;
  using V = __m256;
  using M = __m256i;
  static M mask(int64_t n) { return tail_mask(n); }
  static M mask_from(int64_t n) {
    return _mm256_cmpgt_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), _mm256_set1_epi32(static_cast<int>(n) - 1));
  }
  static constexpr bool kAlign = true;
  static V zero() { return _mm256_setzero_ps(); }
  static V load(const float* p) { return _mm256_loadu_ps(p); }
  static V load(const float* p, M m) { return _mm256_maskload_ps(p, m); }
  static void store(float* p, V v) { _mm256_storeu_ps(p, v); }
  static void store(float* p, V v, M m) { _mm256_maskstore_ps(p, m, v); }
  static V fma(V a, V b, V acc) { return _mm256_fmadd_ps(a, b, acc); }
  // Keeps a loaded vector in a register: without it GCC folds the load into every multiply-add using
  // it (a memory operand each), loading the same vector up to KW times; loads bound these kernels.
  static V pin(V v) {
    asm volatile("" : "+v"(v));
    return v;
  }
  static V add(V a, V b) { return _mm256_add_ps(a, b); }
};

#include "ukernels/dwconv_impl.h"

}  // namespace

void dwconv_f32__avx2_fma_fwd(int64_t c, int64_t ks, const float* const* in, const float* const* w, const float* bias,
                              float* out, int64_t count, int64_t in_stride) {
  for (int64_t p = 0; p < count; ++p, out += c) {
    const int64_t off = p * in_stride;
    int64_t j = 0;
    // 32 channels at a time: four independent FMA chains hide the FMA latency.
    for (; j + 32 <= c; j += 32) {
      __m256 acc[4];
      for (int v = 0; v < 4; ++v) acc[v] = bias != nullptr ? _mm256_loadu_ps(bias + j + 8 * v) : _mm256_setzero_ps();
      for (int64_t s = 0; s < ks; ++s) {
        const float* x = in[s] + off + j;
        const float* k = w[s] + j;
        for (int v = 0; v < 4; ++v) acc[v] = _mm256_fmadd_ps(_mm256_loadu_ps(x + 8 * v), _mm256_loadu_ps(k + 8 * v), acc[v]);
      }
      for (int v = 0; v < 4; ++v) _mm256_storeu_ps(out + j + 8 * v, acc[v]);
    }
    for (; j < c; j += 8) {
      const __m256i m = tail_mask(c - j);
      __m256 acc = bias != nullptr ? _mm256_maskload_ps(bias + j, m) : _mm256_setzero_ps();
      for (int64_t s = 0; s < ks; ++s) {
        acc = _mm256_fmadd_ps(_mm256_maskload_ps(in[s] + off + j, m), _mm256_maskload_ps(w[s] + j, m), acc);
      }
      _mm256_maskstore_ps(out + j, m, acc);
    }
  }
}

// Per block of 16 channels and group of up to 6 taps, the accumulators live in registers for the whole
// pixel run and are added to acc once at the end.
void dwconv_f32__avx2_fma_grad(int64_t c, int64_t ks, const float* const* in, const float* dy, float* const* acc,
                               float* acc_bias, int64_t count, int64_t in_stride) {
  for (int64_t j = 0; j < c; j += 16) {
    const __m256i m0 = tail_mask(c - j);
    const __m256i m1 = tail_mask(c - j - 8);
    for (int64_t s0 = 0; s0 < ks; s0 += kTapGroup) {
      const int n = static_cast<int>(ks - s0 < kTapGroup ? ks - s0 : kTapGroup);
      __m256 a0[kTapGroup], a1[kTapGroup];
      for (int t = 0; t < kTapGroup; ++t) a0[t] = a1[t] = _mm256_setzero_ps();
      for (int64_t p = 0; p < count; ++p) {
        const float* d = dy + p * c + j;
        const __m256 d0 = _mm256_maskload_ps(d, m0);
        const __m256 d1 = _mm256_maskload_ps(d + 8, m1);
        const int64_t off = p * in_stride + j;
        for (int t = 0; t < kTapGroup; ++t) {
          if (t >= n) break;
          const float* x = in[s0 + t] + off;
          a0[t] = _mm256_fmadd_ps(_mm256_maskload_ps(x, m0), d0, a0[t]);
          a1[t] = _mm256_fmadd_ps(_mm256_maskload_ps(x + 8, m1), d1, a1[t]);
        }
      }
      for (int t = 0; t < n; ++t) {
        float* a = acc[s0 + t] + j;
        _mm256_maskstore_ps(a, m0, _mm256_add_ps(_mm256_maskload_ps(a, m0), a0[t]));
        _mm256_maskstore_ps(a + 8, m1, _mm256_add_ps(_mm256_maskload_ps(a + 8, m1), a1[t]));
      }
    }
    if (acc_bias != nullptr) {
      __m256 b0 = _mm256_setzero_ps(), b1 = _mm256_setzero_ps();
      for (int64_t p = 0; p < count; ++p) {
        b0 = _mm256_add_ps(b0, _mm256_maskload_ps(dy + p * c + j, m0));
        b1 = _mm256_add_ps(b1, _mm256_maskload_ps(dy + p * c + j + 8, m1));
      }
      _mm256_maskstore_ps(acc_bias + j, m0, _mm256_add_ps(_mm256_maskload_ps(acc_bias + j, m0), b0));
      _mm256_maskstore_ps(acc_bias + j + 8, m1, _mm256_add_ps(_mm256_maskload_ps(acc_bias + j + 8, m1), b1));
    }
  }
}

void dwconv_f32__avx2_fma_fwd_row(int64_t c, int64_t kw, int64_t rows, const float* const* in, const float* const* w,
                                  const float* bias, float* out, int64_t count, int64_t pad, int64_t width,
                                  const float* next_in) {
  fwd_row(c, kw, rows, in, w, bias, out, count, pad, width, next_in);
}

void dwconv_f32__avx2_fma_fwd_row2(int64_t c, int64_t rows, const float* const* in, const float* const* w,
                                   const float* bias, float* out0, float* out1, int64_t count, int64_t pad, int64_t width,
                                   const float* next_in) {
  fwd_row2(c, rows, in, w, bias, out0, out1, count, pad, width, next_in);
}

void dwconv_f32__avx2_fma_grad_row(int64_t c, int64_t kw, int64_t rows, const float* const* in, const float* dy,
                                   float* const* acc, float* acc_bias, int64_t count, int64_t pad, int64_t width,
                                   const float* next_in, const float* next_dy) {
  grad_row(c, kw, rows, in, dy, acc, acc_bias, count, pad, width, next_in, next_dy);
}

}  // namespace tf
