// The vector-math algorithms, written once over a small set of vector operations `V` that each ISA
// file provides (vmath_f32__<isa>.cc): plain floats for the portable kernel, __m256 for AVX2+FMA,
// __m512 for AVX-512. Portable header: no intrinsics. Every ISA therefore runs the same reductions and
// polynomials; only FMA (one rounding instead of two) makes their last bits differ.
//
// V provides (F = vector of floats, M = lane mask):
//   set(c), add, sub, mul, div                          IEEE lane-wise
//   fma(a, b, c) = a*b + c,  fnma(a, b, c) = c - a*b   fused on SIMD, two roundings in the scalar kernel
//   clamp(x, lo, hi)                                    NaN lanes stay NaN
//   abs(x), copysign(mag, sign)
//   round(x)                                            to the nearest integer, for |x| < 2^22
//   pow2(n)                                             2^n for integral n in [-126, 127]
//   exponent(x), mantissa(x)                            x = mantissa * 2^exponent, mantissa in [1, 2),
//                                                       for positive normal finite x
//   lt, gt, ge, eq (ordered: false on NaN), isnan -> M;  select(m, a, b) = m ? a : b
//
// Instantiate Vmath<V> only with a V declared in an anonymous namespace of an ISA file: each ISA's
// instantiation must stay private to its translation unit (compiled with that ISA's flags).
//
// Measured accuracy: max error over ALL 2^32 float inputs against double-precision libm, in ulps of
// the float result (subnormal results in ulps of 2^-149; a correctly rounded result scores <= 0.5).
// Every special value (±0, ±inf, NaN, overflow, underflow) matched exactly. Reprint with
// `TF_VMATH_EXHAUSTIVE=1 ./build-cmake/tf_native_tests vmath_ulp` (~15 min on 2 shared cores).
//             scalar (no FMA)   AVX2+FMA   AVX-512   worst input (scalar)
//   exp            0.97          0.99       0.99     x = 70.378
//   expm1          1.50          1.45       1.45     x = 0.36697 (n = 1: 2^n q + (2^n - 1))
//   log            0.95          0.94       0.94     x = 0.70653 (just below sqrt(1/2))
//   tanh           2.46          2.42       2.42     x = 0.015607 (expm1 + one division)
//   sigmoid        2.40          2.40       2.40     x = -4.1573 (e / (1 + e))
//   softplus       2.04          2.04       2.04     x = -1.2814 (log1p of a rounded e^x)
#pragma once

#include <limits>

namespace tf::vmath {

// ln 2 split for Cody-Waite reduction: kLn2Hi has 9 significant bits, so n * kLn2Hi is exact for every
// |n| <= 150 reached here, and x - n*kLn2Hi is exact near x = n ln2 (Sterbenz); kLn2Lo = ln 2 - kLn2Hi.
constexpr float kLog2e = 1.44269504088896341f;
constexpr float kLn2Hi = 0.693359375f;
constexpr float kLn2Lo = -2.12194440054690583e-4f;
constexpr float kSqrt2 = 1.41421356237309505f;

template <class V>
struct Vmath {
  using F = typename V::F;
  using M = typename V::M;

  // e^r - 1 = r + r^2 (1/2! + r/3! + ... + r^6/8!) on |r| <= ln2/2 (+ a rounding of n). The Taylor
  // series is truncated after r^8: the first term left out, r^9/9!, is below 2.0e-10 there, under
  // 0.002 ulp of e^r - 1 (which is >= 0.29|r|) and of e^r. Horner from the smallest term.
  static F expm1_poly(F r) {
    F p = V::set(1.0f / 40320.0f);
    p = V::fma(p, r, V::set(1.0f / 5040.0f));
    p = V::fma(p, r, V::set(1.0f / 720.0f));
    p = V::fma(p, r, V::set(1.0f / 120.0f));
    p = V::fma(p, r, V::set(1.0f / 24.0f));
    p = V::fma(p, r, V::set(1.0f / 6.0f));
    p = V::fma(p, r, V::set(0.5f));
    return V::fma(V::mul(p, r), r, r);
  }

  // x = n ln2 + r with n = round(x / ln2), |r| <= ln2/2 (+ rounding). Returns r, sets n.
  static F reduce(F x, F* n) {
    *n = V::round(V::mul(x, V::set(kLog2e)));
    const F r = V::fnma(*n, V::set(kLn2Hi), x);
    return V::fnma(*n, V::set(kLn2Lo), r);
  }

  // e^x = 2^n e^r. Clamped to [-104, 89]: e^-104 < 2^-150 rounds to 0 and e^89 overflows, so the
  // clamp changes no result, and n stays in [-150, 129]. 2^n is applied in two halves n1 + n2 (each in
  // [-75, 65], a normal float): p * 2^n1 is exact, and the second product rounds once, into the
  // subnormal range or to +inf exactly as a correctly scaled result would.
  static F exp(F x) {
    x = V::clamp(x, V::set(-104.0f), V::set(89.0f));
    F n;
    const F r = reduce(x, &n);
    const F p = V::add(expm1_poly(r), V::set(1.0f));
    const F n1 = V::round(V::mul(n, V::set(0.5f)));
    const F n2 = V::sub(n, n1);
    return V::mul(V::mul(p, V::pow2(n1)), V::pow2(n2));
  }

