// AVX-512 depthwise micro-kernels (contract: dwconv_ukernels.h): 16 channels per zmm, the last block
// masked (masked-off lanes never touch memory).
#include "ukernels/x86_intrinsics.h"

#include "ukernels/dwconv_ukernels.h"

namespace tf {
namespace {

// The row kernels' vector interface (dwconv_impl.h): one zmm, the channel tail through a lane mask.
struct Ops {
  static constexpr int kFwdTile = 4;    // output pixels per forward register tile
  static constexpr int kFwd2Tile = 4;  // the same with two output rows (fwd_row2)
  static constexpr int kGradTile = 4;   // pixels per backward-filter tile (their dy vectors in registers)
  static constexpr int64_t L = 16;
  using V = __m512;
  using M = __mmask16;
  static M mask(int64_t n) { return static_cast<__mmask16>((1u << n) - 1u); }
  static M mask_from(int64_t n) { return static_cast<__mmask16>(0xFFFFu & ~((1u << n) - 1u)); }
  static constexpr bool kAlign = true;
  static V zero() { return _mm512_setzero_ps(); }
  static V load(const float* p) { return _mm512_loadu_ps(p); }
  static V load(const float* p, M m) { return _mm512_maskz_loadu_ps(m, p); }
  static void store(float* p, V v) { _mm512_storeu_ps(p, v); }
  static void store(float* p, V v, M m) { _mm512_mask_storeu_ps(p, m, v); }
  static V fma(V a, V b, V acc) { return _mm512_fmadd_ps(a, b, acc); }
  // Keeps a loaded vector in a register: without it GCC folds the load into every multiply-add using
  // it (a memory operand each), loading the same vector up to KW times; loads bound these kernels.
  static V pin(V v) {
    asm volatile("" : "+v"(v));
    return v;
  }
  static V add(V a, V b) { return _mm512_add_ps(a, b); }
};

#include "ukernels/dwconv_impl.h"

inline __mmask16 tail_mask(int64_t left) {
  return left >= 16 ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << left) - 1u);
}

// Taps whose accumulators stay in registers across the pixel run (8 x 2 zmm = 16 accumulators).
constexpr int kTapGroup = 8;

}  // namespace

void dwconv_f32__avx512f_fwd(int64_t c, int64_t ks, const float* const* in, const float* const* w, const float* bias,
                             float* out, int64_t count, int64_t in_stride) {
  for (int64_t p = 0; p < count; ++p, out += c) {
    const int64_t off = p * in_stride;
    int64_t j = 0;
    // 64 channels at a time: four independent FMA chains hide the FMA latency.
    for (; j + 64 <= c; j += 64) {
      __m512 acc[4];
      for (int v = 0; v < 4; ++v) acc[v] = bias != nullptr ? _mm512_loadu_ps(bias + j + 16 * v) : _mm512_setzero_ps();
      for (int64_t s = 0; s < ks; ++s) {
        const float* x = in[s] + off + j;
        const float* k = w[s] + j;
        for (int v = 0; v < 4; ++v) acc[v] = _mm512_fmadd_ps(_mm512_loadu_ps(x + 16 * v), _mm512_loadu_ps(k + 16 * v), acc[v]);
      }
      for (int v = 0; v < 4; ++v) _mm512_storeu_ps(out + j + 16 * v, acc[v]);
    }
    for (; j < c; j += 16) {
      const __mmask16 m = tail_mask(c - j);
      __m512 acc = bias != nullptr ? _mm512_maskz_loadu_ps(m, bias + j) : _mm512_setzero_ps();
      for (int64_t s = 0; s < ks; ++s) {
        acc = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, in[s] + off + j), _mm512_maskz_loadu_ps(m, w[s] + j), acc);
      }
      _mm512_mask_storeu_ps(out + j, m, acc);
    }
  }
}

