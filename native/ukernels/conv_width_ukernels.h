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
//   grad_flat: acc[(t*oc + j)*16 + l] += Σ_{b < len/16} x[off[t] + 16b + l] · dyt[j*len + 16b + l] for t < taps,
//         and bias_acc[j*16 + l] += Σ_b dyt[j*len + 16b + l] when non-null; len a multiple of 16. The
//         caller lays x and dy out so that this is the convolution (stride_h 1: one row stride for both)
//         and calls it only on finite x (lanes where dyt is a zero pad still multiply real x values).
//   planes: dst[j*dst_stride + p] = src[p*oc + j] for p < count, j < oc (NHWC pixels -> channel planes;
//         nothing else in dst is written).
//   add_runs: for i < count, in order: dst[i*dst_stride + k] += src[i*src_stride + k] for k < len. The
//         runs may overlap in dst (col2im of backward-input: one output row's pixels, one kernel row), so
//         each run is added after the previous one, and the result is that of the plain loop.
#pragma once

#include <cstdint>

namespace tf {

using ConvWidthFwdFn = void (*)(int64_t kh, int64_t kw, const float* const* rows, const float* w, int64_t oc,
                                const float* bias, float* y, int64_t ow);
using ConvWidthGradFn = void (*)(int64_t kh, int64_t kw, const float* x, int64_t xs, int64_t sh, int64_t dh,
                                 const float* dyt, int64_t oc, int64_t oh, int64_t ow, float* acc, float* bias_acc);

using ConvWidthGradFlatFn = void (*)(int64_t taps, const int64_t* off, const float* x, const float* dyt, int64_t oc,
                                     int64_t len, float* acc, float* bias_acc);

using ConvWidthPlanesFn = void (*)(int64_t count, int64_t oc, const float* src, float* dst, int64_t dst_stride);

using ConvAddRunsFn = void (*)(int64_t count, int64_t len, const float* src, int64_t src_stride, float* dst,
                               int64_t dst_stride);

struct ConvWidthUkernel {
  ConvWidthFwdFn fwd = nullptr;
  ConvWidthGradFn grad = nullptr;
  ConvWidthGradFlatFn grad_flat = nullptr;
  ConvAddRunsFn add_runs = nullptr;
  ConvWidthPlanesFn planes = nullptr;
  const char* name = "";
};

#if defined(__GNUC__) || defined(__clang__)
#define TF_HAVE_CONV_WIDTH 1
void conv_width_f32__scalar_fwd(int64_t kh, int64_t kw, const float* const* rows, const float* w, int64_t oc,
                                const float* bias, float* y, int64_t ow);
void conv_width_f32__scalar_grad_flat(int64_t taps, const int64_t* off, const float* x, const float* dyt, int64_t oc,
                                      int64_t len, float* acc, float* bias_acc);
void conv_width_f32__scalar_add_runs(int64_t count, int64_t len, const float* src, int64_t src_stride, float* dst,
                                     int64_t dst_stride);
void conv_width_f32__scalar_planes(int64_t count, int64_t oc, const float* src, float* dst, int64_t dst_stride);
void conv_width_f32__scalar_grad(int64_t kh, int64_t kw, const float* x, int64_t xs, int64_t sh, int64_t dh,
                                 const float* dyt, int64_t oc, int64_t oh, int64_t ow, float* acc, float* bias_acc);
#if defined(TF_HAVE_AVX2)
void conv_width_f32__avx2_fma_fwd(int64_t kh, int64_t kw, const float* const* rows, const float* w, int64_t oc,
                                  const float* bias, float* y, int64_t ow);
void conv_width_f32__avx2_fma_grad_flat(int64_t taps, const int64_t* off, const float* x, const float* dyt, int64_t oc,
                                      int64_t len, float* acc, float* bias_acc);
void conv_width_f32__avx2_fma_add_runs(int64_t count, int64_t len, const float* src, int64_t src_stride, float* dst,
                                     int64_t dst_stride);
void conv_width_f32__avx2_fma_planes(int64_t count, int64_t oc, const float* src, float* dst, int64_t dst_stride);
void conv_width_f32__avx2_fma_grad(int64_t kh, int64_t kw, const float* x, int64_t xs, int64_t sh, int64_t dh,
                                   const float* dyt, int64_t oc, int64_t oh, int64_t ow, float* acc, float* bias_acc);
#endif
#if defined(TF_HAVE_AVX512)
void conv_width_f32__avx512f_fwd(int64_t kh, int64_t kw, const float* const* rows, const float* w, int64_t oc,
                                 const float* bias, float* y, int64_t ow);
void conv_width_f32__avx512f_grad_flat(int64_t taps, const int64_t* off, const float* x, const float* dyt, int64_t oc,
                                      int64_t len, float* acc, float* bias_acc);
void conv_width_f32__avx512f_add_runs(int64_t count, int64_t len, const float* src, int64_t src_stride, float* dst,
                                     int64_t dst_stride);
void conv_width_f32__avx512f_planes(int64_t count, int64_t oc, const float* src, float* dst, int64_t dst_stride);
void conv_width_f32__avx512f_grad(int64_t kh, int64_t kw, const float* x, int64_t xs, int64_t sh, int64_t dh,
                                  const float* dyt, int64_t oc, int64_t oh, int64_t ow, float* acc, float* bias_acc);
#endif
#endif

}  // namespace tf
