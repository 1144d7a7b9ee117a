// Shapes of 2-D convolution and pooling windows, and the output-size formula, written once for C++
// (the TypeScript twin is lib/backend/shape.ts). Both the conv and pool bindings recompute OH/OW with
// conv_output_size and reject a caller whose oh/ow disagree.
#pragma once

#include <cstdint>

namespace tf {

// Output length along one axis: floor((input + padBefore + padAfter - dilation*(kernel-1) - 1) / stride) + 1.
// Returns a value < 1 when the (dilated) window does not fit the padded input. Every argument must be
// in [0, 2^31) (sizes >= 1), so the arithmetic below cannot overflow int64.
inline int64_t conv_output_size(int64_t input, int64_t kernel, int64_t stride, int64_t dilation,
                                int64_t pad_before, int64_t pad_after) {
  const int64_t effective_kernel = dilation * (kernel - 1) + 1;
  const int64_t span = input + pad_before + pad_after - effective_kernel;
  if (span < 0) return 0;  // C++ division truncates toward zero; floor of a negative span means "no output"
  return span / stride + 1;
}

// x [N,H,W,C], w [KH,KW,C/groups,OC] -> y [N,OH,OW,OC]; validated before any kernel sees it.
struct Conv2dShape {
  int64_t n, h, w, c;
  int64_t kh, kw, oc;
  int64_t stride_h, stride_w;
  int64_t dilation_h, dilation_w;
  int64_t pad_top, pad_bottom, pad_left, pad_right;
  int64_t groups;
  int64_t oh, ow;

  int64_t c_per_group() const { return c / groups; }
  int64_t oc_per_group() const { return oc / groups; }
  int64_t x_size() const { return n * h * w * c; }
  int64_t w_size() const { return kh * kw * c_per_group() * oc; }
  int64_t y_size() const { return n * oh * ow * oc; }
};

// x [N,H,W,C] -> y [N,OH,OW,C]; window KH x KW, no dilation.
struct Pool2dShape {
  int64_t n, h, w, c;
  int64_t kh, kw;
  int64_t stride_h, stride_w;
  int64_t pad_top, pad_bottom, pad_left, pad_right;
  int64_t oh, ow;

  int64_t x_size() const { return n * h * w * c; }
  int64_t y_size() const { return n * oh * ow * c; }
};

}  // namespace tf
