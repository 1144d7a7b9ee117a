// The fast convolution paths behind conv2d.h, chosen per shape by conv2d.cc (internal header).
//
//   forward          indirect GEMM (conv_ukernels.h): output pixels x output channels, the input read in
//                    place through a small table of row pointers; 1x1 stride-1 unpadded: tf::gemm; few
//                    channels, one group, no horizontal dilation: one pointer per kernel row into a
//                    zero-bordered copy of the task's input rows (forward_igemm_rows).
//   backward-input   indirect GEMM over dx pixels, grouped by stride phase so that every tap of a phase
//                    really contributes (a stride-2 conv wastes no multiply on the zeros a col2im or a
//                    zero-stuffed transposed conv would add); 1x1 stride-1 unpadded: tf::gemm.
//   backward-filter  one group, stride_w 1, most output columns interior (or 1x1 stride 1 unpadded), and
//                    KW*C (C when dilated) a multiple of a GEMM tile's NR (ResNet 3x3, 1x1 128 -> 256):
//                    dWᵀ = dyᵀ·patches on that tile's strided-B micro-kernel, the patches read in place
//                    from x along each output row's interior (or along all pixels of a 1x1 layer), dy
//                    packed (dbias summed while packing), edge pixels gathered 64 at a time
//                    (conv2d_filter_inplace.cc). Otherwise the dispatch table's GEMM micro-kernel on
//                    operands packed straight from x and dy (no im2col), K blocks of pixels in order within <= 16 fixed parts whose partial sums
//                    are added in part order, a column of ones giving dbias in the same product; when the
//                    runs of adjacent x channels are shorter than 8 floats: tf::gemm over bounded im2col
//                    tiles (gathered rows). Few channels, one group, stride_w 1 (LeNet): the igemm with
//                    rows = taps read in place from per-image channel planes of x, columns = OC
//                    (backward_filter_rows).
//   few channels, 12..64 output channels, stride 1 (LeNet conv2) backward-input: dx as a correlation of
//                    zero-bordered dy with the rotated filter, SIMD across 16 dy channels in the reduction,
//                    P pixels x C channels of lane partials in registers (conv2d_ocvec.cc).
//   few channels, 12..32 output channels (LeNet conv2) forward and backward-filter: output channels in the
//                    vector, each kernel row's KW*C adjacent x floats broadcast against them, the whole
//                    reduction in registers (conv2d_ocvec.cc).
//   one channel      C = 1, one group, stride_w = dilation_w = 1 (LeNet conv1): forward and backward-filter
//                    vectorized across 16 output pixels instead of across output channels (conv2d_width.cc).
//   depthwise        (groups = C = OC) SIMD across channels, dwconv micro-kernels; other depthwise-like
//                    layers (a channel multiplier > 1) keep the direct loops of conv2d.cc.
//
// Few-channel backward-input's col2im adds each output row's runs of KW*Cg floats with one add_runs call
// per kernel row (conv_width_ukernels.h; AVX-512 sums overlapping runs in registers, same bits).
//
// Workspace, in floats unless noted; none of it grows with the batch size N (no full im2col, ever):
//   forward igemm        packed filter G*KH*KW*Cg*round_up(OCg, NR), once per call; per task a pointer
//                        table of KH*KW*MR pointers (+ MR*KH*KW*Cg floats when Cg < kGatherChannels);
//                        rows variant: KH*MR pointers and (B-1)*sh + (KH-1)*dh + 1 input rows of
//                        (pl+W+pr)*C floats, B = clamp(2^14 / ((pl+W+pr)*C*sh), 1, OH) output rows
//   backward-input ocvec the rotated filter KH*KW*C*round_up(OC,16) per call; per task one image's
//                        zero-bordered dy, OH*(W+KW-1)*round_up(OC,16)
//   ocvec fwd / dw       forward: the filter and bias at round_up(OC,16) lanes when OC is not a multiple of
//                        16; per task KH bordered rows of (pl+W+pr)*C when padded left/right. Backward-filter:
//                        per part (<= 16) KH*KW*C*round_up(OC,16) + round_up(OC,16); per task one image's
//                        bordered rows H*(pl+W+pr)*C (padded left/right) and dy at round_up(OC,16) lanes
//                        (OC not a multiple of 16)
//   backward-input       packed filter G*KH*KW*OCg*round_up(Cg, NR); per task KH*KW*MR pointers.
//                        Few channels: filter G*OCg*round_up(KH*KW*Cg, NR); per task one dcol band of
//                        max(2^16, OW*KH*KW*Cg) floats rounded up to MR rows
//   backward-filter      packed: per part (<= 16, fixed by the shape) an accumulator OCg x (KH*KW*Cg + 1);
//                        per task one B block of kc x round_up(KH*KW*Cg + 1, NR) floats (kc: the GEMM's
//                        K block, <= 384), a kc x MR A panel and KH*KW*kc offsets. Short runs: per
//                        task one im2col tile of P x (KH*KW*Cg + 1) floats, P = kc * max(1, 2^18 /
//                        ((KH*KW*Cg+1)*kc)), i.e. at most max(1 MiB, kc*(KH*KW*Cg+1)*4 bytes), per part
//                        the accumulator, and tf::gemm's own packing buffers
//                        Rows variant: per task C*sw*(pt+H+pb)*ceil((pl+W+pr)/sw) + round_up(OC, NR)*OH*OW +
//                        (K+1)*OC floats and OH*MR*ceil((K+1)/MR) pointers, plus (K+1)*OC per part;
//                        taken only while round_up(OC, NR)*OH*OW <= 2^20 (and, for C >= 8, the channel
//                        planes <= 2^20 floats: conv2d.cc)
//   backward-filter in place: per part (<= 16, fixed by the shape) an accumulator OC x KH*KW*C (+ OC for
//                        dbias); per task the packed dy of one run (an output row's interior, 64 edge
//                        pixels, or 256 pixels of a 1x1 layer): round_up(OC, MR) * max(OW, 64 or 256)
//                        floats, and 64 gathered edge patches of KH*KW*C floats. x is read in place.
//   one channel (width)  forward per task (KH+1)*(round_up(OW,16)+KW-1); backward-filter per part (<= 16)
//                        (KH*KW+1)*OC*16 lane partials, per task one image's zero-bordered x and dy^T
//                        (about (OH+KH)*(OW+KW) + OC*OH*(OW+KW) floats, conv2d_width.cc)
//   depthwise            per task KH*KW pointers; backward-filter <= 32 x (KH*KW+1) x C partial sums
//   pointwise (1x1)      forward and backward-input: with Cg >= 64 (and OCg >= 64 forward) the igemm's, else
//                        nothing but tf::gemm's packing buffers; backward-filter: an OCg x Cg accumulator, per 1024-pixel
//                        chunk ceil(1024/256) x OC column partial sums, and tf::gemm's packing buffers
//
// Session 4 (ResNet 3x3 64 -> 64, N = 32, AVX-512, 1 thread, bench-conv, 6-8 alternating pairs): the
// pointer tables of interior tiles built from the tile's first pixel (forward_igemm, stride-1
// backward_input_igemm) took the forward from 163-165 to 170-173 GFLOP/s and backward-input from 163
// to 168, though a C++ harness timing the driver alone with an empty micro-kernel saw the same kernel
// time either way. Not kept: non-temporal stores of full 6x64 tiles (no change within the noise); the
// 6x64 K loop with A broadcast inside each FMA ({1to16} memory operands, B in registers) and the
// same as 7x64 (28 accumulators): 146-157 against 180-184 GFLOP/s for the kept loop on one tile with
// the filter in L2 (the loads, 28 per 24 FMAs, saturate the load ports).
// Measured and not kept (session 3, ResNet 3x3 64 -> 64 and the strided 3x3, N = 4..32, AVX-512, 1 thread,
// alternating in one process): forward igemm over blocks of 1..4 taps per call for 8 tiles at a time, so the
// filter block stays in L1 and y carries the sums between blocks (2-8 % slower than all taps per call:
// the packed filter streams from L2 fast enough); software prefetch of the packed filter in the
// micro-kernel (within 2 %), and of the x row a tile 4 or 12 tiles ahead reads last (4 % slower);
// forward_igemm_rows (zero-bordered rows, ks = KH, kc = KW*C) for C = 64 (3-7 % slower); the panel loop
// outside the tiles for the 1x1 igemm forward (slower); prefetching the next image's x and dy during the
// rows backward-filter (slower). See BENCHMARKS.md, "Large layers, session 3".
// Measured and not kept: a backward-filter micro-kernel accumulating outer products over 256-pixel
// blocks straight from x and dy (no im2col) ran at 74 GFLOP/s vs 108 for tf::gemm over im2col tiles
// (ResNet 3x3 64->64, AVX-512, 1 thread): dy rows read at stride OC miss L1, the GEMM's packed panels do not.
// Depthwise (N=32 56x56x64 3x3, AVX-512, 1 thread, old and new kernels alternating in one process, both
// -O3): holding a tap group's weights in registers and walking 16-pixel tiles one 16-channel block at a
// time (one load per multiply-add instead of two) ran 1.2x faster on one row in L1 (1.04 vs 1.26 us)
// but 26-60 % slower forward at N=32 (the 256-byte-strided reads); a backward-filter keeping all 9 taps'
// accumulators in registers (one pass over dy instead of two plus a bias pass) was within 2 % at N=32
// and 5 % slower at N=1..4. The kept forward takes 3.4-3.8 ms at N=32 against 2.5 ms for 32x its N=1
// time (data in cache) and 1.8 ms for a plain copy of x: neither pure compute nor pure bandwidth, left
// for a later round.
#pragma once

