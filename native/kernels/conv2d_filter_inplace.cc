// Convolution backward-filter with the patches read in place (see conv2d_paths.h): no im2col, no packing
// of x. For one group, dWᵀ [OC, K] = Σ_pixels dy[p]ᵀ · patch[p], K = KH*KW*C, computed by the dispatch
// table's GEMM micro-kernel in its strided-B form:
//   A: dy of a run of pixels, packed [pixel][MR] per MR output channels (a small copy);
//   B: patch[p][q*NR .. q*NR+NR) read straight from x: along the interior of an output row (every kw tap
//      inside), pixel p+1's patch starts C floats after pixel p's (stride_w 1), and a panel of NR columns
//      is one contiguous run of x when it stays inside one kernel row's KW*C adjacent floats (dilation_w
//      1) or one tap's C channels. So the micro-kernel reads B in place with ldb = C. (The code keeps
//      stride_w general; the path is only chosen for stride_w 1, see inplace_filter_ukernel.)
// Edge pixels (some kw tap in the padding) are gathered (zeros in the padding) into rows of K floats,
// kEdgePixels at a time, and go through the same micro-kernel with ldb = K. Kernel rows whose input row
// lies in the padding contribute nothing and are skipped.
//
// Determinism: the output rows (n, oh) are cut into <= kFilterParts parts fixed by the shape; a part sums
// its rows in order (per row: the interior run, then the row's edge pixels join the edge buffer, flushed
// every kEdgePixels pixels and at the part's end) into its own accumulator; parts are added in part order.
// Measured and not kept (ResNet 3x3 64 -> 64 N=8 / 1x1 128 -> 256 N=32, AVX-512, 1 thread): running 8
// output rows through each C tile back to back, so the tile stays in L1 (5 % slower: the rows' B panels
// then come from L2); 128- or 64-pixel runs for 1x1 (same as 256); this path for stride_w 2 (see
// inplace_filter_ukernel).
// dbias: per part, Σ dy over the part's pixels in the order they are packed (per row: the interior run,
// then edge batches), parts added in order.
// Pointwise layers (1x1, stride 1, no padding) have no edges: B runs through x's pixels in blocks of
// kPointwisePixels, the units that the parts are cut into.
#include <algorithm>
#include <initializer_list>
#include <vector>

#include "kernels/conv2d_paths.h"
#include "kernels/conv2d_tiles.h"
#include "runtime/dispatch.h"
#include "runtime/thread_pool.h"

