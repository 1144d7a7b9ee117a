#include "kernels/reduce.h"

#include <algorithm>
#include <stdexcept>

#include "runtime/thread_pool.h"

namespace tf::kernels {

namespace {

// Offset of the index-th element of a row-major walk over (size, stride) dims.
int64_t offset_of(int64_t index, int rank, const int64_t* size, const int64_t* stride) {
  int64_t offset = 0;
  for (int d = rank - 1; d >= 0; --d) {
    offset += (index % size[d]) * stride[d];
    index /= size[d];
  }
  return offset;
}

// Row-major odometer over (size, stride) dims; `offset` follows the current index.
struct Walker {
  int rank;
  const int64_t* size;
  const int64_t* stride;
  int64_t idx[kMaxRank] = {};
  int64_t offset = 0;
  Walker(int n, const int64_t* sizes, const int64_t* strides) : rank(n), size(sizes), stride(strides) {}
  void next() {
    for (int d = rank - 1; d >= 0; --d) {
      offset += stride[d];
      if (++idx[d] < size[d]) return;
      offset -= stride[d] * size[d];
      idx[d] = 0;
    }
  }
};

int64_t grain_for(const ReducePlan& p) { return std::max<int64_t>(1, kParallelWork / p.red_count); }

// Longest row piece handled at once in the inner-kept layout, so the output piece stays in L1.
constexpr int64_t kRowPiece = 512;

// Calls piece(q_base, pos, len) for output pieces [pos, pos+len) of [begin, end) that lie in one row of
// the innermost kept dim; q_base is the x offset of the piece's first element (reduced index 0).
template <class Piece>
void for_each_row_piece(const ReducePlan& p, int64_t begin, int64_t end, Piece&& piece) {
  const int64_t kl = p.kept_size[p.kept_rank - 1];
  for (int64_t pos = begin; pos < end;) {
    const int64_t q = pos / kl, k0 = pos % kl;
    const int64_t len = std::min({end - pos, kl - k0, kRowPiece});
    const int64_t base = offset_of(q, p.kept_rank - 1, p.kept_size, p.kept_stride) + k0;
    piece(base, pos, len);
    pos += len;
  }
}

// Index (in the reduced walk order) of the first maximum of every output.
void first_maxima(const ReducePlan& p, const float* x, int64_t* at) {
  if (p.inner_kept) {
    parallel_for(p.out_count, grain_for(p), [&](int64_t begin, int64_t end) {
      for_each_row_piece(p, begin, end, [&](int64_t base, int64_t pos, int64_t len) {
        float best[kRowPiece];
        for (int64_t i = 0; i < len; ++i) {
          best[i] = x[base + i];
          at[pos + i] = 0;
        }
        Walker w(p.red_rank, p.red_size, p.red_stride);
        for (int64_t r = 1; r < p.red_count; ++r) {
          w.next();
          const float* row = x + base + w.offset;
          for (int64_t i = 0; i < len; ++i) {
            if (beats_max(row[i], best[i])) {
              best[i] = row[i];
              at[pos + i] = r;
            }
          }
        }
      });
    });
    return;
  }
  const int64_t rl = p.red_size[p.red_rank - 1];
  parallel_for(p.out_count, grain_for(p), [&](int64_t begin, int64_t end) {
    for (int64_t o = begin; o < end; ++o) {
      const int64_t base = offset_of(o, p.kept_rank, p.kept_size, p.kept_stride);
      Walker w(p.red_rank - 1, p.red_size, p.red_stride);
      float best = x[base];
      int64_t best_at = 0;
      for (int64_t run = 0, r0 = 0; r0 < p.red_count; ++run, r0 += rl) {
        if (run > 0) w.next();
        const float* seg = x + base + w.offset;
        for (int64_t i = 0; i < rl; ++i) {
          if (beats_max(seg[i], best)) {
            best = seg[i];
            best_at = r0 + i;
          }
        }
      }
      at[o] = best_at;
    }
  });
}

}  // namespace

ReducePlan make_reduce_plan(const std::vector<int64_t>& shape, const std::vector<int64_t>& axes) {
  const int rank = static_cast<int>(shape.size());
  if (rank > kMaxRank) throw std::invalid_argument("make_reduce_plan: rank above kMaxRank");
  bool reduced[kMaxRank] = {};
  for (size_t i = 0; i < axes.size(); ++i) {
    if (axes[i] < 0 || axes[i] >= rank || (i > 0 && axes[i] <= axes[i - 1])) {
      throw std::invalid_argument("make_reduce_plan: axes must be sorted, unique and in range");
    }
    reduced[axes[i]] = true;
  }
  // Collapse: drop size-1 dims, merge neighbours with the same kept/reduced status (contiguous,
  // because only size-1 dims can lie between them).
  int n = 0;
  int64_t size[kMaxRank], stride[kMaxRank];
  bool red[kMaxRank];
  int64_t s = 1;
  int64_t strides[kMaxRank];
  for (int d = rank - 1; d >= 0; --d) {
    strides[d] = s;
    s *= shape[static_cast<size_t>(d)];
  }
  for (int d = 0; d < rank; ++d) {
    const int64_t dim = shape[static_cast<size_t>(d)];
    if (dim == 1) continue;
    if (n > 0 && red[n - 1] == reduced[d]) {
      size[n - 1] *= dim;
      stride[n - 1] = strides[d];
      continue;
    }
    size[n] = dim;
    stride[n] = strides[d];
    red[n] = reduced[d];
    ++n;
  }
  ReducePlan p;
  for (int d = 0; d < n; ++d) {
    if (red[d]) {
      p.red_size[p.red_rank] = size[d];
      p.red_stride[p.red_rank++] = stride[d];
      p.red_count *= size[d];
    } else {
      p.kept_size[p.kept_rank] = size[d];
      p.kept_stride[p.kept_rank++] = stride[d];
      p.out_count *= size[d];
    }
  }
  p.inner_kept = n == 0 || !red[n - 1];
  if (p.inner_kept && p.kept_rank == 0) {  // nothing left: a single element
    p.kept_rank = 1;
    p.kept_size[0] = 1;
    p.kept_stride[0] = 0;
  }
  return p;
}

// x [shape] -> y [shape without axes]
void reduce(ReduceOp op, const std::vector<int64_t>& shape, const std::vector<int64_t>& axes, const float* x,
            float* y) {
  const ReducePlan p = make_reduce_plan(shape, axes);
  const bool is_max = op == ReduceOp::max;
  const float count = static_cast<float>(p.red_count);
  if (p.inner_kept) {
    // Output rows: y[piece] = x[r=0 row], then combine every further reduced row in order.
    parallel_for(p.out_count, grain_for(p), [&](int64_t begin, int64_t end) {
      for_each_row_piece(p, begin, end, [&](int64_t base, int64_t pos, int64_t len) {
        float* out = y + pos;
        for (int64_t i = 0; i < len; ++i) out[i] = x[base + i];
        Walker w(p.red_rank, p.red_size, p.red_stride);
        for (int64_t r = 1; r < p.red_count; ++r) {
          w.next();
          const float* row = x + base + w.offset;
          if (is_max) {
            for (int64_t i = 0; i < len; ++i) out[i] = max_nan(out[i], row[i]);
          } else {
            for (int64_t i = 0; i < len; ++i) out[i] += row[i];
          }
        }
        if (op == ReduceOp::mean) {
          for (int64_t i = 0; i < len; ++i) out[i] /= count;
        }
      });
    });
    return;
  }
  // Each output reduces red_count / rl contiguous runs of rl elements, in order.
  const int64_t rl = p.red_size[p.red_rank - 1];
  parallel_for(p.out_count, grain_for(p), [&](int64_t begin, int64_t end) {
    for (int64_t o = begin; o < end; ++o) {
      const int64_t base = offset_of(o, p.kept_rank, p.kept_size, p.kept_stride);
      Walker w(p.red_rank - 1, p.red_size, p.red_stride);
      float acc = is_max ? max_contiguous(x + base, rl) : sum_contiguous(x + base, rl);
      for (int64_t r0 = rl; r0 < p.red_count; r0 += rl) {
        w.next();
        const float* seg = x + base + w.offset;
        acc = is_max ? max_nan(acc, max_contiguous(seg, rl)) : acc + sum_contiguous(seg, rl);
      }
      y[o] = op == ReduceOp::mean ? acc / count : acc;
    }
  });
}

// dy [shape without axes], x [shape] -> dx [shape]
void reduce_backward(ReduceOp op, const std::vector<int64_t>& shape, const std::vector<int64_t>& axes, float* dx,
                     const float* dy, const float* x) {
  const ReducePlan p = make_reduce_plan(shape, axes);
  int64_t total = 1;
  for (int64_t d : shape) total *= d;
  if (op == ReduceOp::max) {
    // dx = 0 except at each output's first maximum, which receives dy.
    std::vector<int64_t> at(static_cast<size_t>(p.out_count));
    first_maxima(p, x, at.data());
    parallel_for(total, kParallelWork, [&](int64_t b, int64_t e) { std::fill(dx + b, dx + e, 0.0f); });
    parallel_for(p.out_count, kParallelWork, [&](int64_t b, int64_t e) {
      for (int64_t o = b; o < e; ++o) {
        const int64_t base = offset_of(o, p.kept_rank, p.kept_size, p.kept_stride);
        dx[base + offset_of(at[static_cast<size_t>(o)], p.red_rank, p.red_size, p.red_stride)] = dy[o];
      }
    });
    return;
  }
  // sum / mean: broadcast dy (shape with the axes set to 1) back over x, scaled.
  const float scale = op == ReduceOp::mean ? 1.0f / static_cast<float>(p.red_count) : 1.0f;
  std::vector<int64_t> dy_shape = shape;
  for (int64_t a : axes) dy_shape[static_cast<size_t>(a)] = 1;
  const BroadcastPlan bp = make_broadcast_plan(dy_shape, shape);
  parallel_for(total, kParallelWork, [&](int64_t begin, int64_t end) {
    for_each_row(bp, begin, end, [&](int64_t oa, int64_t sa, int64_t, int64_t, int64_t pos, int64_t len) {
      float* out = dx + pos;
      if (sa == 1) {
        for (int64_t i = 0; i < len; ++i) out[i] = dy[oa + i] * scale;
      } else {
        const float v = dy[oa] * scale;
        for (int64_t i = 0; i < len; ++i) out[i] = v;
      }
    });
  });
}

// x [shape] -> y [shape without axis]
void argmax(const std::vector<int64_t>& shape, int64_t axis, const float* x, int32_t* y) {
  const ReducePlan p = make_reduce_plan(shape, {axis});
  // With one reduced axis the walk index is the position along it.
  std::vector<int64_t> at(static_cast<size_t>(p.out_count));
  first_maxima(p, x, at.data());
  for (int64_t o = 0; o < p.out_count; ++o) y[o] = static_cast<int32_t>(at[static_cast<size_t>(o)]);
}

}  // namespace tf::kernels
