// Portable depthwise micro-kernels (contract: dwconv_ukernels.h): plain loops over channels that the
// compiler vectorizes with the baseline ISA (SSE2 on x86-64, NEON on arm64); the row kernels over
// 4-lane vector extensions (dwconv_impl.h).
#include "ukernels/dwconv_ukernels.h"

#include <cstdint>
#include <cstring>

namespace tf {
namespace {

// The row kernels' vector interface (dwconv_impl.h): 4 lanes through GCC/Clang vector extensions (SSE2
// or NEON registers), or one float elsewhere; the channel tail is copied in and out lane by lane.
#if defined(__GNUC__)
struct Ops {
  static constexpr int kFwdTile = 8;
  static constexpr int kFwd2Tile = 4;
  static constexpr int kGradTile = 4;
  static constexpr int64_t L = 4;
  typedef float V __attribute__((vector_size(16)));
  using M = int64_t;
  static M mask(int64_t n) { return n; }
  static M mask_from(int64_t n) { return n; }  // unused: kAlign is false
  static constexpr bool kAlign = false;
  static V zero() { return V{0.0f, 0.0f, 0.0f, 0.0f}; }
  static V load(const float* p) {
    V v;
    std::memcpy(&v, p, sizeof v);
    return v;
  }
  static V load(const float* p, M n) {
    V v = zero();
    for (int64_t i = 0; i < n; ++i) v[i] = p[i];
    return v;
  }
  static void store(float* p, V v) { std::memcpy(p, &v, sizeof v); }
  static void store(float* p, V v, M n) {
    for (int64_t i = 0; i < n; ++i) p[i] = v[i];
  }
  static V fma(V a, V b, V acc) { return a * b + acc; }
  static V add(V a, V b) { return a + b; }
  static V pin(V v) { return v; }
};
#else
struct Ops {
  static constexpr int kFwdTile = 8;
  static constexpr int kFwd2Tile = 4;
  static constexpr int kGradTile = 4;
  static constexpr int64_t L = 1;
  using V = float;
  using M = int64_t;
  static M mask(int64_t n) { return n; }
  static M mask_from(int64_t n) { return n; }  // unused: kAlign is false
  static constexpr bool kAlign = false;
  static V zero() { return 0.0f; }
  static V load(const float* p) { return *p; }
  static V load(const float* p, M) { return *p; }
  static void store(float* p, V v) { *p = v; }
  static void store(float* p, V v, M) { *p = v; }
  static V fma(V a, V b, V acc) { return a * b + acc; }
  static V add(V a, V b) { return a + b; }
  static V pin(V v) { return v; }
};
#endif

#include "ukernels/dwconv_impl.h"

}  // namespace

void dwconv_f32__scalar_fwd(int64_t c, int64_t ks, const float* const* in, const float* const* w, const float* bias,
                            float* out, int64_t count, int64_t in_stride) {
  for (int64_t p = 0; p < count; ++p, out += c) {
    for (int64_t j = 0; j < c; ++j) out[j] = bias != nullptr ? bias[j] : 0.0f;
    for (int64_t s = 0; s < ks; ++s) {
      const float* __restrict x = in[s] + p * in_stride;
      const float* __restrict k = w[s];
      for (int64_t j = 0; j < c; ++j) out[j] += x[j] * k[j];
    }
  }
}

void dwconv_f32__scalar_grad(int64_t c, int64_t ks, const float* const* in, const float* dy, float* const* acc,
                             float* acc_bias, int64_t count, int64_t in_stride) {
  for (int64_t p = 0; p < count; ++p, dy += c) {
    for (int64_t s = 0; s < ks; ++s) {
      const float* __restrict x = in[s] + p * in_stride;
      float* __restrict a = acc[s];
      for (int64_t j = 0; j < c; ++j) a[j] += x[j] * dy[j];
    }
    if (acc_bias != nullptr) {
      for (int64_t j = 0; j < c; ++j) acc_bias[j] += dy[j];
    }
  }
}

void dwconv_f32__scalar_fwd_row(int64_t c, int64_t kw, int64_t rows, const float* const* in, const float* const* w,
                                const float* bias, float* out, int64_t count, int64_t pad, int64_t width,
                                const float* next_in) {
  fwd_row(c, kw, rows, in, w, bias, out, count, pad, width, next_in);
}

void dwconv_f32__scalar_fwd_row2(int64_t c, int64_t rows, const float* const* in, const float* const* w,
                                 const float* bias, float* out0, float* out1, int64_t count, int64_t pad, int64_t width,
                                 const float* next_in) {
  fwd_row2(c, rows, in, w, bias, out0, out1, count, pad, width, next_in);
}

void dwconv_f32__scalar_grad_row(int64_t c, int64_t kw, int64_t rows, const float* const* in, const float* dy,
                                 float* const* acc, float* acc_bias, int64_t count, int64_t pad, int64_t width,
                                 const float* next_in, const float* next_dy) {
  grad_row(c, kw, rows, in, dy, acc, acc_bias, count, pad, width, next_in, next_dy);
}

}  // namespace tf
