// Output-gradient-channel-vectorized convolution kernels (contract: conv_ocvec_ukernels.h) compiled for
// the AVX2 + FMA level: the shared implementation in conv_ocvec_impl.h, instantiated privately here.
#include "ukernels/conv_ocvec_ukernels.h"

#include <cstdint>
#include <cstring>

#if defined(TF_HAVE_CONV_OCVEC)
namespace tf {
namespace {
#include "ukernels/conv_ocvec_impl.h"
}  // namespace

void conv_ocvec_f32__avx2_fma_dx_row(int64_t rows, const float* const* dyrow, const float* const* wrow, int64_t kw,
                                   int64_t c, int64_t ocp, int64_t w, float* dx) {
  dx_row(rows, dyrow, wrow, kw, c, ocp, w, dx);
}

void conv_ocvec_f32__avx2_fma_fwd_row(int64_t rows, const float* const* xrow, const float* const* wrow, int64_t kwc,
                                    int64_t sx, int64_t ocp, int64_t oc, int64_t ow, const float* bias, float* y) {
  fwd_row(rows, xrow, wrow, kwc, sx, ocp, oc, ow, bias, y);
}

void conv_ocvec_f32__avx2_fma_dw_rows(int64_t rows, const float* const* xrow, const float* const* dyrow, int64_t ow,
                                    int64_t sx, int64_t kwc, int64_t ocp, float* acc) {
  dw_rows(rows, xrow, dyrow, ow, sx, kwc, ocp, acc);
}

}  // namespace tf
#endif
