// Depthwise convolution (groups = C, one output channel per group): forward, backward-input and
// backward-filter side by side, SIMD across the contiguous channels of a pixel through the dwconv
// micro-kernels (dwconv_ukernels.h). A call gathers pointers to the input rows of its taps: one call per
// interior run of a row (every tap inside), one per edge pixel, whose padding taps are left out. Shapes
// with stride 1 and dilation 1 along the row and KW = 3 or 5 (nearly every depthwise layer) take the
// row kernels instead (row_path): one call per output row (forward, backward-input: two rows per call
// where they share input rows), several pixels tiled in registers, the next row prefetched meanwhile.
//
// Session-3 measurements (N=32, 56x56x64, 3x3, AVX-512, 1 thread, ms fwd / bwd-input / bwd-filter): the
// per-pixel kernels 3.5-4.0 / 4.0-4.6 / 5.4-6.3; row kernels 3.4 / 3.8 / 3.6; + prefetch of the next row
// 2.5 / 3.0 / 3.5; + backward-filter strips 2.5 / 3.0 / 3.1; + two rows per call, 4-pixel tiles
// 2.2-2.4 / 2.3-2.7 / 2.9; + output prefetched with write intent, forward row kernels reading misaligned
// rows through aligned vectors (doubled filter; in L1 a row 1.00 -> 0.77 us, the aligned time). Tried and
// dropped: copying misaligned rows to aligned scratch (+1.4 ms),
// column strips for forward (2.9 -> 3.9 ms), edge pixels folded into checked tiles (slower), two dy rows
// per backward-filter call (no gain).
//
// Determinism: forward and backward-input tasks own whole output rows. Backward-filter reduces over all
// pixels into a few outputs, so it cuts the output rows into kFilterBlocks blocks fixed by the shape,
// sums each block in parallel, then adds the block partials in block order on one thread.
#include <algorithm>
#include <vector>

#include "kernels/conv2d_paths.h"
#include "kernels/conv2d_tiles.h"
#include "runtime/thread_pool.h"

