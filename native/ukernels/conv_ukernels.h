// The convolution micro-kernel contract: an indirect GEMM ("igemm", as in XNNPACK's indirect
// convolution) that reads input rows through a table of pointers instead of a packed im2col panel,
// so padding, stride and dilation cost nothing but the pointer table and no input is ever copied.
// Portable header: no intrinsics here (they live only in the files named for their ISA).
//
// One call computes one MR x NR tile of C = a convolution output:
//   t[i][j] = sum_{s < ks} sum_{p < kc} a[s*MR + i][p] * w[(s*kc + p)*NR + j]   (order: s, then p)
//   if (bias) t += bias[j];  if (relu) t = max(0, t) keeping NaN (as `t < 0 ? 0 : t`)
//   c[i*ldc + j] = t   for i < mr, j < nr
//   a  ks*MR pointers ("taps"), each to kc readable floats; a row that has no input at a tap (padding,
//      or a row i >= mr of a partial tile) points at a zero row of kc floats.
//   w  packed weights [ks][kc][NR], columns >= nr zero-padded; any alignment (unaligned loads, as fast
//      on aligned data), so a caller may pass rows of a tensor that already has NR columns.
//   ks == 0 is allowed (t = 0). Nothing outside the mr x nr corner of c, or past bias[nr-1], is touched.
#pragma once

#include <cstdint>

namespace tf {

using ConvIgemmFn = void (*)(int64_t ks, int64_t kc, const float* const* a, const float* w, float* c,
                             int64_t ldc, int mr, int nr, const float* bias, bool relu);

struct ConvIgemmUkernel {
  ConvIgemmFn fn = nullptr;
  int mr = 0;
  int nr = 0;
  const char* name = "";
};

// Declarations of every kernel in the list.
#define TF_CONV_IGEMM_UKERNEL(isa, name, mr, nr, role)                                                      \
  void name(int64_t ks, int64_t kc, const float* const* a, const float* w, float* c, int64_t ldc, int mr_valid, \
            int nr_valid, const float* bias, bool relu);
#include "ukernels/conv_ukernels.inc"
#undef TF_CONV_IGEMM_UKERNEL

// Channel planes from NHWC pixels, for the drivers that read x channel by channel (conv2d_filter.cc's
// rows path):  dst[ci*dst_stride + p] = src[p*src_stride + ci]   for p < count, ci < c.
// Nothing else in dst is written; src is read only inside those (p, ci). The x86 versions gather 16 (8)
// pixels of one channel per instruction; the portable one is the plain loop.
using ConvPlanesFn = void (*)(int64_t count, int64_t c, const float* src, int64_t src_stride, float* dst,
                              int64_t dst_stride);
struct ConvPlanesUkernel {
  ConvPlanesFn fn = nullptr;
  const char* name = "";
};
void conv_planes_f32__scalar(int64_t count, int64_t c, const float* src, int64_t src_stride, float* dst,
                             int64_t dst_stride);
#if defined(TF_HAVE_AVX2)
void conv_planes_f32__avx2(int64_t count, int64_t c, const float* src, int64_t src_stride, float* dst,
                           int64_t dst_stride);
#endif
#if defined(TF_HAVE_AVX512)
void conv_planes_f32__avx512f(int64_t count, int64_t c, const float* src, int64_t src_stride, float* dst,
                              int64_t dst_stride);
#endif

}  // namespace tf
