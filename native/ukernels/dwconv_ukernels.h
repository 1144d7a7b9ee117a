// Depthwise convolution micro-kernels (one input channel per group, channel multiplier 1): the work is
// a multiply-add per channel, so the kernels run SIMD across the c contiguous channels of one pixel.
// Portable header: no intrinsics here (they live only in the files named for their ISA).
//
//   fwd:  out[j] = (bias ? bias[j] : 0) + Σ_{s < ks} in[s][j] · w[s][j]     (s in order; ks may be 0)
//   grad: acc[s*c + j] += in[s][j] · dy[j] for every s < ks;  acc_bias[j] += dy[j] when acc_bias != null
//   in, w: ks pointers, each to c readable floats. Nothing past index c-1 of any row is touched.
#pragma once

#include <cstdint>

namespace tf {

using DwconvFwdFn = void (*)(int64_t c, int64_t ks, const float* const* in, const float* const* w, const float* bias,
                             float* out);
using DwconvGradFn = void (*)(int64_t c, int64_t ks, const float* const* in, const float* dy, float* acc,
                              float* acc_bias);

struct DwconvUkernel {
  DwconvFwdFn fwd = nullptr;
  DwconvGradFn grad = nullptr;
  const char* name = "";
};

// Declarations of every kernel pair in the list (dwconv_ukernels.inc).
#define TF_DWCONV_UKERNEL(isa, name)                                                                      \
  void name##_fwd(int64_t c, int64_t ks, const float* const* in, const float* const* w, const float* bias, \
                  float* out);                                                                             \
  void name##_grad(int64_t c, int64_t ks, const float* const* in, const float* dy, float* acc, float* acc_bias);
#include "ukernels/dwconv_ukernels.inc"
#undef TF_DWCONV_UKERNEL

}  // namespace tf
