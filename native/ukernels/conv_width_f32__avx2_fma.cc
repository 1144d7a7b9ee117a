// One-input-channel, width-vectorized convolution kernels (contract: conv_width_ukernels.h) compiled for
// the AVX2 + FMA level: the shared implementation in conv_width_impl.h, instantiated privately here.
#include "ukernels/conv_width_ukernels.h"

#include <cstdint>
#include <cstring>
#include <utility>

#if defined(TF_HAVE_CONV_WIDTH)
namespace tf {
namespace {
#include "ukernels/conv_width_impl.h"
}  // namespace

void conv_width_f32__avx2_fma_fwd(int64_t kh, int64_t kw, const float* const* rows, const float* w, int64_t oc,
                         const float* bias, float* y, int64_t ow) {
  fwd(kh, kw, rows, w, oc, bias, y, ow);
}

void conv_width_f32__avx2_fma_grad(int64_t kh, int64_t kw, const float* x, int64_t xs, int64_t sh, int64_t dh,
                          const float* dyt, int64_t oc, int64_t oh, int64_t ow, float* acc, float* bias_acc) {
  grad(kh, kw, x, xs, sh, dh, dyt, oc, oh, ow, acc, bias_acc);
}

void conv_width_f32__avx2_fma_grad_flat(int64_t taps, const int64_t* off, const float* x, const float* dyt, int64_t oc,
                               int64_t len, float* acc, float* bias_acc) {
  grad_flat(taps, off, x, dyt, oc, len, acc, bias_acc);
}

void conv_width_f32__avx2_fma_add_runs(int64_t count, int64_t len, const float* src, int64_t src_stride, float* dst,
                              int64_t dst_stride) {
  add_runs(count, len, src, src_stride, dst, dst_stride);
}

void conv_width_f32__avx2_fma_planes(int64_t count, int64_t oc, const float* src, float* dst, int64_t dst_stride) {
  planes(count, oc, src, dst, dst_stride);
}

}  // namespace tf
#endif