namespace tf::conv_detail {
namespace {

// At most this many parts of output rows (a property of the shape only), as in conv2d_filter.cc.
constexpr int64_t kFilterParts = 16;
// Edge pixels gathered per micro-kernel pass.
constexpr int64_t kEdgePixels = 64;
// Pointwise layers: pixels per micro-kernel pass (its K). Fixed, so the summation order is the shape's.
constexpr int64_t kPointwisePixels = 256;

struct Span {
  int64_t lo, hi;
};
// Output columns ow in [lo, hi) whose KW taps all land inside the input row.
Span interior_columns(const Conv2dShape& s) {
  const int64_t lo = std::min(s.ow, (s.pad_left + s.stride_w - 1) / s.stride_w);
  const int64_t last = s.w - 1 - (s.kw - 1) * s.dilation_w + s.pad_left;  // ow*stride_w <= last
  const int64_t hi = last < 0 ? 0 : std::min(s.ow, last / s.stride_w + 1);
  return {lo, std::max(lo, hi)};
}

// Columns of a patch that are adjacent floats of x: a kernel row's KW*C (no horizontal dilation) or one
// tap's C channels.
int64_t contiguous_columns(const Conv2dShape& s) { return s.dilation_w == 1 ? s.kw * s.c : s.c; }

}  // namespace

const GemmUkernel* inplace_filter_ukernel(const Conv2dShape& s) {
  // Stride 1 only: with stride_w 2 (the strided 3x3, 64 -> 128) B rows are 2*C floats apart and the row
  // runs half as long; measured 120 vs 147 GFLOP/s for the packed path (N=8, AVX-512, 1 thread).
  if (s.groups != 1 || s.stride_w != 1) return nullptr;
  // Worth it only when most pixels are interior (the edges pay a gather). Pointwise: every pixel is.
  const Span cols = interior_columns(s);
  if (!is_pointwise(s) && (cols.hi - cols.lo < 8 || 4 * (cols.hi - cols.lo) < 3 * s.ow)) return nullptr;
  // Of the level's two GEMM tiles (both must cut the runs into whole panels), the one with the most useful
  // rows per B vector load: B is read in place from L1/L2, so its loads cost more than the broadcasts of
  // the packed A. ResNet 3x3 64 -> 64 (N=8, AVX-512, 1 thread): 14x32 158-164 GFLOP/s (64 of 70 rows
  // used) vs 6x64 144-149 (64 of 66), the packed path 131-133.
  const GemmUkernel* best = nullptr;
  double best_rows = 0.0;
  for (const GemmUkernel* uk : {&kernels().gemm, &kernels().gemm_alt}) {
    if (uk->strided_b == nullptr || contiguous_columns(s) % uk->nr != 0) continue;
    const double fill = static_cast<double>(s.oc) / static_cast<double>(ceil_div(s.oc, uk->mr) * uk->mr);
    if (uk->mr * fill > best_rows) {
      best = uk;
      best_rows = uk->mr * fill;
    }
  }
  return best;
}

// dw [KH,KW,C,OC], dbias [OC] <- dy [N,OH,OW,OC], x [N,H,W,C]   (one group; K % NR == 0 per run, see above)
void backward_filter_inplace(const Conv2dShape& s, float* dw, float* dbias, const float* dy, const float* x,
                             const GemmUkernel& uk) {
  const int mr = uk.mr, nr = uk.nr;
  const int64_t k = s.kh * s.kw * s.c;
  const int64_t m_panels = ceil_div(s.oc, mr), n_panels = k / nr;
  const Span cols = interior_columns(s);
  // Pointwise (1x1, stride 1, no padding): x is [pixels, C], so B runs through every pixel in order and a
  // unit is a block of kPointwisePixels pixels; otherwise a unit is one output row (n, oh).
  const bool pointwise = is_pointwise(s);
  const int64_t pixels = s.n * s.oh * s.ow;
  const int64_t run = pointwise ? kPointwisePixels : cols.hi - cols.lo;
  const int64_t rows = pointwise ? ceil_div(pixels, kPointwisePixels) : s.n * s.oh;
  const int64_t rows_per_part = ceil_div(rows, kFilterParts), parts = ceil_div(rows, rows_per_part);
  const int64_t acc_size = s.oc * k;
  std::vector<float> acc(static_cast<size_t>(parts * acc_size), 0.0f);
  std::vector<float> bias_acc(dbias != nullptr ? static_cast<size_t>(parts * s.oc) : 0, 0.0f);

  // Panel q's kernel row and its first column's offset in x from the pixel's leftmost input (ow*sw - pl).
  struct Panel {
    int64_t kh, offset;
  };
  std::vector<Panel> panels(static_cast<size_t>(n_panels));
  for (int64_t q = 0; q < n_panels; ++q) {
    const int64_t col = q * nr, tap = col / s.c;
    panels[q] = {tap / s.kw, (tap % s.kw) * s.dilation_w * s.c + col % s.c};
  }
  GemmTileEpilogue ep;
  ep.load_c = true;  // accumulators start at zero

  parallel_for(parts, 1, [&](int64_t begin, int64_t end) {
    const int64_t max_count = std::max(run, kEdgePixels);
    AlignedFloats packed_a(m_panels * max_count * mr), edge_rows(kEdgePixels * k);
    float* ap = packed_a.get();
    float* eb = edge_rows.get();
    std::vector<int64_t> edge(static_cast<size_t>(kEdgePixels));
    int64_t edges = 0;
    for (int64_t part = begin; part < end; ++part) {
      float* pacc = acc.data() + part * acc_size;
      // A panels for `count` pixels: dy rows of pixel_of(0..count), MR channels each (zeros past OC).
      // dbias: the same dy values, summed into the part's bias in pixel order while they are packed.
      float* pbias = dbias != nullptr ? bias_acc.data() + part * s.oc : nullptr;
      // Pixel by pixel, so dy is read front to back (a stream the prefetcher follows; panel by panel read
      // it in MR-float pieces 4*OC bytes apart, and the packing took a quarter of a 1x1 layer's time).
      auto pack_dy = [&](int64_t count, auto pixel_of) {
        if (s.oc % mr != 0) {
          const int64_t o0 = (m_panels - 1) * mr;
          for (int64_t p = 0; p < count; ++p) std::fill_n(ap + (o0 * count) + p * mr + (s.oc - o0), mr - (s.oc - o0), 0.0f);
        }
        for (int64_t p = 0; p < count; ++p) {
          const float* src = dy + pixel_of(p) * s.oc;
          if (pbias != nullptr) {
            for (int64_t o = 0; o < s.oc; ++o) pbias[o] += src[o];
          }
          for (int64_t m = 0; m < m_panels; ++m) {
            const int64_t o0 = m * mr;
            copy_short(src + o0, std::min<int64_t>(mr, s.oc - o0), ap + m * count * mr + p * mr);
          }
        }
      };
      // pacc += A_mᵀ · B_q for every panel pair; b_of(q) is B's first row (nullptr: panel skipped).
      auto multiply = [&](int64_t count, int64_t ldb, auto b_of) {
        for (int64_t q = 0; q < n_panels; ++q) {
          const float* b = b_of(q);
          if (b == nullptr) continue;
          for (int64_t m = 0; m < m_panels; ++m) {
            const int mv = static_cast<int>(std::min<int64_t>(mr, s.oc - m * mr));
            uk.strided_b(count, ap + m * count * mr, b, ldb, pacc + m * mr * k + q * nr, k, mv, nr, ep);
          }
        }
      };
      auto flush_edges = [&] {
        if (edges == 0) return;
        for (int64_t i = 0; i < edges; ++i) gather_tile(s, x, edge[i], 1, 1, k, eb + i * k);
        pack_dy(edges, [&](int64_t p) { return edge[p]; });
        multiply(edges, k, [&](int64_t q) { return eb + q * nr; });
        edges = 0;
      };
      for (int64_t row = part * rows_per_part; row < std::min(rows, (part + 1) * rows_per_part); ++row) {
        if (pointwise) {
          const int64_t p0 = row * kPointwisePixels, count = std::min(kPointwisePixels, pixels - p0);
          pack_dy(count, [&](int64_t p) { return p0 + p; });
          multiply(count, s.c, [&](int64_t q) -> const float* { return x + p0 * s.c + q * nr; });
          continue;
        }
        const int64_t n = row / s.oh, oh = row % s.oh;
        if (run > 0) {
          const int64_t p0 = row * s.ow + cols.lo;
          pack_dy(run, [&](int64_t p) { return p0 + p; });
          const int64_t iw0 = cols.lo * s.stride_w - s.pad_left;  // >= 0: interior
          multiply(run, s.stride_w * s.c, [&](int64_t q) -> const float* {
            const int64_t ih = oh * s.stride_h - s.pad_top + panels[q].kh * s.dilation_h;
            if (ih < 0 || ih >= s.h) return nullptr;
            return x + ((n * s.h + ih) * s.w + iw0) * s.c + panels[q].offset;
          });
        }
        for (int64_t ow = 0; ow < s.ow; ++ow) {
          if (ow == cols.lo && run > 0) ow = cols.hi;
          if (ow >= s.ow) break;
          edge[edges++] = row * s.ow + ow;
          if (edges == kEdgePixels) flush_edges();
        }
      }
      flush_edges();
    }
  });
  add_parts_in_order(acc.data(), parts, acc_size);
  if (dbias != nullptr) add_parts_in_order(bias_acc.data(), parts, s.oc);
  for (int64_t o = 0; o < s.oc; ++o) {
    const float* a = acc.data() + o * k;
    for (int64_t kk = 0; kk < k; ++kk) dw[kk * s.oc + o] = a[kk];
  }
  if (dbias != nullptr) std::copy_n(bias_acc.data(), s.oc, dbias);
}

}  // namespace tf::conv_detail
