// Reductions over a set of axes (sum, mean, max), their backward passes, and argmax.
//
// The shape is collapsed first: size-1 dims dropped, neighbouring dims that are both kept or both
// reduced merged. Two loop shapes cover every case:
//  - innermost dim kept (e.g. [R, K] over axis 0, a bias gradient): rows of outputs are accumulated
//    with contiguous, vectorizable row updates, one reduced index after another;
//  - innermost dim reduced (e.g. [K, R] over axis 1): each output reduces contiguous runs with fixed
//    lanes (see sum_contiguous).
// Work is split over OUTPUT elements and each output is reduced in a fixed order, so results are
// bit-identical for any thread count. (A full reduction to one output therefore runs on one thread.)
//
// Preconditions (checked by the binding): rank <= kMaxRank, dims >= 1, axes sorted, unique, in range.
#pragma once

#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

#include "kernels/broadcast.h"

namespace tf::kernels {

enum class ReduceOp { sum, mean, max };

// Elements per chunk of parallel work: small jobs stay on the calling thread.
constexpr int64_t kParallelWork = int64_t{1} << 15;

// max that propagates NaN (as PyTorch): v wins when larger or NaN.
inline float max_nan(float m, float v) { return (v > m || v != v) ? v : m; }
// "v is a new first maximum": strictly larger, or the first NaN.
inline bool beats_max(float v, float best) { return v > best || (v != v && best == best); }

// Sum of p[0..n) in 8 fixed lanes combined pairwise: vectorizes without -ffast-math and gives the
// same bits on every run and thread count.
inline float sum_contiguous(const float* p, int64_t n) {
  float lane[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    for (int j = 0; j < 8; ++j) lane[j] += p[i + j];
  }
  for (int j = 0; i + j < n; ++j) lane[j] += p[i + j];
  return ((lane[0] + lane[1]) + (lane[2] + lane[3])) + ((lane[4] + lane[5]) + (lane[6] + lane[7]));
}

// Max of p[0..n), n >= 1; NaN if any element is NaN. Compared as integers: flipping the magnitude bits
// of negative floats makes their bit patterns order like the values (-0 just below +0), and integer
// max is a reduction compilers vectorize, where the float compare-and-select of max_nan stays a
// branch per element. Max is exact, so the result does not depend on the order.
inline float max_contiguous(const float* p, int64_t n) {
  int32_t m = INT32_MIN;
  uint32_t nan = 0;
  for (int64_t i = 0; i < n; ++i) {
    uint32_t b;
    std::memcpy(&b, p + i, sizeof b);
    const int32_t key = static_cast<int32_t>(b ^ ((0u - (b >> 31)) & 0x7fffffffu));
    m = key > m ? key : m;
    nan |= static_cast<uint32_t>((b & 0x7fffffffu) > 0x7f800000u);
  }
  if (nan != 0) return std::numeric_limits<float>::quiet_NaN();
  uint32_t b = static_cast<uint32_t>(m);
  b ^= (0u - (b >> 31)) & 0x7fffffffu;
  float v;
  std::memcpy(&v, &b, sizeof v);
  return v;
}

// The collapsed description of one reduction.
struct ReducePlan {
  int kept_rank = 0;  // kept dims, outermost first (the output layout)
  int64_t kept_size[kMaxRank] = {};
  int64_t kept_stride[kMaxRank] = {};
  int red_rank = 0;  // reduced dims, outermost first ("first maximum" = lowest index in this order)
  int64_t red_size[kMaxRank] = {};
  int64_t red_stride[kMaxRank] = {};
  bool inner_kept = true;  // the innermost collapsed dim (stride 1) is kept
  int64_t out_count = 1;
  int64_t red_count = 1;  // elements reduced into each output
};

ReducePlan make_reduce_plan(const std::vector<int64_t>& shape, const std::vector<int64_t>& axes);

// x [shape] -> y [shape without axes]
void reduce(ReduceOp op, const std::vector<int64_t>& shape, const std::vector<int64_t>& axes, const float* x, float* y);
// dy [shape without axes], x [shape] -> dx [shape] (overwrite). max routes dy to the first maximum.
void reduce_backward(ReduceOp op, const std::vector<int64_t>& shape, const std::vector<int64_t>& axes, float* dx,
                     const float* dy, const float* x);
// x [shape] -> y [shape without axis] = index of the first maximum along axis.
void argmax(const std::vector<int64_t>& shape, int64_t axis, const float* x, int32_t* y);

}  // namespace tf::kernels
