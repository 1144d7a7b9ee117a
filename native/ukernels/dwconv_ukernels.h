// Depthwise convolution micro-kernels (one input channel per group, channel multiplier 1): the work is
// a multiply-add per channel, so the kernels run SIMD across the c contiguous channels of a pixel, over
// a run of `count` pixels that share their taps (one call per interior row segment, one per edge pixel).
// Portable header: no intrinsics here (they live only in the files named for their ISA).
//
//   fwd:  for p < count: out[p*c + j] = (bias ? bias[j] : 0) + Σ_{s < ks} in[s][p*in_stride + j] · w[s][j]
//         (s in order; ks may be 0)
//   grad: acc[s][j] += Σ_{p < count} in[s][p*in_stride + j] · dy[p*c + j] for every s < ks, and
//         acc_bias[j] += Σ_{p < count} dy[p*c + j] when acc_bias != null. The SIMD kernels sum the run in
//         registers (pixel order) and add it once; the grouping is fixed per kernel, never by threads.
//   in, w, acc: ks pointers. Nothing past channel c-1 of any pixel is touched.
//
// Row kernels, for the common layer shape (stride 1 and dilation 1 along the row, KW = 3 or 5): one
// call per output row, the padding columns skipped inside, several output pixels per register tile so
// each input vector loaded feeds up to KW multiply-adds.
//
//   fwd_row:  for o < count, j < c: out[o*c + j] = (bias ? bias[j] : 0)
//                 + Σ_{r < rows} Σ_{t < kw, 0 <= o - pad + t < width} in[r][(o - pad + t)*c + j] · w[r][t*c + j]
//             (r, then t, in order; rows may be 0). in, w: `rows` pointers (input rows, filter rows).
//             Filter rows and bias are laid out doubled: w[r] holds KW taps of 2c floats (tap t's c values at
//             t*2c and again at t*2c + c), bias 2c floats (the c values twice), so the kernels may start a
//             vector anywhere in a pixel (rows that start between vector boundaries are then read with
//             aligned loads); w[r][t*c + j] above means w[r][t*2c + j].
//   fwd_row2: two output rows sharing their input rows (KW = 3, stride 1 and dilation 1 down the column
//             too): out0 is fwd_row over in[0..rows), out1 fwd_row over in[1..rows], both with w[0..rows)
//             (doubled, as for fwd_row)
//             (rows >= 1; rows + 1 input rows). Each input vector loaded feeds both rows; every output's
//             sum runs in the same order as fwd_row's, so the results are identical to two fwd_row calls.
//   grad_row: for r < rows, t < kw, j < c:
//                 acc[r][t*c + j] += Σ_{o < count, 0 <= o - pad + t < width} in[r][(o - pad + t)*c + j] · dy[o*c + j]
//             and acc_bias[j] += Σ_{o < count} dy[o*c + j] when acc_bias != null. Each accumulator sums
//             the row in pixel order in a register, starting from its value in memory.
//   next_in, next_dy (may be null): the input row (same columns as in[r]) and dy row the next call will
//             read, prefetched while this one computes.
//   kw must satisfy dwconv_row_supports(kw).
#pragma once

#include <cstdint>

namespace tf {

using DwconvFwdFn = void (*)(int64_t c, int64_t ks, const float* const* in, const float* const* w, const float* bias,
                             float* out, int64_t count, int64_t in_stride);
using DwconvGradFn = void (*)(int64_t c, int64_t ks, const float* const* in, const float* dy, float* const* acc,
                              float* acc_bias, int64_t count, int64_t in_stride);

using DwconvFwdRowFn = void (*)(int64_t c, int64_t kw, int64_t rows, const float* const* in, const float* const* w,
                                const float* bias, float* out, int64_t count, int64_t pad, int64_t width,
                                const float* next_in);
using DwconvFwdRow2Fn = void (*)(int64_t c, int64_t rows, const float* const* in, const float* const* w,
                                 const float* bias, float* out0, float* out1, int64_t count, int64_t pad,
                                 int64_t width, const float* next_in);
using DwconvGradRowFn = void (*)(int64_t c, int64_t kw, int64_t rows, const float* const* in, const float* dy,
                                 float* const* acc, float* acc_bias, int64_t count, int64_t pad, int64_t width,
                                 const float* next_in, const float* next_dy);

// The filter widths the row kernels are compiled for.
constexpr bool dwconv_row_supports(int64_t kw) { return kw == 3 || kw == 5; }

struct DwconvUkernel {
  DwconvFwdFn fwd = nullptr;
  DwconvGradFn grad = nullptr;
  DwconvFwdRowFn fwd_row = nullptr;
  DwconvFwdRow2Fn fwd_row2 = nullptr;
  DwconvGradRowFn grad_row = nullptr;
  const char* name = "";
};

// Declarations of every kernel pair in the list (dwconv_ukernels.inc).
#define TF_DWCONV_UKERNEL(isa, name)                                                                      \
  void name##_fwd(int64_t c, int64_t ks, const float* const* in, const float* const* w, const float* bias, \
                  float* out, int64_t count, int64_t in_stride);                                          \
  void name##_grad(int64_t c, int64_t ks, const float* const* in, const float* dy, float* const* acc,       \
                   float* acc_bias, int64_t count, int64_t in_stride);                                    \
  void name##_fwd_row(int64_t c, int64_t kw, int64_t rows, const float* const* in, const float* const* w,  \
                      const float* bias, float* out, int64_t count, int64_t pad, int64_t width,           \
                      const float* next_in);                                                               \
  void name##_fwd_row2(int64_t c, int64_t rows, const float* const* in, const float* const* w,              \
                       const float* bias, float* out0, float* out1, int64_t count, int64_t pad, int64_t width, \
                       const float* next_in);                                                              \
  void name##_grad_row(int64_t c, int64_t kw, int64_t rows, const float* const* in, const float* dy,       \
                       float* const* acc, float* acc_bias, int64_t count, int64_t pad, int64_t width,      \
                       const float* next_in, const float* next_dy);
#include "ukernels/dwconv_ukernels.inc"
#undef TF_DWCONV_UKERNEL

}  // namespace tf
