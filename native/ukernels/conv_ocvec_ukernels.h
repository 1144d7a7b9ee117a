// Convolution micro-kernels vectorized across 16 OUTPUT-GRADIENT channels in the reduction (LeNet's
// conv2 backward-input: dx has only 6 channels per pixel, too few for channel-vectorized tiles, but dy
// has 16, exactly one AVX-512 vector). Portable header: no intrinsics (written once, conv_ocvec_impl.h,
// over GCC/Clang vector extensions and compiled per ISA file; other compilers get no kernels and keep
// the general paths).
//
//   dx_row: for iw < w, c < C (1 <= C <= 8):
//     dx[iw*C + c] = Σ_{r < rows} Σ_{t < kw} Σ_{o < ocp} dyrow[r][(iw + t)*ocp + o] · wrow[r][(t*C + c)*ocp + o]
//   (overwritten; rows = 0 writes zeros). ocp a multiple of 16; each dyrow[r] holds (w + kw - 1)*ocp
//   readable floats. Order: per output, 16 lane partial sums accumulated in (16-channel chunk, r, t)
//   order, then added by a fixed pairwise tree across lanes; the same for every pixel blocking.
//   The caller lays out zero-bordered dy rows and the rotated filter so that this is backward-input of
//   a stride-1, undilated convolution (conv2d_ocvec.cc).
//
// Forward and backward-filter of the same layers keep the OUTPUT channels in the vector (16 per chunk,
// ocp = round_up(OC, 16) <= 64): a kernel row of a few-channel layer reads kwc = KW*C adjacent floats of
// x per pixel, so the reduction is rows x kwc broadcast scalars, each against ocp/16 vectors.
//
//   fwd_row: for p < ow, o < oc: y[p*oc + o] = (Σ_{r < rows} Σ_{k < kwc} xrow[r][p*sx + k] · wrow[r][k*ocp + o])
//            + (bias ? bias[o] : 0), summed in (r, k) order (rows = 0 gives the bias). wrow[r]: kwc x ocp
//            filter floats (zero for o >= oc); bias, when non-null, ocp readable floats; y overwritten.
//   dw_rows: for k < kwc, o < ocp: acc[k*ocp + o] += Σ_{r < rows} Σ_{p < ow} xrow[r][p*sx + k] · dyrow[r][p*ocp + o],
//            added onto acc in (r, p) order. dyrow[r]: ow x ocp floats (the caller zeroes o >= OC).
#pragma once

#include <cstdint>

namespace tf {

using ConvOcvecDxRowFn = void (*)(int64_t rows, const float* const* dyrow, const float* const* wrow, int64_t kw,
                                  int64_t c, int64_t ocp, int64_t w, float* dx);

using ConvOcvecFwdRowFn = void (*)(int64_t rows, const float* const* xrow, const float* const* wrow, int64_t kwc,
                                   int64_t sx, int64_t ocp, int64_t oc, int64_t ow, const float* bias, float* y);
using ConvOcvecDwRowsFn = void (*)(int64_t rows, const float* const* xrow, const float* const* dyrow, int64_t ow,
                                   int64_t sx, int64_t kwc, int64_t ocp, float* acc);

struct ConvOcvecUkernel {
  ConvOcvecDxRowFn dx_row = nullptr;
  ConvOcvecFwdRowFn fwd_row = nullptr;
  ConvOcvecDwRowsFn dw_rows = nullptr;
  const char* name = "";
};

#if defined(__GNUC__) || defined(__clang__)
#define TF_HAVE_CONV_OCVEC 1
void conv_ocvec_f32__scalar_dx_row(int64_t rows, const float* const* dyrow, const float* const* wrow, int64_t kw,
                                   int64_t c, int64_t ocp, int64_t w, float* dx);
void conv_ocvec_f32__scalar_fwd_row(int64_t rows, const float* const* xrow, const float* const* wrow, int64_t kwc,
                                    int64_t sx, int64_t ocp, int64_t oc, int64_t ow, const float* bias, float* y);
void conv_ocvec_f32__scalar_dw_rows(int64_t rows, const float* const* xrow, const float* const* dyrow, int64_t ow,
                                    int64_t sx, int64_t kwc, int64_t ocp, float* acc);
#if defined(TF_HAVE_AVX2)
void conv_ocvec_f32__avx2_fma_dx_row(int64_t rows, const float* const* dyrow, const float* const* wrow, int64_t kw,
                                     int64_t c, int64_t ocp, int64_t w, float* dx);
void conv_ocvec_f32__avx2_fma_fwd_row(int64_t rows, const float* const* xrow, const float* const* wrow, int64_t kwc,
                                    int64_t sx, int64_t ocp, int64_t oc, int64_t ow, const float* bias, float* y);
void conv_ocvec_f32__avx2_fma_dw_rows(int64_t rows, const float* const* xrow, const float* const* dyrow, int64_t ow,
                                    int64_t sx, int64_t kwc, int64_t ocp, float* acc);
#endif
#if defined(TF_HAVE_AVX512)
void conv_ocvec_f32__avx512f_dx_row(int64_t rows, const float* const* dyrow, const float* const* wrow, int64_t kw,
                                    int64_t c, int64_t ocp, int64_t w, float* dx);
void conv_ocvec_f32__avx512f_fwd_row(int64_t rows, const float* const* xrow, const float* const* wrow, int64_t kwc,
                                    int64_t sx, int64_t ocp, int64_t oc, int64_t ow, const float* bias, float* y);
void conv_ocvec_f32__avx512f_dw_rows(int64_t rows, const float* const* xrow, const float* const* dyrow, int64_t ow,
                                    int64_t sx, int64_t kwc, int64_t ocp, float* acc);
#endif
#endif

}  // namespace tf
