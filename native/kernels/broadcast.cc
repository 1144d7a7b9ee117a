#include "kernels/broadcast.h"

#include <stdexcept>

namespace tf::kernels {

namespace {

// Dim d (0-based in a rank-`rank` frame) of a shape right-aligned into that frame; 1 when missing.
int64_t dim_at(const std::vector<int64_t>& s, int rank, int d) {
  const int offset = rank - static_cast<int>(s.size());
  return d < offset ? 1 : s[static_cast<size_t>(d - offset)];
}

}  // namespace

bool broadcastable(const std::vector<int64_t>& a, const std::vector<int64_t>& b) {
  const int rank = static_cast<int>(std::max(a.size(), b.size()));
  for (int d = 0; d < rank; ++d) {
    const int64_t da = dim_at(a, rank, d), db = dim_at(b, rank, d);
    if (da != db && da != 1 && db != 1) return false;
  }
  return true;
}

std::vector<int64_t> broadcast_shape(const std::vector<int64_t>& a, const std::vector<int64_t>& b) {
  const int rank = static_cast<int>(std::max(a.size(), b.size()));
  std::vector<int64_t> out(static_cast<size_t>(rank));
  for (int d = 0; d < rank; ++d) out[static_cast<size_t>(d)] = std::max(dim_at(a, rank, d), dim_at(b, rank, d));
  return out;
}

BroadcastPlan make_broadcast_plan(const std::vector<int64_t>& a, const std::vector<int64_t>& b) {
  if (!broadcastable(a, b)) throw std::invalid_argument("make_broadcast_plan: shapes do not broadcast");
  const int rank = static_cast<int>(std::max(a.size(), b.size()));
  if (rank > kMaxRank) throw std::invalid_argument("make_broadcast_plan: rank above kMaxRank");
  // Contiguous strides of each input in the common frame, 0 on repeated (size-1) dims.
  int64_t sa[kMaxRank], sb[kMaxRank], out[kMaxRank];
  int64_t ra = 1, rb = 1;
  for (int d = rank - 1; d >= 0; --d) {
    const int64_t da = dim_at(a, rank, d), db = dim_at(b, rank, d);
    out[d] = std::max(da, db);
    sa[d] = da == 1 ? 0 : ra;
    sb[d] = db == 1 ? 0 : rb;
    ra *= da;
    rb *= db;
  }
  BroadcastPlan p;
  p.rank = 0;
  p.total = 1;
  for (int d = 0; d < rank; ++d) {
    if (out[d] == 1) continue;  // contributes nothing
    p.total *= out[d];
    if (p.rank > 0) {
      const int q = p.rank - 1;
      // Merge with the previous kept dim when each input has the same real/repeated status in both
      // (real dims are contiguous with each other because only size-1 dims lie between them).
      if ((p.stride_a[q] == 0) == (sa[d] == 0) && (p.stride_b[q] == 0) == (sb[d] == 0)) {
        p.size[q] *= out[d];
        p.stride_a[q] = sa[d];
        p.stride_b[q] = sb[d];
        continue;
      }
    }
    p.size[p.rank] = out[d];
    p.stride_a[p.rank] = sa[d];
    p.stride_b[p.rank] = sb[d];
    ++p.rank;
  }
  if (p.rank == 0) {  // every dim is 1: one element
    p.rank = 1;
    p.size[0] = 1;
    p.stride_a[0] = 0;
    p.stride_b[0] = 0;
  }
  return p;
}

}  // namespace tf::kernels