namespace tf::conv_detail {
namespace {

// Backward-filter partial sums: at most this many blocks of output rows (a property of the shape only).
constexpr int64_t kFilterBlocks = 32;

// The interior of an output axis: outputs o in [lo, hi) whose k taps all land inside [0, size).
struct Interior {
  int64_t lo, hi;
};
Interior interior(int64_t size, int64_t k, int64_t stride, int64_t dilation, int64_t pad, int64_t outputs) {
  const int64_t lo = std::min(outputs, (pad + stride - 1) / stride);
  const int64_t last = size - 1 - (k - 1) * dilation + pad;  // o*stride <= last
  const int64_t hi = last < 0 ? 0 : std::min(outputs, last / stride + 1);
  return {lo, std::max(lo, hi)};
}

// The row kernels apply: stride 1 and dilation 1 along the row, a filter width they are compiled for.
bool row_path(const Conv2dShape& s, const DwconvUkernel& uk) {
  return uk.fwd_row != nullptr && uk.grad_row != nullptr && s.stride_w == 1 && s.dilation_w == 1 &&
         dwconv_row_supports(s.kw);
}

// Backward-filter's row-kernel calls cover a column strip of a row (outputs [o0, o1)), which reads input
// columns from `shift` on; the kernel sees the padding and width of that window. Backward-filter walks a
// block's rows strip by strip, kFilterStripBytes of the KH input rows and the dy row per strip, so they
// stay in L1 from one output row to the next (each input vector is read by KH output rows; whole 14 KB
// rows came from L2 each time): 3.5 -> 3.1 ms at 1 thread (8 KB: the same, 32 KB: slower). Forward and
// backward-input keep whole rows: strips measured slower there (2.9 -> 3.9 ms).
constexpr int64_t kFilterStripBytes = 16 * 1024;

struct Strip {
  int64_t o0, o1, shift, pad, width;
};

// Strips of `per` outputs.
std::vector<Strip> strips_of(int64_t outputs, int64_t pad, int64_t width, int64_t per) {
  std::vector<Strip> out;
  for (int64_t o0 = 0; o0 < outputs; o0 += per) {
    // The kernel takes columns left of its window for padding, so the window starts at the strip's first
    // input column, or at 0 when that is padding.
    const int64_t shift = std::min(std::max<int64_t>(0, o0 - pad), width);
    out.push_back({o0, std::min(outputs, o0 + per), shift, pad - o0 + shift, width - shift});
  }
  return out;
}

// The filter (rows of KW taps of C) and bias laid out doubled, as the forward row kernels take them (each
// tap's C values twice; see dwconv_ukernels.h). flip: taps reversed within a row and rows reversed.
struct DoubledFilter {
  std::vector<float> w, bias;
};
DoubledFilter doubled_filter(const Conv2dShape& s, const float* w, const float* bias, bool flip) {
  DoubledFilter d;
  d.w.resize(static_cast<size_t>(s.kh * s.kw * 2 * s.c));
  for (int64_t u = 0; u < s.kh; ++u) {
    for (int64_t t = 0; t < s.kw; ++t) {
      const float* src = flip ? w + ((s.kh - 1 - u) * s.kw + s.kw - 1 - t) * s.c : w + (u * s.kw + t) * s.c;
      float* dst = d.w.data() + (u * s.kw + t) * 2 * s.c;
      std::copy_n(src, s.c, dst);
      std::copy_n(src, s.c, dst + s.c);
    }
  }
  if (bias != nullptr) {
    d.bias.resize(static_cast<size_t>(2 * s.c));
    std::copy_n(bias, s.c, d.bias.data());
    std::copy_n(bias, s.c, d.bias.data() + s.c);
  }
  return d;
}

// Two consecutive output rows go through fwd_row2 (each input vector loaded once for both) when both
// have every kernel row inside the input and the rows below advance by one input row per output row
// (KW = 3, stride_h = dilation_h = 1); fwd_row2 sums every output exactly as fwd_row does, so which rows
// pair up (it depends on where a task's range starts) never changes a result.
bool pairs_rows(const Conv2dShape& s, const DwconvUkernel& uk) {
  return uk.fwd_row2 != nullptr && s.kw == 3 && s.stride_h == 1 && s.dilation_h == 1;
}

// Forward on the row kernels: per output row, the input rows its kernel rows land on (padding rows left
// out) and the matching filter rows; tasks own runs of whole output rows.
void forward_rows(const Conv2dShape& s, const Conv2dEpilogue& e, const float* x, const float* w_in,
                  const float* bias_in, float* y, const DwconvUkernel& uk) {
  const bool pairs = pairs_rows(s, uk);
  const DoubledFilter d = doubled_filter(s, w_in, bias_in, false);
  const float* w = d.w.data();
  const float* bias = bias_in != nullptr ? d.bias.data() : nullptr;
  parallel_for(s.n * s.oh, grain_for(static_cast<double>(s.ow * s.kh * s.kw * s.c)), [&](int64_t begin, int64_t end) {
    std::vector<const float*> in(static_cast<size_t>(s.kh + 1)), wk(static_cast<size_t>(s.kh));
    for (int64_t row = begin; row < end;) {
      const int64_t n = row / s.oh, oh = row % s.oh;
      const int64_t ih0 = oh * s.stride_h - s.pad_top;  // the first kernel row's input row
      float* y_row = y + row * s.ow * s.c;
      // Rows oh and oh + 1 of one image, all kernel rows of both inside the input.
      if (pairs && row + 1 < end && oh + 1 < s.oh && ih0 >= 0 && ih0 + s.kh < s.h) {
        for (int64_t i = 0; i <= s.kh; ++i) in[i] = x + (n * s.h + ih0 + i) * s.w * s.c;
        for (int64_t kh = 0; kh < s.kh; ++kh) wk[kh] = w + kh * s.kw * 2 * s.c;
        const int64_t next_ih = ih0 + s.kh + 1;
        const float* next = row + 2 < end && oh + 2 < s.oh && next_ih < s.h ? x + (n * s.h + next_ih) * s.w * s.c
                                                                           : nullptr;
        uk.fwd_row2(s.c, s.kh, in.data(), wk.data(), bias, y_row, y_row + s.ow * s.c, s.ow, s.pad_left, s.w, next);
        apply_activation(y_row, 2 * s.ow * s.c, e);
        row += 2;
        continue;
      }
      int64_t rows = 0;
      for (int64_t kh = 0; kh < s.kh; ++kh) {
        const int64_t ih = ih0 + kh * s.dilation_h;
        if (ih < 0 || ih >= s.h) continue;
        in[rows] = x + (n * s.h + ih) * s.w * s.c;
        wk[rows++] = w + kh * s.kw * 2 * s.c;
      }
      // The input row the next output row adds (its last kernel row), prefetched meanwhile.
      const int64_t next_ih = (oh + 1) * s.stride_h - s.pad_top + (s.kh - 1) * s.dilation_h;
      const float* next = row + 1 < end && oh + 1 < s.oh && next_ih >= 0 && next_ih < s.h
                              ? x + (n * s.h + next_ih) * s.w * s.c
                              : nullptr;
      uk.fwd_row(s.c, s.kw, rows, in.data(), wk.data(), bias, y_row, s.ow, s.pad_left, s.w, next);
      apply_activation(y_row, s.ow * s.c, e);
      ++row;
    }
  });
}

// Backward-input on the row kernels: along the row (stride 1, dilation 1) dx is the forward convolution
// of dy with the filter row reversed, padded by KW-1-pad_left: dx[iw] = Σ_t dy[iw + pl - t]·w[t]
// = Σ_u dy[iw - (KW-1-pl) + u]·w[KW-1-u]. Down the column, each dx row gathers the dy rows its kernel rows
// reach exactly (any stride and dilation), taken in increasing dy row order (kernel rows from the last),
// so that with stride_h = dilation_h = 1 two dx rows pair up as in the forward. Tasks own runs of whole
// dx rows.
void backward_input_rows(const Conv2dShape& s, float* dx, const float* dy, const float* w, const DwconvUkernel& uk) {
  // Row u of `flipped` = filter row KH-1-u with its taps reversed (the order the dy rows are taken in),
  // doubled as the row kernels take it.
  const DoubledFilter flipped = doubled_filter(s, w, nullptr, true);
  const bool pairs = pairs_rows(s, uk);
  const int64_t pad = s.kw - 1 - s.pad_left;
  const double row_work = static_cast<double>(s.w * s.kh * s.kw * s.c) / static_cast<double>(s.stride_h);
  parallel_for(s.n * s.h, grain_for(row_work), [&](int64_t begin, int64_t end) {
    std::vector<const float*> in(static_cast<size_t>(s.kh + 1)), wk(static_cast<size_t>(s.kh));
    for (int64_t row = begin; row < end;) {
      const int64_t n = row / s.h, ih = row % s.h;
      float* dx_row = dx + row * s.w * s.c;
      // With stride_h = dilation_h = 1, dx row ih takes dy rows ih + pt - (KH-1) + u for u < KH.
      const int64_t th0 = ih + s.pad_top - (s.kh - 1);
      if (pairs && row + 1 < end && ih + 1 < s.h && th0 >= 0 && th0 + s.kh < s.oh) {
        for (int64_t i = 0; i <= s.kh; ++i) in[i] = dy + (n * s.oh + th0 + i) * s.ow * s.c;
        for (int64_t u = 0; u < s.kh; ++u) wk[u] = flipped.w.data() + u * s.kw * 2 * s.c;
        const int64_t next_th = th0 + s.kh + 1;
        const float* next = row + 2 < end && ih + 2 < s.h && next_th < s.oh ? dy + (n * s.oh + next_th) * s.ow * s.c
                                                                           : nullptr;
        uk.fwd_row2(s.c, s.kh, in.data(), wk.data(), nullptr, dx_row, dx_row + s.w * s.c, s.w, pad, s.ow, next);
        row += 2;
        continue;
      }
      int64_t rows = 0;
      for (int64_t u = 0; u < s.kh; ++u) {
        const int64_t th = ih + s.pad_top - (s.kh - 1 - u) * s.dilation_h;
        if (th < 0 || th % s.stride_h != 0 || th / s.stride_h >= s.oh) continue;
        in[rows] = dy + (n * s.oh + th / s.stride_h) * s.ow * s.c;
        wk[rows++] = flipped.w.data() + u * s.kw * 2 * s.c;
      }
      // The dy row the next dx row reaches last (u = KH-1), prefetched meanwhile.
      const int64_t next_th = ih + 1 + s.pad_top;
      const float* next = row + 1 < end && ih + 1 < s.h && next_th / s.stride_h < s.oh
                              ? dy + (n * s.oh + next_th / s.stride_h) * s.ow * s.c
                              : nullptr;
      uk.fwd_row(s.c, s.kw, rows, in.data(), wk.data(), nullptr, dx_row, s.w, pad, s.ow, next);
      ++row;
    }
  });
}

// Backward-filter on the row kernel, into the partial sums of block b (output rows [row0, row1)): strip by
// strip, each strip down the block's rows.
void backward_filter_rows_block(const Conv2dShape& s, float* part, float* part_bias, const float* dy, const float* x,
                                int64_t row0, int64_t row1, const std::vector<Strip>& strips, const DwconvUkernel& uk) {
  std::vector<const float*> in(static_cast<size_t>(s.kh));
  std::vector<float*> acc(static_cast<size_t>(s.kh));
  for (const Strip& st : strips) {
    for (int64_t row = row0; row < row1; ++row) {
      const int64_t n = row / s.oh, oh = row % s.oh;
      int64_t ks = 0;
      for (int64_t kh = 0; kh < s.kh; ++kh) {
        const int64_t ih = oh * s.stride_h - s.pad_top + kh * s.dilation_h;
        if (ih < 0 || ih >= s.h) continue;
        in[ks] = x + ((n * s.h + ih) * s.w + st.shift) * s.c;
        acc[ks++] = part + kh * s.kw * s.c;
      }
      const int64_t next_ih = (oh + 1) * s.stride_h - s.pad_top + (s.kh - 1) * s.dilation_h;
      const bool has_next = row + 1 < row1 && oh + 1 < s.oh;
      const float* next_x = has_next && next_ih >= 0 && next_ih < s.h ? x + ((n * s.h + next_ih) * s.w + st.shift) * s.c
                                                                       : nullptr;
      const float* dy_row = dy + (row * s.ow + st.o0) * s.c;
      uk.grad_row(s.c, s.kw, ks, in.data(), dy_row, acc.data(), part_bias, st.o1 - st.o0, st.pad, st.width, next_x,
                  row + 1 < row1 ? dy_row + s.ow * s.c : nullptr);
    }
  }
}

}  // namespace

// x [N,H,W,C], w [KH,KW,1,C], bias [C] -> y [N,OH,OW,C]
// y[n,oh,ow,c] = act(bias[c] + Σ_{taps inside} x[n, oh*sh-pt+kh*dh, ow*sw-pl+kw*dw, c] · w[kh,kw,0,c])
// Per output row: one micro-kernel call for the interior run of columns (all KW taps inside), one per
// edge pixel (its taps inside only).
void depthwise_forward(const Conv2dShape& s, const Conv2dEpilogue& e, const float* x, const float* w,
                       const float* bias, float* y, const DwconvUkernel& uk) {
  if (row_path(s, uk)) return forward_rows(s, e, x, w, bias, y, uk);
  const int64_t taps = s.kh * s.kw;
  const Interior cols = interior(s.w, s.kw, s.stride_w, s.dilation_w, s.pad_left, s.ow);
  parallel_for(s.n * s.oh, grain_for(static_cast<double>(s.ow * taps * s.c)), [&](int64_t begin, int64_t end) {
    std::vector<const float*> in(static_cast<size_t>(taps)), wk(static_cast<size_t>(taps));
    for (int64_t row = begin; row < end; ++row) {
      const int64_t n = row / s.oh, oh = row % s.oh;
      float* y_row = y + row * s.ow * s.c;
      // Taps at column ow (all of them when `all`), as pointer lists; returns how many.
      auto gather = [&](int64_t ow, bool all) {
        int64_t ks = 0;
        for (int64_t kh = 0; kh < s.kh; ++kh) {
          const int64_t ih = oh * s.stride_h - s.pad_top + kh * s.dilation_h;
          if (ih < 0 || ih >= s.h) continue;
          for (int64_t kw = 0; kw < s.kw; ++kw) {
            const int64_t iw = ow * s.stride_w - s.pad_left + kw * s.dilation_w;
            if (!all && (iw < 0 || iw >= s.w)) continue;
            in[ks] = x + ((n * s.h + ih) * s.w + iw) * s.c;
            wk[ks++] = w + (kh * s.kw + kw) * s.c;
          }
        }
        return ks;
      };
      auto run = [&](int64_t ow0, int64_t count, bool interior_run) {
        const int64_t ks = gather(ow0, interior_run);
        uk.fwd(s.c, ks, in.data(), wk.data(), bias, y_row + ow0 * s.c, count, s.stride_w * s.c);
        apply_activation(y_row + ow0 * s.c, count * s.c, e);
      };
      for (int64_t ow = 0; ow < cols.lo; ++ow) run(ow, 1, false);
      if (cols.hi > cols.lo) run(cols.lo, cols.hi - cols.lo, true);
      for (int64_t ow = cols.hi; ow < s.ow; ++ow) run(ow, 1, false);
    }
  });
}

// dx [N,H,W,C] <- dy [N,OH,OW,C], w [KH,KW,1,C]
// dx[n,ih,iw,c] = Σ_{taps with oh = (ih+pt-kh*dh)/sh, ow = (iw+pl-kw*dw)/sw exact and in range} dy[n,oh,ow,c] · w[kh,kw,0,c]
// The forward micro-kernel with dy rows as inputs; tasks own whole dx rows. With stride 1 the interior
// columns (every kw tap lands on an output) form one run.
void depthwise_backward_input(const Conv2dShape& s, float* dx, const float* dy, const float* w,
                              const DwconvUkernel& uk) {
  if (row_path(s, uk)) return backward_input_rows(s, dx, dy, w, uk);
  const int64_t taps = s.kh * s.kw;
  const bool unit_stride = s.stride_h == 1 && s.stride_w == 1;
  // iw in [lo, hi): iw + pl - kw*dw in [0, OW) for every kw.
  const int64_t lo = unit_stride ? std::min(s.w, std::max<int64_t>(0, (s.kw - 1) * s.dilation_w - s.pad_left)) : s.w;
  const int64_t hi = unit_stride ? std::max(lo, std::min(s.w, s.ow - s.pad_left)) : s.w;
  const double row_work = static_cast<double>(s.w * taps * s.c) / static_cast<double>(s.stride_h * s.stride_w);
  parallel_for(s.n * s.h, grain_for(row_work), [&](int64_t begin, int64_t end) {
    std::vector<const float*> in(static_cast<size_t>(taps)), wk(static_cast<size_t>(taps));
    for (int64_t row = begin; row < end; ++row) {
      const int64_t n = row / s.h, ih = row % s.h;
      float* dx_row = dx + row * s.w * s.c;
      auto gather = [&](int64_t iw, bool all) {
        int64_t ks = 0;
        for (int64_t kh = 0; kh < s.kh; ++kh) {
          const int64_t th = ih + s.pad_top - kh * s.dilation_h;
          if (th < 0 || th % s.stride_h != 0 || th / s.stride_h >= s.oh) continue;
          for (int64_t kw = 0; kw < s.kw; ++kw) {
            const int64_t tw = iw + s.pad_left - kw * s.dilation_w;
            if (!all && (tw < 0 || tw % s.stride_w != 0 || tw / s.stride_w >= s.ow)) continue;
            in[ks] = dy + ((n * s.oh + th / s.stride_h) * s.ow + tw / s.stride_w) * s.c;
            wk[ks++] = w + (kh * s.kw + kw) * s.c;
          }
        }
        return ks;
      };
      for (int64_t iw = 0; iw < lo; ++iw) uk.fwd(s.c, gather(iw, false), in.data(), wk.data(), nullptr, dx_row + iw * s.c, 1, 0);
      if (hi > lo) uk.fwd(s.c, gather(lo, true), in.data(), wk.data(), nullptr, dx_row + lo * s.c, hi - lo, s.c);
      for (int64_t iw = hi; iw < s.w; ++iw) uk.fwd(s.c, gather(iw, false), in.data(), wk.data(), nullptr, dx_row + iw * s.c, 1, 0);
    }
  });
}

// dw [KH,KW,1,C], dbias [C] <- dy [N,OH,OW,C], x [N,H,W,C]
// dw[kh,kw,0,c] = Σ_{n,oh,ow} x[n, oh*sh-pt+kh*dh, ow*sw-pl+kw*dw, c] · dy[n,oh,ow,c];  dbias[c] = Σ dy[n,oh,ow,c]
// Block b of output rows accumulates partial[b] = [taps + 1][C] (the last row is dbias) over its pixels
// in order (per row: the left edge pixels, the interior run, the right edge pixels); the partials are
// then added in block order.
void depthwise_backward_filter(const Conv2dShape& s, float* dw, float* dbias, const float* dy, const float* x,
                               const DwconvUkernel& uk) {
  const int64_t taps = s.kh * s.kw;
  const int64_t rows = s.n * s.oh;
  const int64_t rows_per_block = (rows + kFilterBlocks - 1) / kFilterBlocks;
  const int64_t blocks = (rows + rows_per_block - 1) / rows_per_block;
  const int64_t partial_size = (taps + 1) * s.c;
  const Interior cols = interior(s.w, s.kw, s.stride_w, s.dilation_w, s.pad_left, s.ow);
  std::vector<float> partial(static_cast<size_t>(blocks * partial_size), 0.0f);
  const bool rows_kernel = row_path(s, uk);
  const int64_t strip = std::max<int64_t>(8, kFilterStripBytes / ((s.kh + 1) * s.c * 4));
  const std::vector<Strip> strips = rows_kernel ? strips_of(s.ow, s.pad_left, s.w, strip) : std::vector<Strip>{};
  parallel_for(blocks, grain_for(static_cast<double>(rows_per_block * s.ow * taps * s.c)), [&](int64_t begin, int64_t end) {
    std::vector<const float*> in(static_cast<size_t>(taps));
    std::vector<float*> acc(static_cast<size_t>(taps));
    for (int64_t b = begin; b < end; ++b) {
      float* part = partial.data() + b * partial_size;
      float* part_bias = dbias != nullptr ? part + taps * s.c : nullptr;
      if (rows_kernel) {
        backward_filter_rows_block(s, part, part_bias, dy, x, b * rows_per_block,
                                   std::min(rows, (b + 1) * rows_per_block), strips, uk);
        continue;
      }
      for (int64_t row = b * rows_per_block; row < std::min(rows, (b + 1) * rows_per_block); ++row) {
        const int64_t n = row / s.oh, oh = row % s.oh;
        const float* dy_row = dy + row * s.ow * s.c;
        auto run = [&](int64_t ow0, int64_t count, bool all) {
          int64_t ks = 0;
          for (int64_t kh = 0; kh < s.kh; ++kh) {
            const int64_t ih = oh * s.stride_h - s.pad_top + kh * s.dilation_h;
            if (ih < 0 || ih >= s.h) continue;
            for (int64_t kw = 0; kw < s.kw; ++kw) {
              const int64_t iw = ow0 * s.stride_w - s.pad_left + kw * s.dilation_w;
              if (!all && (iw < 0 || iw >= s.w)) continue;
              in[ks] = x + ((n * s.h + ih) * s.w + iw) * s.c;
              acc[ks++] = part + (kh * s.kw + kw) * s.c;
            }
          }
          uk.grad(s.c, ks, in.data(), dy_row + ow0 * s.c, acc.data(), part_bias, count, s.stride_w * s.c);
        };
        for (int64_t ow = 0; ow < cols.lo; ++ow) run(ow, 1, false);
        if (cols.hi > cols.lo) run(cols.lo, cols.hi - cols.lo, true);
        for (int64_t ow = cols.hi; ow < s.ow; ++ow) run(ow, 1, false);
      }
    }
  });
  std::copy_n(partial.data(), taps * s.c, dw);
  if (dbias != nullptr) std::copy_n(partial.data() + taps * s.c, s.c, dbias);
  for (int64_t b = 1; b < blocks; ++b) {
    const float* p = partial.data() + b * partial_size;
    for (int64_t i = 0; i < taps * s.c; ++i) dw[i] += p[i];
    if (dbias != nullptr) {
      for (int64_t i = 0; i < s.c; ++i) dbias[i] += p[taps * s.c + i];
    }
  }
}

}  // namespace tf::conv_detail
