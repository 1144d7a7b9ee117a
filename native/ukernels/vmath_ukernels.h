// The vector-math micro-kernel contract: float32 transcendental functions over contiguous arrays,
// one variant per ISA (listed in vmath.inc), chosen through the dispatch table. Portable header: no
// intrinsics here (they live only in the files named for their ISA).
//
// Every kernel computes y[i] = f(x[i]) for 0 <= i < n (n >= 0):
//  - it reads exactly x[0..n) and writes exactly y[0..n) (tails are masked or done one element at a
//    time: nothing past the ends is touched, so buffers ending at a guard page are fine);
//  - y == x (in place) is allowed; partially overlapping buffers are not;
//  - each y[i] depends only on x[i], never on i, n or the alignment, so any split of an array into
//    chunks (threads) gives the same bits. Different ISAs may differ by an ulp or two.
//
// Accuracy and special values, measured against double-precision libm over every float (the sweep
// in native/tests/vmath_test.cc; the exhaustive numbers are in vmath_impl.h):
//   exp      e^x; +inf above ~88.72, subnormal results down to ~-103.3, 0 below; exp(-inf) = 0
//   expm1    e^x - 1 with relative accuracy near 0 (expm1(±0) = ±0, tiny x -> x); -1 below ~-17
//   log      ln x; log(0) = -inf, log(x < 0) = NaN, log(+inf) = +inf; subnormal x handled
//   tanh     odd, ±1 from |x| = 9.011 on (as the rounded tanh), tanh(±0) = ±0, relative accuracy near 0
//   sigmoid  1/(1+e^-x), computed as e^x/(1+e^x) for x < 0 (no overflow; tiny results stay relative)
//   softplus log(1+e^x) = max(x,0) + log1p(e^-|x|): x for large x, e^x (subnormal) for very negative x
// NaN in -> NaN out for all of them.
#pragma once

#include <cstdint>

namespace tf {

using VmathFn = void (*)(int64_t n, const float* x, float* y);

// One function per op: the fields a dispatch level fills (see vmath.inc).
struct VmathUkernels {
  VmathFn exp = nullptr;
  VmathFn expm1 = nullptr;
  VmathFn log = nullptr;
  VmathFn tanh = nullptr;
  VmathFn sigmoid = nullptr;
  VmathFn softplus = nullptr;
};

// The active dispatch level's kernels (runtime/dispatch.cc; the same as kernels().vmath). Kernel files
// in namespace tf::kernels use this one: tf::kernels() cannot be named next to that namespace.
const VmathUkernels& active_vmath();

// Declarations of every kernel in the list.
#define TF_VMATH_UKERNEL(isa, op, name) void name(int64_t n, const float* x, float* y);
#include "ukernels/vmath.inc"
#undef TF_VMATH_UKERNEL

}  // namespace tf
