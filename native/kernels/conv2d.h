// 2-D convolution in NHWC with HWIO filters: forward (with a fused bias + activation epilogue),
// backward-input and backward-filter (+ bias gradient). Each entry point picks a path per shape
// (conv2d.cc): pointwise layers go to tf::gemm, general layers to indirect-GEMM micro-kernels,
// backward-filter to the GEMM micro-kernel on operands packed from x and dy, depthwise layers to SIMD
// kernels across channels, and a few shapes (a channel multiplier > 1 on one input channel per group)
// keep direct loops (conv2d_paths.h describes each path and its bounded workspace). Every path is
// threaded on the shared pool and bit-identical for any thread count.
#pragma once

#include <cstdint>

#include "kernels/conv_shape.h"
#include "ukernels/gemm_ukernels.h"

namespace tf {

// y = act(conv + bias), with the same activations (and names, parse_gemm_activation) as the matmul
// epilogue. alpha: leaky-relu negative slope (>= 0) or ELU alpha (> 0); unused otherwise.
struct Conv2dEpilogue {
  GemmActivation activation = GemmActivation::none;
  float alpha = 0.0f;
};

// x [N,H,W,C], w [KH,KW,C/G,OC], bias [OC] or nullptr -> y [N,OH,OW,OC] (overwritten).
void conv2d_forward(const Conv2dShape& s, const Conv2dEpilogue& epilogue, const float* x, const float* w,
                    const float* bias, float* y);

// dx [N,H,W,C] (overwritten) = ∂L/∂x, given dy [N,OH,OW,OC] and w [KH,KW,C/G,OC].
void conv2d_backward_input(const Conv2dShape& s, float* dx, const float* dy, const float* w);

// dw [KH,KW,C/G,OC] (overwritten) = ∂L/∂w and, when dbias is non-null, dbias [OC] = Σ_{n,oh,ow} dy,
// given dy [N,OH,OW,OC] and x [N,H,W,C].
void conv2d_backward_filter(const Conv2dShape& s, float* dw, float* dbias, const float* dy, const float* x);

}  // namespace tf
