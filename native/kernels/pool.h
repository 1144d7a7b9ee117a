// 2-D pooling in NHWC, forward and backward side by side: max and average windows, and global
// average / max over all spatial positions. The innermost loops run over contiguous channels.
//
// Max pooling picks the FIRST maximum of each window in row-major scan order (padding never takes
// part; a NaN counts as the maximum, the first NaN wins), and its backward routes dy there; the
// reference backend applies the same rule, so the two agree bit for bit on ties.
// Threading: forward over (n, output row); average backward over (n, input row) gathering every dx
// element in full; max backward and global pools over (n, channel block) so no two tasks write the
// same dx element. Bit-identical for any thread count.
#pragma once

#include <cstdint>

#include "kernels/conv_shape.h"

namespace tf {

// x [N,H,W,C] -> y [N,OH,OW,C]
void max_pool2d(const Pool2dShape& s, const float* x, float* y);
// dx [N,H,W,C] (overwritten) <- dy [N,OH,OW,C], x [N,H,W,C]
void max_pool2d_backward(const Pool2dShape& s, float* dx, const float* dy, const float* x);

// x [N,H,W,C] -> y [N,OH,OW,C]; divides by KH*KW (count_include_pad) or by the real elements. Runs as a
// depthwise convolution with the filter 1/(KH*KW) (conv2d_depthwise.cc), as does the backward with
// count_include_pad.
void avg_pool2d(const Pool2dShape& s, bool count_include_pad, const float* x, float* y);
// dx [N,H,W,C] (overwritten) <- dy [N,OH,OW,C]
void avg_pool2d_backward(const Pool2dShape& s, bool count_include_pad, float* dx, const float* dy);

// x [N,HW,C] -> y [N,C]
void global_avg_pool2d(int64_t n, int64_t hw, int64_t c, const float* x, float* y);
// dx [N,HW,C] (overwritten) <- dy [N,C]
void global_avg_pool2d_backward(int64_t n, int64_t hw, int64_t c, float* dx, const float* dy);
void global_max_pool2d(int64_t n, int64_t hw, int64_t c, const float* x, float* y);
// dx [N,HW,C] (overwritten): dy goes to the first maximum over HW, zero elsewhere.
void global_max_pool2d_backward(int64_t n, int64_t hw, int64_t c, float* dx, const float* dy, const float* x);

}  // namespace tf
