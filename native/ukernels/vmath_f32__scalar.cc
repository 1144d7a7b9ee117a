// Portable vector-math kernels: the algorithms of vmath_impl.h on one float at a time, in plain C++
// that builds anywhere (x86-64 baseline, arm64, ...). No FMA: the x86-64 baseline has no FMA
// instruction and std::fma would call into libm, so fma(a, b, c) is a*b + c with two roundings.
// The loop is branch-free per element; compilers may vectorize it (same bits per element either way:
// IEEE operations without contraction or reassociation).
#include <cstdint>
#include <cstring>

#include "ukernels/vmath_impl.h"
#include "ukernels/vmath_ukernels.h"

namespace tf {
namespace {

uint32_t bits_of(float v) {
  uint32_t b;
  std::memcpy(&b, &v, sizeof b);
  return b;
}

float float_of(uint32_t b) {
  float v;
  std::memcpy(&v, &b, sizeof v);
  return v;
}

struct ScalarOps {
  using F = float;
  using M = bool;
  static F set(float c) { return c; }
  static F add(F a, F b) { return a + b; }
  static F sub(F a, F b) { return a - b; }
  static F mul(F a, F b) { return a * b; }
  static F div(F a, F b) { return a / b; }
  static F fma(F a, F b, F c) { return a * b + c; }
  static F fnma(F a, F b, F c) { return c - a * b; }
  static F clamp(F x, F lo, F hi) { return select(x < lo, lo, select(x > hi, hi, x)); }
  static F abs(F x) { return float_of(bits_of(x) & 0x7fffffffu); }
  static F copysign(F mag, F sign) { return float_of((bits_of(mag) & 0x7fffffffu) | (bits_of(sign) & 0x80000000u)); }
  // Adding 1.5 * 2^23 leaves no fraction bits, so the sum rounds x to an integer (ties to even);
  // subtracting it back is exact. Relies on no -ffast-math (the build never uses it).
  static F round(F x) { return (x + 0x1.8p23f) - 0x1.8p23f; }
  // The integer n is read from the bits of n + 1.5 * 2^23 (its low mantissa bits hold n in two's
  // complement): no float-to-int conversion, so a NaN lane stays defined (its result is NaN anyway).
  static F pow2(F n) {
    const uint32_t k = bits_of(n + 0x1.8p23f) - bits_of(0x1.8p23f);
    return float_of((k + 127u) << 23);
  }
  static F exponent(F x) { return static_cast<float>(static_cast<int32_t>((bits_of(x) >> 23) & 0xffu) - 127); }
  static F mantissa(F x) { return float_of((bits_of(x) & 0x007fffffu) | 0x3f800000u); }
  static M lt(F a, F b) { return a < b; }
  static M gt(F a, F b) { return a > b; }
  static M ge(F a, F b) { return a >= b; }
  static M eq(F a, F b) { return a == b; }
  static M isnan(F x) { return x != x; }
  // A bit mask instead of `m ? a : b`: no branch, so compilers keep the loop vectorizable (GCC will not
  // if-convert a float select while -ftrapping-math, the default, is on).
  static F select(M m, F a, F b) {
    const uint32_t k = 0u - static_cast<uint32_t>(m);
    return float_of((bits_of(a) & k) | (bits_of(b) & ~k));
  }
};

using Math = vmath::Vmath<ScalarOps>;

template <float (*f)(float)>
void map(int64_t n, const float* x, float* y) {
  for (int64_t i = 0; i < n; ++i) y[i] = f(x[i]);
}

}  // namespace

void vexp_f32__scalar(int64_t n, const float* x, float* y) { map<&Math::exp>(n, x, y); }
void vexpm1_f32__scalar(int64_t n, const float* x, float* y) { map<&Math::expm1>(n, x, y); }
void vlog_f32__scalar(int64_t n, const float* x, float* y) { map<&Math::log>(n, x, y); }
void vtanh_f32__scalar(int64_t n, const float* x, float* y) { map<&Math::tanh>(n, x, y); }
void vsigmoid_f32__scalar(int64_t n, const float* x, float* y) { map<&Math::sigmoid>(n, x, y); }
void vsoftplus_f32__scalar(int64_t n, const float* x, float* y) { map<&Math::softplus>(n, x, y); }

}  // namespace tf