  // e^x - 1 = 2^n (e^r - 1) + (2^n - 1) = 2 (h q + (h - 1/2)) with h = 2^(n-1), q = e^r - 1: no
  // cancellation near 0 (n = 0 gives exactly q), h stays a normal float up to x = 89 (the doubling
  // overflows to +inf when the result does). Below -30 the result is -1 in float anyway. |x| < 2^-26
  // (±0 and subnormals included) returns x: e^x - 1 = x + x^2/2 rounds to x there.
  static F expm1(F x) {
    const F xc = V::clamp(x, V::set(-30.0f), V::set(89.0f));
    F n;
    const F r = reduce(xc, &n);
    const F q = expm1_poly(r);
    const F h = V::pow2(V::sub(n, V::set(1.0f)));
    const F y = V::mul(V::fma(h, q, V::sub(h, V::set(0.5f))), V::set(2.0f));
    return V::select(V::lt(V::abs(x), V::set(0x1p-26f)), x, y);
  }

  // Positive normal finite x = 2^e (1 + f) with 1 + f in [sqrt(1/2), sqrt(2)). Returns f (exact), sets e.
  static F split(F x, F* e) {
    F m = V::mantissa(x);
    F k = V::exponent(x);
    const M big = V::gt(m, V::set(kSqrt2));
    m = V::select(big, V::mul(m, V::set(0.5f)), m);
    *e = V::select(big, V::add(k, V::set(1.0f)), k);
    return V::sub(m, V::set(1.0f));
  }

  // e ln2 + log(1 + f), f in [sqrt(1/2) - 1, sqrt(2) - 1]. With s = f / (2 + f) (|s| <= 0.1716):
  //   log(1 + f) = 2 atanh(s) = 2s + s R,  R = 2s^2/3 + 2s^4/5 + ... + 2s^10/11,
  // and 2s = f - s f, so log(1 + f) = f - s (f - R): the exact f carries the leading bits and the
  // rounding errors sit in a correction at most |s| <= 0.17 times as large. The series is cut after
  // s^11; the next term 2 s^13 / 13 < 2e-11 relative. e ln2 is added in two parts (kLn2Hi exact).
  static F log_reduced(F e, F f) {
    const F s = V::div(f, V::add(V::set(2.0f), f));
    const F z = V::mul(s, s);
    F R = V::set(2.0f / 11.0f);
    R = V::fma(R, z, V::set(2.0f / 9.0f));
    R = V::fma(R, z, V::set(2.0f / 7.0f));
    R = V::fma(R, z, V::set(2.0f / 5.0f));
    R = V::fma(R, z, V::set(2.0f / 3.0f));
    R = V::mul(R, z);
    const F lo = V::fnma(e, V::set(kLn2Lo), V::mul(s, V::sub(f, R)));  // s (f - R) - e kLn2Lo
    return V::fma(e, V::set(kLn2Hi), V::sub(f, lo));
  }

  // ln x. Subnormal x is scaled by 2^23 first; 0, negatives, +inf and NaN are set at the end.
  static F log(F x) {
    const M sub = V::lt(x, V::set(0x1p-126f));
    F e;
    const F f = split(V::select(sub, V::mul(x, V::set(0x1p23f)), x), &e);
    e = V::select(sub, V::sub(e, V::set(23.0f)), e);
    F y = log_reduced(e, f);
    constexpr float inf = std::numeric_limits<float>::infinity();
    y = V::select(V::eq(x, V::set(0.0f)), V::set(-inf), y);
    y = V::select(V::lt(x, V::set(0.0f)), V::set(std::numeric_limits<float>::quiet_NaN()), y);
    y = V::select(V::eq(x, V::set(inf)), x, y);
    return V::select(V::isnan(x), x, y);
  }

  // log(1 + t) for t in [0, 1] (or NaN). u = 1 + t rounds; its error (1 + t) - u = t - (u - 1)
  // (exact: u - 1 is exact by Sterbenz) is added back to first order, c / u. Tiny t gives u = 1 and
  // returns exactly t.
  static F log1p_unit(F t) {
    const F u = V::add(V::set(1.0f), t);
    const F c = V::div(V::sub(t, V::sub(u, V::set(1.0f))), u);
    F e;
    const F f = split(u, &e);
    return V::add(log_reduced(e, f), c);
  }

  // tanh|x| = t / (t + 2) with t = e^(2|x|) - 1 (expm1 keeps the relative accuracy near 0); the sign
  // is copied from x, so tanh(-0) = -0. |x| is clamped to 10: tanh(x) rounds to 1 in float from x = 9.011 on.
  static F tanh(F x) {
    const F ax = V::clamp(V::abs(x), V::set(0.0f), V::set(10.0f));
    const F t = expm1(V::add(ax, ax));
    return V::copysign(V::div(t, V::add(t, V::set(2.0f))), x);
  }

  // 1 / (1 + e^-x) for x >= 0 and e^x / (1 + e^x) for x < 0, both from e = e^-|x| in (0, 1]: nothing
  // overflows, and for very negative x the result is e^x itself (down into the subnormals).
  static F sigmoid(F x) {
    const F e = exp(V::sub(V::set(0.0f), V::abs(x)));
    const F num = V::select(V::ge(x, V::set(0.0f)), V::set(1.0f), e);
    return V::div(num, V::add(V::set(1.0f), e));
  }

  // log(1 + e^x) = max(x, 0) + log1p(e^-|x|): no overflow; x for large x (e^-x vanishes against x),
  // e^x for very negative x.
  static F softplus(F x) {
    const F e = exp(V::sub(V::set(0.0f), V::abs(x)));
    const F pos = V::select(V::gt(x, V::set(0.0f)), x, V::set(0.0f));
    return V::add(pos, log1p_unit(e));
  }
};

}  // namespace tf::vmath
