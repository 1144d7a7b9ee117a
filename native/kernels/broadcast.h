// NumPy broadcasting of two inputs, reduced to the fewest dimensions that describe it.
//
// Output dims of size 1 are dropped and neighbouring dims in which each input is either "real" in both
// or "repeated" in both are merged. What is left is a short list of (size, stride_a, stride_b) whose
// innermost strides are 0 or 1, so the inner loop is one of four contiguous patterns that
// auto-vectorize: same shape (1,1), bias-like trailing vector (1,1 on the last dim, 0 on the outer
// ones), scalar (1,0) / (0,1), or both repeated (0,0).
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

namespace tf::kernels {

constexpr int kMaxRank = 8;

// True when the two shapes broadcast (right-aligned, each pair equal or one of them 1).
bool broadcastable(const std::vector<int64_t>& a, const std::vector<int64_t>& b);
// The broadcast shape (requires broadcastable(a, b)).
std::vector<int64_t> broadcast_shape(const std::vector<int64_t>& a, const std::vector<int64_t>& b);

struct BroadcastPlan {
  int rank = 1;                 // >= 1 after collapsing
  int64_t size[kMaxRank] = {1};
  int64_t stride_a[kMaxRank] = {0};  // element strides; 0 where a repeats
  int64_t stride_b[kMaxRank] = {0};
  int64_t total = 1;            // output element count
};

BroadcastPlan make_broadcast_plan(const std::vector<int64_t>& a, const std::vector<int64_t>& b);

// Walks output elements [begin, end) of the plan as contiguous row pieces, calling
// row(offset_a, inner_stride_a, offset_b, inner_stride_b, out_pos, len) for each.
template <class Row>
void for_each_row(const BroadcastPlan& p, int64_t begin, int64_t end, Row&& row) {
  const int last = p.rank - 1;
  int64_t idx[kMaxRank];
  int64_t oa = 0, ob = 0, rem = begin;
  for (int d = last; d >= 0; --d) {
    idx[d] = rem % p.size[d];
    rem /= p.size[d];
    oa += idx[d] * p.stride_a[d];
    ob += idx[d] * p.stride_b[d];
  }
  int64_t pos = begin;
  while (pos < end) {
    const int64_t len = std::min(end - pos, p.size[last] - idx[last]);
    row(oa, p.stride_a[last], ob, p.stride_b[last], pos, len);
    pos += len;
    idx[last] += len;
    oa += len * p.stride_a[last];
    ob += len * p.stride_b[last];
    // Carry into outer dims (an odometer).
    for (int d = last; d > 0 && idx[d] == p.size[d]; --d) {
      oa -= p.size[d] * p.stride_a[d];
      ob -= p.size[d] * p.stride_b[d];
      idx[d] = 0;
      ++idx[d - 1];
      oa += p.stride_a[d - 1];
      ob += p.stride_b[d - 1];
    }
  }
}

// y[i] = f(a[i], b[i]) over one row piece with inner strides 0 or 1; each pattern is its own loop so
// the compiler vectorizes it.
template <class F>
inline void apply_row(F f, const float* a, int64_t sa, const float* b, int64_t sb, float* y, int64_t n) {
  if (sa == 1 && sb == 1) {
    for (int64_t i = 0; i < n; ++i) y[i] = f(a[i], b[i]);
  } else if (sa == 1) {
    const float bv = *b;
    for (int64_t i = 0; i < n; ++i) y[i] = f(a[i], bv);
  } else if (sb == 1) {
    const float av = *a;
    for (int64_t i = 0; i < n; ++i) y[i] = f(av, b[i]);
  } else {
    const float v = f(*a, *b);
    for (int64_t i = 0; i < n; ++i) y[i] = v;
  }
}

}  // namespace tf::kernels
