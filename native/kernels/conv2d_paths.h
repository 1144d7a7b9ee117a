// The fast convolution paths behind conv2d.h, chosen per shape by conv2d.cc (internal header).
//
//   forward          indirect GEMM (conv_ukernels.h): output pixels x output channels, the input read in
//                    place through a small table of row pointers; 1x1 stride-1 unpadded: tf::gemm.
//   backward-input   indirect GEMM over dx pixels, grouped by stride phase so that every tap of a phase
//                    really contributes (a stride-2 conv wastes no multiply on the zeros a col2im or a
//                    zero-stuffed transposed conv would add); 1x1 stride-1 unpadded: tf::gemm.
//   backward-filter  tf::gemm over bounded im2col tiles, accumulated tile after tile in a fixed order,
//                    with a column of ones appended so the same GEMM produces dbias.
//   depthwise        (groups = C = OC) SIMD across channels, dwconv micro-kernels; other depthwise-like
//                    layers (a channel multiplier > 1) keep the direct loops of conv2d.cc.
//
// Workspace (all bounded independently of the batch size):
//   packed filter      groups x KH x KW x Cg x round_up(OCg, NR) floats (forward; backward-input the same
//                      with Cg and OCg swapped), once per call;
//   pointer table      per task: KH x KW x MR pointers;
//   backward-filter    one im2col tile of at most max(2^18, kc) x (KH*KW*Cg + 1)... see kFilterTileFloats.
#pragma once

#include "kernels/conv2d.h"
#include "ukernels/conv_ukernels.h"
#include "ukernels/dwconv_ukernels.h"

namespace tf::conv_detail {

// Fewer input channels per group than this (the first layer of an image model, C = 1 or 3): forward
// gathers each tile's taps x Cg inputs into one row per pixel (one long K loop instead of KH*KW loops of
// Cg steps); backward-input computes dcol = dy·wᵀ per image band and scatters it (col2im).
constexpr int64_t kGatherChannels = 8;

// True when the convolution is a plain GEMM over pixels: 1x1 kernel, stride 1, no padding.
bool is_pointwise(const Conv2dShape& s);

void forward_igemm(const Conv2dShape& s, const Conv2dEpilogue& e, const float* x, const float* w, const float* bias,
                   float* y, const ConvIgemmUkernel& uk);
void forward_pointwise(const Conv2dShape& s, const Conv2dEpilogue& e, const float* x, const float* w,
                       const float* bias, float* y);

void backward_input_igemm(const Conv2dShape& s, float* dx, const float* dy, const float* w, const ConvIgemmUkernel& uk);
void backward_input_few_channels(const Conv2dShape& s, float* dx, const float* dy, const float* w,
                                 const ConvIgemmUkernel& uk);
void backward_input_pointwise(const Conv2dShape& s, float* dx, const float* dy, const float* w);

void backward_filter_gemm(const Conv2dShape& s, float* dw, float* dbias, const float* dy, const float* x);

// Depthwise, channel multiplier 1 (groups = C = OC): conv2d_depthwise.cc.
void depthwise_forward(const Conv2dShape& s, const Conv2dEpilogue& e, const float* x, const float* w,
                       const float* bias, float* y, const DwconvUkernel& uk);
void depthwise_backward_input(const Conv2dShape& s, float* dx, const float* dy, const float* w,
                              const DwconvUkernel& uk);
void depthwise_backward_filter(const Conv2dShape& s, float* dw, float* dbias, const float* dy, const float* x,
                               const DwconvUkernel& uk);

// The activation part of the epilogue over n contiguous floats (bias already added), NaN-preserving
// like the reference backend.
void apply_activation(float* y, int64_t n, const Conv2dEpilogue& e);

}  // namespace tf::conv_detail