// Per block of 32 channels and group of up to 8 taps, the 16 accumulators live in registers for the
// whole pixel run and are added to acc once at the end (the sum over the run, in pixel order, is then
// added: for a run of one pixel this is exactly acc += x·dy).
void dwconv_f32__avx512f_grad(int64_t c, int64_t ks, const float* const* in, const float* dy, float* const* acc,
                              float* acc_bias, int64_t count, int64_t in_stride) {
  for (int64_t j = 0; j < c; j += 32) {
    const __mmask16 m0 = tail_mask(c - j);
    const __mmask16 m1 = c - j > 16 ? tail_mask(c - j - 16) : static_cast<__mmask16>(0);
    for (int64_t s0 = 0; s0 < ks; s0 += kTapGroup) {
      const int n = static_cast<int>(ks - s0 < kTapGroup ? ks - s0 : kTapGroup);
      __m512 a0[kTapGroup], a1[kTapGroup];
      for (int t = 0; t < kTapGroup; ++t) a0[t] = a1[t] = _mm512_setzero_ps();
      for (int64_t p = 0; p < count; ++p) {
        const float* d = dy + p * c + j;
        const __m512 d0 = _mm512_maskz_loadu_ps(m0, d);
        const __m512 d1 = _mm512_maskz_loadu_ps(m1, d + 16);
        const int64_t off = p * in_stride + j;
        for (int t = 0; t < kTapGroup; ++t) {
          if (t >= n) break;
          const float* x = in[s0 + t] + off;
          a0[t] = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m0, x), d0, a0[t]);
          a1[t] = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m1, x + 16), d1, a1[t]);
        }
      }
      for (int t = 0; t < n; ++t) {
        float* a = acc[s0 + t] + j;
        _mm512_mask_storeu_ps(a, m0, _mm512_add_ps(_mm512_maskz_loadu_ps(m0, a), a0[t]));
        _mm512_mask_storeu_ps(a + 16, m1, _mm512_add_ps(_mm512_maskz_loadu_ps(m1, a + 16), a1[t]));
      }
    }
    if (acc_bias != nullptr) {
      __m512 b0 = _mm512_setzero_ps(), b1 = _mm512_setzero_ps();
      for (int64_t p = 0; p < count; ++p) {
        b0 = _mm512_add_ps(b0, _mm512_maskz_loadu_ps(m0, dy + p * c + j));
        b1 = _mm512_add_ps(b1, _mm512_maskz_loadu_ps(m1, dy + p * c + j + 16));
      }
      _mm512_mask_storeu_ps(acc_bias + j, m0, _mm512_add_ps(_mm512_maskz_loadu_ps(m0, acc_bias + j), b0));
      _mm512_mask_storeu_ps(acc_bias + j + 16, m1, _mm512_add_ps(_mm512_maskz_loadu_ps(m1, acc_bias + j + 16), b1));
    }
  }
}

void dwconv_f32__avx512f_fwd_row(int64_t c, int64_t kw, int64_t rows, const float* const* in, const float* const* w,
                                 const float* bias, float* out, int64_t count, int64_t pad, int64_t width,
                                 const float* next_in) {
  fwd_row(c, kw, rows, in, w, bias, out, count, pad, width, next_in);
}

void dwconv_f32__avx512f_fwd_row2(int64_t c, int64_t rows, const float* const* in, const float* const* w,
                                  const float* bias, float* out0, float* out1, int64_t count, int64_t pad, int64_t width,
                                  const float* next_in) {
  fwd_row2(c, rows, in, w, bias, out0, out1, count, pad, width, next_in);
}

void dwconv_f32__avx512f_grad_row(int64_t c, int64_t kw, int64_t rows, const float* const* in, const float* dy,
                                  float* const* acc, float* acc_bias, int64_t count, int64_t pad, int64_t width,
                                  const float* next_in, const float* next_dy) {
  grad_row(c, kw, rows, in, dy, acc, acc_bias, count, pad, width, next_in, next_dy);
}

}  // namespace tf