#include "kernels/conv2d.h"
#include "ukernels/conv_ocvec_ukernels.h"
#include "ukernels/conv_ukernels.h"
#include "ukernels/conv_width_ukernels.h"
#include "ukernels/dwconv_ukernels.h"
#include "ukernels/gemm_ukernels.h"

namespace tf::conv_detail {

// Fewer input channels per group than this (the first layer of an image model, C = 1 or 3): forward
// gathers each tile's taps x Cg inputs into one row per pixel (one long K loop instead of KH*KW loops of
// Cg steps); backward-input computes dcol = dy·wᵀ per image band and scatters it (col2im).
constexpr int64_t kGatherChannels = 8;

// True when the convolution is a plain GEMM over pixels: 1x1 kernel, stride 1, no padding.
bool is_pointwise(const Conv2dShape& s);

void forward_igemm(const Conv2dShape& s, const Conv2dEpilogue& e, const float* x, const float* w, const float* bias,
                   float* y, const ConvIgemmUkernel& uk);
void forward_igemm_rows(const Conv2dShape& s, const Conv2dEpilogue& e, const float* x, const float* w,
                        const float* bias, float* y, const ConvIgemmUkernel& uk);
void forward_pointwise(const Conv2dShape& s, const Conv2dEpilogue& e, const float* x, const float* w,
                       const float* bias, float* y);

void backward_input_igemm(const Conv2dShape& s, float* dx, const float* dy, const float* w, const ConvIgemmUkernel& uk);
void backward_input_few_channels(const Conv2dShape& s, float* dx, const float* dy, const float* w,
                                 const ConvIgemmUkernel& uk);
void backward_input_pointwise(const Conv2dShape& s, float* dx, const float* dy, const float* w);

void backward_filter_gemm(const Conv2dShape& s, float* dw, float* dbias, const float* dy, const float* x);
// 1x1, stride 1, no padding: tf::gemm per group, dbias from column_sums (conv2d_filter.cc).
void backward_filter_pointwise(const Conv2dShape& s, float* dw, float* dbias, const float* dy, const float* x);
// sums[j] += Σ_p m[p*cols + j] over rows p, in parts fixed by the size (bit-identical for any thread count).
void add_column_sums(const float* m, int64_t rows, int64_t cols, float* sums);
void backward_filter_packed(const Conv2dShape& s, float* dw, float* dbias, const float* dy, const float* x);
// The active ISA's NHWC -> channel planes transposer (conv_ukernels.h), used by backward_filter_rows.
const ConvPlanesUkernel& planes_ukernel();
void backward_filter_rows(const Conv2dShape& s, float* dw, float* dbias, const float* dy, const float* x,
                          const ConvIgemmUkernel& uk);
// Backward-filter with x read in place by the GEMM micro-kernel's strided-B form (conv2d_filter_inplace.cc).
// inplace_filter_ukernel: the GEMM tile to use, or nullptr when the path does not apply (groups > 1,
// stride_w > 1, pointwise, fewer than 3/4 of the output columns interior, or no tile whose NR divides the
// contiguous column runs: KW*C without horizontal dilation, else C).
const GemmUkernel* inplace_filter_ukernel(const Conv2dShape& s);
void backward_filter_inplace(const Conv2dShape& s, float* dw, float* dbias, const float* dy, const float* x,
                             const GemmUkernel& uk);

// One input channel, width-vectorized (conv2d_width.cc). width_path_applies: C = 1, one group,
// stride_w = dilation_w = 1 (any KH, KW, stride_h, dilation_h, padding). width_ukernel(): the active
// ISA's kernels, or nullptr when this compiler has none (the callers then keep the general paths).
bool width_path_applies(const Conv2dShape& s);
const ConvWidthUkernel* width_ukernel();
void forward_width(const Conv2dShape& s, const Conv2dEpilogue& e, const float* x, const float* w, const float* bias,
                   float* y, const ConvWidthUkernel& uk);
void backward_filter_width(const Conv2dShape& s, float* dw, float* dbias, const float* dy, const float* x,
                           const ConvWidthUkernel& uk);

// Backward-input vectorized across 16 dy channels (conv2d_ocvec.cc): ocvec_backward_input_applies states
// the shapes (one group, stride 1, no dilation, C <= 8, 12 <= OC <= 64); ocvec_ukernel() is nullptr when
// this compiler has no kernels. backward_input_ocvec returns false, having written nothing, when w holds an
// inf or NaN (the caller then keeps its general path).
bool ocvec_backward_input_applies(const Conv2dShape& s);
const ConvOcvecUkernel* ocvec_ukernel();
bool backward_input_ocvec(const Conv2dShape& s, float* dx, const float* dy, const float* w, const ConvOcvecUkernel& uk);
// Forward and backward-filter with the output channels in the vector (conv2d_ocvec.cc): ocvec_direct_applies
// states the shapes (one group, no dilation, C <= 8, 12 <= OC <= 32). Both return false, having written
// nothing, when horizontal padding meets a non-finite w (forward) or dy (backward-filter).
bool ocvec_direct_applies(const Conv2dShape& s);
bool forward_ocvec(const Conv2dShape& s, const Conv2dEpilogue& e, const float* x, const float* w, const float* bias,
                   float* y, const ConvOcvecUkernel& uk);
bool backward_filter_ocvec(const Conv2dShape& s, float* dw, float* dbias, const float* dy, const float* x,
                           const ConvOcvecUkernel& uk);

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

// Backward-filter's partial sums: acc[i] += acc[part * size + i] for part = 1 .. parts-1, in part order
// for every i (the bits of a serial loop), threaded over i.
void add_parts_in_order(float* acc, int64_t parts, int64_t size);

}  // namespace tf::conv_detail
