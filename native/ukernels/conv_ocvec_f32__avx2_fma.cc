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

}  // namespace tf
#endif
