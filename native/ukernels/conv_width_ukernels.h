// Convolution micro-kernels for ONE input channel (the first layer of a grey-scale image model, LeNet's
// conv1), SIMD across 16 adjacent output pixels of a row instead of across output channels: with C = 1
// and 6 output channels a channel-vectorized tile fills 6 of its 16 lanes, a width-vectorized one all 16.
// Portable header: no intrinsics (the kernels are written once, conv_width_impl.h, over GCC/Clang vector
// extensions and compiled per ISA file; other compilers get no kernels and keep the general paths).
//
//   fwd:  y[p*oc + j] = (bias ? bias[j] : 0) + Σ_{ky<kh} Σ_{kx<kw} rows[ky][p + kx] · w[(ky*kw + kx)*oc + j]
//         for p < ow, j < oc (sum in (ky, kx) order, then + bias). rows: kh pointers, each to
//         round_up(ow, 16) + kw - 1 readable floats (a zero-bordered input row; stride_w = dilation_w = 1).
//   grad: for every image row r < oh, tap (ky, kx), output channel j and lane l < 16:
//           acc[((ky*kw + kx)*oc + j)*16 + l] += x[(r*sh + ky*dh)*xs + 16b + l + kx] · dyt[(j*oh + r)*owp + 16b + l]
//         summed over the blocks b < owp/16 in (r, b) order; lanes with 16b + l >= ow count as zero (the x
//         value is masked, so an inf or NaN there never reaches acc). x: a zero-bordered plane whose row
//         ky of output row r starts at (r*sh + ky*dh)*xs, each row owp + kw - 1 readable floats; dyt: dy
//         transposed to [oc][oh][owp], owp = round_up(ow, 16). When bias_acc != null also
//         bias_acc[j*16 + l] += dyt[(j*oh + r)*owp + 16b + l] over the same (r, b).
//         Lane partials stay separate (the caller adds the 16 lanes in lane order at the end).
#pragma once

#include <cstdint>

namespace tf {

using ConvWidthFwdFn = void (*)(int64_t kh, int64_t kw, const float* const* rows, const float* w, int64_t oc,
                                const float* bias, float* y, int64_t ow);
using ConvWidthGradFn = void (*)(int64_t kh, int64_t kw, const float* x, int64_t xs, int64_t sh, int64_t dh,
                                 const float* dyt, int64_t oc, int64_t oh, int64_t ow, float* acc, float* bias_acc);

struct ConvWidthUkernel {
  ConvWidthFwdFn fwd = nullptr;
  ConvWidthGradFn grad = nullptr;
  const char* name = "";
};

#if defined(__GNUC__) || defined(__clang__)
#define TF_HAVE_CONV_WIDTH 1
void conv_width_f32__scalar_fwd(int64_t kh, int64_t kw, const float* const* rows, const float* w, int64_t oc,
                                const float* bias, float* y, int64_t ow);
void conv_width_f32__scalar_grad(int64_t kh, int64_t kw, const float* x, int64_t xs, int64_t sh, int64_t dh,
                                 const float* dyt, int64_t oc, int64_t oh, int64_t ow, float* acc, float* bias_acc);
#if defined(TF_HAVE_AVX2)
void conv_width_f32__avx2_fma_fwd(int64_t kh, int64_t kw, const float* const* rows, const float* w, int64_t oc,
                                  const float* bias, float* y, int64_t ow);
void conv_width_f32__avx2_fma_grad(int64_t kh, int64_t kw, const float* x, int64_t xs, int64_t sh, int64_t dh,
                                   const float* dyt, int64_t oc, int64_t oh, int64_t ow, float* acc, float* bias_acc);
#endif
#if defined(TF_HAVE_AVX512)
void conv_width_f32__avx512f_fwd(int64_t kh, int64_t kw, const float* const* rows, const float* w, int64_t oc,
                                 const float* bias, float* y, int64_t ow);
void conv_width_f32__avx512f_grad(int64_t kh, int64_t kw, const float* x, int64_t xs, int64_t sh, int64_t dh,
                                  const float* dyt, int64_t oc, int64_t oh, int64_t ow, float* acc, float* bias_acc);
#endif
#endif

}  // namespace tf
