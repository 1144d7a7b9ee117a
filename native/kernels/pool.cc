#include "kernels/pool.h"

#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <vector>

#include "kernels/conv2d_paths.h"
#include "runtime/dispatch.h"
#include "runtime/thread_pool.h"

namespace tf {
namespace {

// About this many element visits per parallel_for range, so small pools stay on the calling thread.
constexpr int64_t kMinWorkPerRange = 32 * 1024;
// Channels per task where tasks split over channels. Fixed, never derived from the thread count.
constexpr int64_t kChannelBlock = 64;

int64_t grain_for(std::initializer_list<int64_t> work_factors) {
  double work = 1.0;
  for (int64_t v : work_factors) work *= static_cast<double>(v);
  if (work >= static_cast<double>(kMinWorkPerRange)) return 1;
  return static_cast<int64_t>(static_cast<double>(kMinWorkPerRange) / std::max(1.0, work));
}

// Does v replace the running maximum? Strictly greater keeps the first maximum on ties; a NaN beats
// any number, and the first NaN stays (the reference backend uses the same rule).
inline bool takes_max(float v, float best) { return v > best || (v != v && best == best); }

int64_t floor_div(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

// The real (non-padding) part [begin, end) of the window starting at `start` (may be negative).
struct Span {
  int64_t begin, end;
};
inline Span window_span(int64_t start, int64_t kernel, int64_t size) {
  return {std::max<int64_t>(0, start), std::min(size, start + kernel)};
}

// 2x2 windows, stride 2, no padding (LeNet and most CNNs): the windows tile the input and each row of
// windows reads two whole input rows, so one micro-kernel call handles a whole row of windows (no pointer
// table, no call per window: with LeNet's 6 channels that per-window overhead was most of the time).
// AVX-512 only; the other levels keep the per-window kernels (the portable loop measured slower than them).
struct Pool2x2Rows {
  Maxpool2x2RowFn row = nullptr;
  Maxpool2x2RouteRowFn route_row = nullptr;
};
Pool2x2Rows pool_2x2_rows(const Pool2dShape& s) {
  const bool shape = s.kh == 2 && s.kw == 2 && s.stride_h == 2 && s.stride_w == 2 && s.pad_top == 0 &&
                     s.pad_bottom == 0 && s.pad_left == 0 && s.pad_right == 0;
#if defined(TF_HAVE_AVX512)
  if (shape && kernels().isa == Isa::avx512) return {&maxpool2x2_f32__avx512f_row, &maxpool2x2_f32__avx512f_route_row};
#endif
  (void)shape;
  return {};
}

void max_pool2d_2x2(const Pool2dShape& s, const float* x, float* y, Maxpool2x2RowFn row_fn) {
  const int64_t row_floats = s.w * s.c;
  parallel_for(s.n * s.oh, grain_for({s.ow, 4, s.c}), [&](int64_t begin, int64_t end) {
    for (int64_t row = begin; row < end; ++row) {
      const int64_t n = row / s.oh, oh = row % s.oh;
      const float* a = x + (n * s.h + 2 * oh) * row_floats;
      row_fn(s.c, s.ow, a, a + row_floats, y + row * s.ow * s.c);
    }
  });
}

// Each task owns the dx rows of its window rows (and, for the last window row, the rows below it that no
// window covers when H is odd) and writes every element of them once: no zero-fill pass, no scatter.
void max_pool2d_backward_2x2(const Pool2dShape& s, float* dx, const float* dy, const float* x,
                             Maxpool2x2RouteRowFn route_fn) {
  const int64_t row_floats = s.w * s.c;
  parallel_for(s.n * s.oh, grain_for({s.ow, 4, s.c}), [&](int64_t begin, int64_t end) {
    for (int64_t row = begin; row < end; ++row) {
      const int64_t n = row / s.oh, oh = row % s.oh;
      const int64_t offset = (n * s.h + 2 * oh) * row_floats;
      float* da = dx + offset;
      float* db = da + row_floats;
      route_fn(s.c, s.ow, x + offset, x + offset + row_floats, dy + row * s.ow * s.c, da, db);
      // Columns right of the last window (W odd), then rows below the last window row (H odd).
      std::fill(da + 2 * s.ow * s.c, da + row_floats, 0.0f);
      std::fill(db + 2 * s.ow * s.c, db + row_floats, 0.0f);
      if (oh == s.oh - 1) std::fill(dx + (n * s.h + 2 * s.oh) * row_floats, dx + (n + 1) * s.h * row_floats, 0.0f);
    }
  });
}

// Average pooling as a depthwise convolution (groups = C) whose filter holds 1/(KH*KW) at every tap, run
// on the depthwise drivers and their row kernels (conv2d_depthwise.cc): y = Σ x·(1/(KH*KW)) over the
// window's real elements. Each product rounds once, so y differs from the plain Σ x / (KH*KW) of the
// reference backend by a few ulps (the parity tests allow for sums in any order).
Conv2dShape depthwise_shape(const Pool2dShape& s) {
  Conv2dShape c{};
  c.n = s.n, c.h = s.h, c.w = s.w, c.c = s.c;
  c.kh = s.kh, c.kw = s.kw, c.oc = s.c;
  c.stride_h = s.stride_h, c.stride_w = s.stride_w;
  c.dilation_h = 1, c.dilation_w = 1;
  c.pad_top = s.pad_top, c.pad_bottom = s.pad_bottom, c.pad_left = s.pad_left, c.pad_right = s.pad_right;
  c.groups = s.c;
  c.oh = s.oh, c.ow = s.ow;
  return c;
}

std::vector<float> mean_filter(const Pool2dShape& s) {
  return std::vector<float>(static_cast<size_t>(s.kh * s.kw * s.c), 1.0f / static_cast<float>(s.kh * s.kw));
}

}  // namespace

// x [N,H,W,C] -> y [N,OH,OW,C]; y = the first maximum of each window (max-pool micro-kernel, SIMD across
// channels). The padding rule (pad <= kernel/2, checked by the binding) guarantees every window holds at
// least one real element.
void max_pool2d(const Pool2dShape& s, const float* x, float* y) {
  if (const Pool2x2Rows r = pool_2x2_rows(s); r.row != nullptr) return max_pool2d_2x2(s, x, y, r.row);
  const MaxpoolUkernel& uk = kernels().maxpool;
  parallel_for(s.n * s.oh, grain_for({s.ow, s.kh, s.kw, s.c}), [&](int64_t begin, int64_t end) {
    std::vector<const float*> in(static_cast<size_t>(s.kh * s.kw));
    for (int64_t row = begin; row < end; ++row) {
      const int64_t n = row / s.oh, oh = row % s.oh;
      const Span rows = window_span(oh * s.stride_h - s.pad_top, s.kh, s.h);
      for (int64_t ow = 0; ow < s.ow; ++ow) {
        const Span cols = window_span(ow * s.stride_w - s.pad_left, s.kw, s.w);
        int64_t ks = 0;
        for (int64_t ih = rows.begin; ih < rows.end; ++ih) {
          for (int64_t iw = cols.begin; iw < cols.end; ++iw) in[ks++] = x + ((n * s.h + ih) * s.w + iw) * s.c;
        }
        uk.max(s.c, ks, in.data(), y + ((n * s.oh + oh) * s.ow + ow) * s.c);
      }
    }
  });
}

// Non-overlapping windows (stride >= kernel on both axes, e.g. 2x2 stride 2): every dx element is in at
// most one window, so each task owns whole dx rows (those from its window row up to the next window
// row) and writes each of them exactly once: 0 + dy at the window's first maximum, 0 elsewhere (gaps
// between windows included), through the max-pool route micro-kernel. No zero-fill pass, no scatter.
static void max_pool2d_backward_disjoint(const Pool2dShape& s, float* dx, const float* dy, const float* x) {
  // First dx row/column owned by window row/column k (k = OH/OW gives the end).
  auto row_start = [&](int64_t k) { return k == 0 ? 0 : k == s.oh ? s.h : std::clamp<int64_t>(k * s.stride_h - s.pad_top, 0, s.h); };
  auto col_start = [&](int64_t k) { return k == 0 ? 0 : k == s.ow ? s.w : std::clamp<int64_t>(k * s.stride_w - s.pad_left, 0, s.w); };
  const MaxpoolUkernel& uk = kernels().maxpool;
  parallel_for(s.n * s.oh, grain_for({s.ow, s.kh, s.kw, s.c}), [&](int64_t begin, int64_t end) {
    std::vector<const float*> in(static_cast<size_t>(s.kh * s.kw));
    std::vector<float*> out(static_cast<size_t>(s.kh * s.kw));
    for (int64_t task = begin; task < end; ++task) {
      const int64_t n = task / s.oh, oh = task % s.oh;
      const Span rows = window_span(oh * s.stride_h - s.pad_top, s.kh, s.h);
      float* dx_n = dx + n * s.h * s.w * s.c;
      const float* x_n = x + n * s.h * s.w * s.c;
      // Owned rows outside the window: zero.
      for (int64_t ih = row_start(oh); ih < row_start(oh + 1); ++ih) {
        if (ih >= rows.begin && ih < rows.end) continue;
        std::fill(dx_n + ih * s.w * s.c, dx_n + (ih + 1) * s.w * s.c, 0.0f);
      }
      for (int64_t ow = 0; ow < s.ow; ++ow) {
        const Span cols = window_span(ow * s.stride_w - s.pad_left, s.kw, s.w);
        // Owned columns of the window rows outside the window: zero.
        for (int64_t ih = rows.begin; ih < rows.end; ++ih) {
          float* r = dx_n + ih * s.w * s.c;
          std::fill(r + col_start(ow) * s.c, r + cols.begin * s.c, 0.0f);
          std::fill(r + cols.end * s.c, r + col_start(ow + 1) * s.c, 0.0f);
        }
        int64_t ks = 0;
        for (int64_t ih = rows.begin; ih < rows.end; ++ih) {
          for (int64_t iw = cols.begin; iw < cols.end; ++iw, ++ks) {
            in[ks] = x_n + (ih * s.w + iw) * s.c;
            out[ks] = dx_n + (ih * s.w + iw) * s.c;
          }
        }
        uk.route(s.c, ks, in.data(), dy + ((n * s.oh + oh) * s.ow + ow) * s.c, out.data());
      }
    }
  });
}

// dx [N,H,W,C] <- dy [N,OH,OW,C], x [N,H,W,C]: dx[first max of window] += dy[window].
// Tasks own (n, channel block) slices of dx and visit windows in row-major order, so overlapping
// windows add into a dx element in the same order whatever the thread count.
void max_pool2d_backward(const Pool2dShape& s, float* dx, const float* dy, const float* x) {
  if (const Pool2x2Rows r = pool_2x2_rows(s); r.route_row != nullptr) {
    return max_pool2d_backward_2x2(s, dx, dy, x, r.route_row);
  }
  if (s.stride_h >= s.kh && s.stride_w >= s.kw) return max_pool2d_backward_disjoint(s, dx, dy, x);
  const int64_t blocks = (s.c + kChannelBlock - 1) / kChannelBlock;
  const int64_t plane = s.h * s.w;
  parallel_for(s.n * blocks, grain_for({s.oh, s.ow, s.kh, s.kw, std::min(s.c, kChannelBlock)}),
               [&](int64_t begin, int64_t end) {
    float best[kChannelBlock];
    // Pixel index ih*W + iw of the maximum, per channel. 32 bits (H*W <= the x length <= 2^32) so the
    // selection loop below vectorizes alongside the float compares.
    uint32_t where[kChannelBlock];
    for (int64_t task = begin; task < end; ++task) {
      const int64_t n = task / blocks, c0 = (task % blocks) * kChannelBlock;
      const int64_t nc = std::min(s.c, c0 + kChannelBlock) - c0;
      float* dx_n = dx + n * plane * s.c + c0;
      const float* x_n = x + n * plane * s.c + c0;
      for (int64_t p = 0; p < plane; ++p) std::fill(dx_n + p * s.c, dx_n + p * s.c + nc, 0.0f);
      for (int64_t oh = 0; oh < s.oh; ++oh) {
        const Span rows = window_span(oh * s.stride_h - s.pad_top, s.kh, s.h);
        for (int64_t ow = 0; ow < s.ow; ++ow) {
          const Span cols = window_span(ow * s.stride_w - s.pad_left, s.kw, s.w);
          const int64_t first = rows.begin * s.w + cols.begin;
          for (int64_t c = 0; c < nc; ++c) {
            best[c] = x_n[first * s.c + c];
            where[c] = static_cast<uint32_t>(first);
          }
          for (int64_t ih = rows.begin; ih < rows.end; ++ih) {
            for (int64_t iw = cols.begin; iw < cols.end; ++iw) {
              const uint32_t p = static_cast<uint32_t>(ih * s.w + iw);
              const float* xp = x_n + int64_t{p} * s.c;
              for (int64_t c = 0; c < nc; ++c) {  // branch-free so it vectorizes
                const bool take = takes_max(xp[c], best[c]);
                best[c] = take ? xp[c] : best[c];
                where[c] = take ? p : where[c];
              }
            }
          }
          const float* dyp = dy + ((n * s.oh + oh) * s.ow + ow) * s.c + c0;
          for (int64_t c = 0; c < nc; ++c) dx_n[int64_t{where[c]} * s.c + c] += dyp[c];
        }
      }
    }
  });
}

// x [N,H,W,C] -> y [N,OH,OW,C]; y = Σ window / (KH*KW or the count of real elements).
// The depthwise forward with the mean filter; without count_include_pad, the outputs whose window
// reaches into the padding are then scaled by KH*KW / (its real elements).
void avg_pool2d(const Pool2dShape& s, bool count_include_pad, const float* x, float* y) {
  const std::vector<float> w = mean_filter(s);
  conv_detail::depthwise_forward(depthwise_shape(s), Conv2dEpilogue{}, x, w.data(), nullptr, y, kernels().dwconv);
  if (count_include_pad) return;
  const int64_t taps = s.kh * s.kw;
  parallel_for(s.n * s.oh, grain_for({s.ow, s.c}), [&](int64_t begin, int64_t end) {
    for (int64_t row = begin; row < end; ++row) {
      const Span rows = window_span((row % s.oh) * s.stride_h - s.pad_top, s.kh, s.h);
      for (int64_t ow = 0; ow < s.ow; ++ow) {
        const Span cols = window_span(ow * s.stride_w - s.pad_left, s.kw, s.w);
        const int64_t real = (rows.end - rows.begin) * (cols.end - cols.begin);
        if (real == taps) continue;
        const float scale = static_cast<float>(taps) / static_cast<float>(real);
        float* yp = y + (row * s.ow + ow) * s.c;
        for (int64_t c = 0; c < s.c; ++c) yp[c] *= scale;
      }
    }
  });
}

// dx [N,H,W,C] <- dy [N,OH,OW,C]: dx[n,ih,iw,c] = Σ over windows (oh,ow) covering (ih,iw) of
// dy[n,oh,ow,c] / count(oh,ow). Gather formulation: each task owns whole dx rows (n, ih). The quotients
// of the dy rows covering ih are computed once per dx row (not once per dx element and window), then
// summed in (oh, ow) order by the depthwise micro-kernel with a row of ones (fma(q, 1, acc) = acc + q).
// With count_include_pad every window divides by KH*KW: dx is the depthwise backward-input with the mean
// filter.
void avg_pool2d_backward(const Pool2dShape& s, bool count_include_pad, float* dx, const float* dy) {
  const DwconvUkernel& uk = kernels().dwconv;
  if (count_include_pad) {
    const std::vector<float> w = mean_filter(s);
    return conv_detail::depthwise_backward_input(depthwise_shape(s), dx, dy, w.data(), uk);
  }
  const std::vector<float> ones(static_cast<size_t>(s.c), 1.0f);
  const int64_t max_rows = (s.kh + s.stride_h - 1) / s.stride_h;  // windows covering one input row
  const int64_t max_taps = max_rows * ((s.kw + s.stride_w - 1) / s.stride_w);
  parallel_for(s.n * s.h, grain_for({s.w, s.kh, s.kw, s.c}), [&](int64_t begin, int64_t end) {
    std::vector<float> q(static_cast<size_t>(max_rows * s.ow * s.c));
    std::vector<const float*> in(static_cast<size_t>(max_taps));
    const std::vector<const float*> w(static_cast<size_t>(max_taps), ones.data());
    for (int64_t row = begin; row < end; ++row) {
      const int64_t n = row / s.h, ih = row % s.h;
      // Windows oh with oh*sh - pt <= ih < oh*sh - pt + KH.
      const int64_t oh0 = std::max<int64_t>(0, floor_div(ih + s.pad_top - s.kh, s.stride_h) + 1);
      const int64_t oh1 = std::min(s.oh, (ih + s.pad_top) / s.stride_h + 1);
      for (int64_t oh = oh0; oh < oh1; ++oh) {
        const Span rows = window_span(oh * s.stride_h - s.pad_top, s.kh, s.h);
        for (int64_t ow = 0; ow < s.ow; ++ow) {
          const Span cols = window_span(ow * s.stride_w - s.pad_left, s.kw, s.w);
          const float count = static_cast<float>(
              count_include_pad ? s.kh * s.kw : (rows.end - rows.begin) * (cols.end - cols.begin));
          const float* dyp = dy + ((n * s.oh + oh) * s.ow + ow) * s.c;
          float* qp = q.data() + ((oh - oh0) * s.ow + ow) * s.c;
          for (int64_t c = 0; c < s.c; ++c) qp[c] = dyp[c] / count;
        }
      }
      float* dx_row = dx + (n * s.h + ih) * s.w * s.c;
      for (int64_t iw = 0; iw < s.w; ++iw) {
        const int64_t ow0 = std::max<int64_t>(0, floor_div(iw + s.pad_left - s.kw, s.stride_w) + 1);
        const int64_t ow1 = std::min(s.ow, (iw + s.pad_left) / s.stride_w + 1);
        int64_t ks = 0;
        for (int64_t oh = oh0; oh < oh1; ++oh) {
          for (int64_t ow = ow0; ow < ow1; ++ow) in[ks++] = q.data() + ((oh - oh0) * s.ow + ow) * s.c;
        }
        uk.fwd(s.c, ks, in.data(), w.data(), nullptr, dx_row + iw * s.c, 1, 0);
      }
    }
  });
}

// x [N,HW,C] -> y [N,C]: mean over HW, accumulated in HW order per channel.
void global_avg_pool2d(int64_t n, int64_t hw, int64_t c, const float* x, float* y) {
  const int64_t blocks = (c + kChannelBlock - 1) / kChannelBlock;
  parallel_for(n * blocks, grain_for({hw, std::min(c, kChannelBlock)}), [&](int64_t begin, int64_t end) {
    for (int64_t task = begin; task < end; ++task) {
      const int64_t i = task / blocks, c0 = (task % blocks) * kChannelBlock;
      const int64_t nc = std::min(c, c0 + kChannelBlock) - c0;
      float* yp = y + i * c + c0;
      const float* xp = x + i * hw * c + c0;
      std::fill(yp, yp + nc, 0.0f);
      for (int64_t p = 0; p < hw; ++p) {
        for (int64_t k = 0; k < nc; ++k) yp[k] += xp[p * c + k];
      }
      const float count = static_cast<float>(hw);
      for (int64_t k = 0; k < nc; ++k) yp[k] /= count;
    }
  });
}

// dx [N,HW,C] <- dy [N,C]: dx[n,p,c] = dy[n,c] / HW.
void global_avg_pool2d_backward(int64_t n, int64_t hw, int64_t c, float* dx, const float* dy) {
  const float count = static_cast<float>(hw);
  parallel_for(n * hw, grain_for({c}), [&](int64_t begin, int64_t end) {
    for (int64_t row = begin; row < end; ++row) {
      const float* dyp = dy + (row / hw) * c;
      float* dxp = dx + row * c;
      for (int64_t k = 0; k < c; ++k) dxp[k] = dyp[k] / count;
    }
  });
}

// x [N,HW,C] -> y [N,C]: the first maximum over HW.
void global_max_pool2d(int64_t n, int64_t hw, int64_t c, const float* x, float* y) {
  const int64_t blocks = (c + kChannelBlock - 1) / kChannelBlock;
  parallel_for(n * blocks, grain_for({hw, std::min(c, kChannelBlock)}), [&](int64_t begin, int64_t end) {
    for (int64_t task = begin; task < end; ++task) {
      const int64_t i = task / blocks, c0 = (task % blocks) * kChannelBlock;
      const int64_t nc = std::min(c, c0 + kChannelBlock) - c0;
      float* yp = y + i * c + c0;
      const float* xp = x + i * hw * c + c0;
      std::copy(xp, xp + nc, yp);
      for (int64_t p = 1; p < hw; ++p) {
        for (int64_t k = 0; k < nc; ++k) yp[k] = takes_max(xp[p * c + k], yp[k]) ? xp[p * c + k] : yp[k];
      }
    }
  });
}

// dx [N,HW,C] <- dy [N,C], x [N,HW,C]: dy to the first maximum over HW, zero elsewhere.
void global_max_pool2d_backward(int64_t n, int64_t hw, int64_t c, float* dx, const float* dy, const float* x) {
  const int64_t blocks = (c + kChannelBlock - 1) / kChannelBlock;
  parallel_for(n * blocks, grain_for({hw, std::min(c, kChannelBlock)}), [&](int64_t begin, int64_t end) {
    float best[kChannelBlock];
    uint32_t where[kChannelBlock];  // HW <= the x length <= 2^32: fits, and vectorizes with the floats
    for (int64_t task = begin; task < end; ++task) {
      const int64_t i = task / blocks, c0 = (task % blocks) * kChannelBlock;
      const int64_t nc = std::min(c, c0 + kChannelBlock) - c0;
      const float* xp = x + i * hw * c + c0;
      float* dxp = dx + i * hw * c + c0;
      for (int64_t k = 0; k < nc; ++k) {
        best[k] = xp[k];
        where[k] = 0;
      }
      for (int64_t p = 0; p < hw; ++p) {
        std::fill(dxp + p * c, dxp + p * c + nc, 0.0f);
        const float* row = xp + p * c;
        const uint32_t p32 = static_cast<uint32_t>(p);
        for (int64_t k = 0; k < nc; ++k) {
          const bool take = takes_max(row[k], best[k]);
          best[k] = take ? row[k] : best[k];
          where[k] = take ? p32 : where[k];
        }
      }
      const float* dyp = dy + i * c + c0;
      for (int64_t k = 0; k < nc; ++k) dxp[int64_t{where[k]} * c + k] = dyp[k];
    }
  });
}

}  // namespace tf
