// One-input-channel, width-vectorized convolution kernels (contract: conv_width_ukernels.h) compiled for
// the AVX-512 level: the shared implementation in conv_width_impl.h, instantiated privately here.
#include "ukernels/conv_width_ukernels.h"

#include <cstdint>
#include <cstring>

#if defined(TF_HAVE_CONV_WIDTH)
namespace tf {
namespace {
#include "ukernels/conv_width_impl.h"
}  // namespace

void conv_width_f32__avx512f_fwd(int64_t kh, int64_t kw, const float* const* rows, const float* w, int64_t oc,
                         const float* bias, float* y, int64_t ow) {
  fwd(kh, kw, rows, w, oc, bias, y, ow);
}

void conv_width_f32__avx512f_grad(int64_t kh, int64_t kw, const float* x, int64_t xs, int64_t sh, int64_t dh,
                          const float* dyt, int64_t oc, int64_t oh, int64_t ow, float* acc, float* bias_acc) {
  grad(kh, kw, x, xs, sh, dh, dyt, oc, oh, ow, acc, bias_acc);
}

}  // namespace tf
#endif
