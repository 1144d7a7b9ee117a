// Depthwise convolution micro-kernels (one input channel per group, channel multiplier 1): the work is
// a multiply-add per channel, so the kernels run SIMD across the c contiguous channels of a pixel, over
// a run of `count` pixels that share their taps (one call per interior row segment, one per edge pixel).
// Portable header: no intrinsics here (they live only in the files named for their ISA).
//
//   fwd:  for p < count: out[p*c + j] = (bias ? bias[j] : 0) + Σ_{s < ks} in[s][p*in_stride + j] · w[s][j]
//         (s in order; ks may be 0)
//   grad: acc[s][j] += Σ_{p < count} in[s][p*in_stride + j] · dy[p*c + j] for every s < ks, and
//         acc_bias[j] += Σ_{p < count} dy[p*c + j] when acc_bias != null. The SIMD kernels sum the run in
//         registers (pixel order) and add it once; the grouping is fixed per kernel, never by threads.
//   in, w, acc: ks pointers. Nothing past channel c-1 of any pixel is touched.
#pragma once

#include <cstdint>

namespace tf {

using DwconvFwdFn = void (*)(int64_t c, int64_t ks, const float* const* in, const float* const* w, const float* bias,
                             float* out, int64_t count, int64_t in_stride);
using DwconvGradFn = void (*)(int64_t c, int64_t ks, const float* const* in, const float* dy, float* const* acc,
                              float* acc_bias, int64_t count, int64_t in_stride);

struct DwconvUkernel {
  DwconvFwdFn fwd = nullptr;
  DwconvGradFn grad = nullptr;
  const char* name = "";
};

// Declarations of every kernel pair in the list (dwconv_ukernels.inc).
#define TF_DWCONV_UKERNEL(isa, name)                                                                      \
  void name##_fwd(int64_t c, int64_t ks, const float* const* in, const float* const* w, const float* bias, \
                  float* out, int64_t count, int64_t in_stride);                                          \
  void name##_grad(int64_t c, int64_t ks, const float* const* in, const float* dy, float* const* acc,       \
                   float* acc_bias, int64_t count, int64_t in_stride);
#include "ukernels/dwconv_ukernels.inc"
#undef TF_DWCONV_UKERNEL

}  // namespace tf
