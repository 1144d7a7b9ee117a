#include "kernels/conv2d.h"

#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <vector>

#include "kernels/conv2d_paths.h"
#include "kernels/conv2d_tiles.h"
#include "runtime/dispatch.h"
#include "runtime/thread_pool.h"

namespace tf {
namespace {

// Aim for at least this many multiply-adds per parallel_for range, so tiny convolutions stay on the
// calling thread instead of paying for a wake-up.
constexpr int64_t kMinWorkPerRange = 32 * 1024;
// Output channels per backward-filter task. Fixed (never derived from the thread count) so the split,
// and therefore every result bit, is the same for any number of threads.
constexpr int64_t kFilterOcBlock = 64;

// Items per range so that a range holds about kMinWorkPerRange multiply-adds. The estimate is a double
// because a product of several validated sizes may exceed int64 even though each buffer fits.
int64_t grain_for(double work_per_item) {
  if (work_per_item >= static_cast<double>(kMinWorkPerRange)) return 1;
  return static_cast<int64_t>(static_cast<double>(kMinWorkPerRange) / std::max(1.0, work_per_item));
}

double estimate(std::initializer_list<int64_t> sizes) {
  double p = 1.0;
  for (int64_t v : sizes) p *= static_cast<double>(v);
  return p;
}

void apply_epilogue(float* y, int64_t n, const float* bias, const Conv2dEpilogue& e) {
  if (bias != nullptr) {
    for (int64_t i = 0; i < n; ++i) y[i] += bias[i];
  }
  conv_detail::apply_activation(y, n, e);
}

// acc[i] += a * b[i]: the one inner loop every general path below reduces to.
inline void axpy(float* __restrict acc, float a, const float* __restrict b, int64_t n) {
  for (int64_t i = 0; i < n; ++i) acc[i] += a * b[i];
}

// acc[i] += a[i] * b[i]: depthwise (one input and one output channel per group).
inline void mul_add(float* __restrict acc, const float* __restrict a, const float* __restrict b, int64_t n) {
  for (int64_t i = 0; i < n; ++i) acc[i] += a[i] * b[i];
}

// x [N,H,W,C], w [KH,KW,C/G,OC], bias [OC] -> y [N,OH,OW,OC]
// y[n,oh,ow,oc] = act(bias[oc] + Σ_{kh,kw,ci} x[n, oh*sh-pt+kh*dh, ow*sw-pl+kw*dw, g*Cg+ci] · w[kh,kw,ci,oc])
// Each task owns whole output rows (n, oh); y[n,oh,ow,:] is accumulated in place over (kh, kw, ci).
void forward_direct(const Conv2dShape& s, const Conv2dEpilogue& epilogue, const float* x, const float* w,
                    const float* bias, float* y) {
  const int64_t cg = s.c_per_group(), ocg = s.oc_per_group();
  const bool depthwise = cg == 1 && ocg == 1;
  const double row_work = estimate({s.ow, s.kh, s.kw, cg, s.oc});
  parallel_for(s.n * s.oh, grain_for(row_work), [&](int64_t begin, int64_t end) {
    for (int64_t row = begin; row < end; ++row) {
      const int64_t n = row / s.oh, oh = row % s.oh;
      for (int64_t ow = 0; ow < s.ow; ++ow) {
        float* yp = y + ((n * s.oh + oh) * s.ow + ow) * s.oc;
        std::fill(yp, yp + s.oc, 0.0f);
        for (int64_t kh = 0; kh < s.kh; ++kh) {
          const int64_t ih = oh * s.stride_h - s.pad_top + kh * s.dilation_h;
          if (ih < 0 || ih >= s.h) continue;
          for (int64_t kw = 0; kw < s.kw; ++kw) {
            const int64_t iw = ow * s.stride_w - s.pad_left + kw * s.dilation_w;
            if (iw < 0 || iw >= s.w) continue;
            const float* xp = x + ((n * s.h + ih) * s.w + iw) * s.c;
            const float* wp = w + (kh * s.kw + kw) * cg * s.oc;
            if (depthwise) {
              mul_add(yp, xp, wp, s.oc);
              continue;
            }
            for (int64_t g = 0; g < s.groups; ++g) {
              for (int64_t ci = 0; ci < cg; ++ci) {
                axpy(yp + g * ocg, xp[g * cg + ci], wp + ci * s.oc + g * ocg, ocg);
              }
            }
          }
        }
        apply_epilogue(yp, s.oc, bias, epilogue);
      }
    }
  });
}

// dx [N,H,W,C] <- dy [N,OH,OW,OC], w [KH,KW,C/G,OC]
// dx[n,ih,iw,g*Cg+ci] = Σ over taps (kh,kw) whose output position (oh,ow) exists of
//                       Σ_{o in group g} dy[n,oh,ow,o] · w[kh,kw,ci,o]
// Gather formulation: each task owns whole dx rows (n, ih), so no two tasks write the same element.
// The filter is first transposed to [KH,KW,OC,Cg] so the inner loop runs over contiguous input channels.
void backward_input_direct(const Conv2dShape& s, float* dx, const float* dy, const float* w) {
  const int64_t cg = s.c_per_group(), ocg = s.oc_per_group();
  const bool depthwise = cg == 1 && ocg == 1;
  // With one input channel per group the HWIO layout already is [KH,KW,OC,1].
  std::vector<float> transposed;
  const float* wt = w;
  if (cg > 1) {
    transposed.resize(static_cast<size_t>(s.w_size()));
    for (int64_t k = 0; k < s.kh * s.kw; ++k) {
      const float* src = w + k * cg * s.oc;
      float* dst = transposed.data() + k * s.oc * cg;
      for (int64_t ci = 0; ci < cg; ++ci) {
        for (int64_t o = 0; o < s.oc; ++o) dst[o * cg + ci] = src[ci * s.oc + o];
      }
    }
    wt = transposed.data();
  }
  // A tap touches this row only when (ih + pad - kh*dilation) is a non-negative multiple of the stride.
  const double row_work = estimate({s.w, s.kh, s.kw, cg, s.oc}) / estimate({s.stride_h, s.stride_w});
  parallel_for(s.n * s.h, grain_for(row_work), [&](int64_t begin, int64_t end) {
    for (int64_t row = begin; row < end; ++row) {
      const int64_t n = row / s.h, ih = row % s.h;
      float* dx_row = dx + (n * s.h + ih) * s.w * s.c;
      std::fill(dx_row, dx_row + s.w * s.c, 0.0f);
      for (int64_t kh = 0; kh < s.kh; ++kh) {
        const int64_t th = ih + s.pad_top - kh * s.dilation_h;
        if (th < 0 || th % s.stride_h != 0 || th / s.stride_h >= s.oh) continue;
        const int64_t oh = th / s.stride_h;
        for (int64_t iw = 0; iw < s.w; ++iw) {
          float* dxp = dx_row + iw * s.c;
          for (int64_t kw = 0; kw < s.kw; ++kw) {
            const int64_t tw = iw + s.pad_left - kw * s.dilation_w;
            if (tw < 0 || tw % s.stride_w != 0 || tw / s.stride_w >= s.ow) continue;
            const int64_t ow = tw / s.stride_w;
            const float* dyp = dy + ((n * s.oh + oh) * s.ow + ow) * s.oc;
            const float* wk = wt + (kh * s.kw + kw) * s.oc * cg;
            if (depthwise) {
              mul_add(dxp, dyp, wk, s.c);
              continue;
            }
            if (cg == 1) {
              // One input channel per group (C = 1, or a depthwise multiplier): a short dot product per
              // channel beats axpy loops of length 1.
              for (int64_t g = 0; g < s.groups; ++g) {
                float sum = 0.0f;
                for (int64_t o = g * ocg; o < (g + 1) * ocg; ++o) sum += dyp[o] * wk[o];
                dxp[g] += sum;
              }
              continue;
            }
            for (int64_t g = 0; g < s.groups; ++g) {
              for (int64_t o = g * ocg; o < (g + 1) * ocg; ++o) axpy(dxp + g * cg, dyp[o], wk + o * cg, cg);
            }
          }
        }
      }
    }
  });
}

// dw [KH,KW,C/G,OC], dbias [OC] <- dy [N,OH,OW,OC], x [N,H,W,C]
// dw[kh,kw,ci,o] = Σ_{n,oh,ow} x[n, oh*sh-pt+kh*dh, ow*sw-pl+kw*dw, g(o)*Cg+ci] · dy[n,oh,ow,o]
// dbias[o]       = Σ_{n,oh,ow} dy[n,oh,ow,o]
// Tasks own (tap, output-channel block) pieces of dw and reduce over (n, oh, ow) in that fixed order.
void backward_filter_direct(const Conv2dShape& s, float* dw, float* dbias, const float* dy, const float* x) {
  const int64_t cg = s.c_per_group(), ocg = s.oc_per_group();
  const bool depthwise = cg == 1 && ocg == 1;
  const int64_t oc_blocks = (s.oc + kFilterOcBlock - 1) / kFilterOcBlock;
  const int64_t taps = s.kh * s.kw;
  const double task_work = estimate({s.n, s.oh, s.ow, cg, std::min(s.oc, kFilterOcBlock)});
  parallel_for(taps * oc_blocks, grain_for(task_work), [&](int64_t begin, int64_t end) {
    for (int64_t task = begin; task < end; ++task) {
      const int64_t tap = task / oc_blocks, block = task % oc_blocks;
      const int64_t kh = tap / s.kw, kw = tap % s.kw;
      const int64_t o0 = block * kFilterOcBlock, o1 = std::min(s.oc, o0 + kFilterOcBlock);
      float* dwk = dw + tap * cg * s.oc;
      for (int64_t ci = 0; ci < cg; ++ci) std::fill(dwk + ci * s.oc + o0, dwk + ci * s.oc + o1, 0.0f);
      // Groups whose output channels overlap [o0, o1).
      const int64_t g0 = o0 / ocg, g1 = (o1 - 1) / ocg + 1;
      for (int64_t n = 0; n < s.n; ++n) {
        for (int64_t oh = 0; oh < s.oh; ++oh) {
          const int64_t ih = oh * s.stride_h - s.pad_top + kh * s.dilation_h;
          if (ih < 0 || ih >= s.h) continue;
          for (int64_t ow = 0; ow < s.ow; ++ow) {
            const int64_t iw = ow * s.stride_w - s.pad_left + kw * s.dilation_w;
            if (iw < 0 || iw >= s.w) continue;
            const float* xp = x + ((n * s.h + ih) * s.w + iw) * s.c;
            const float* dyp = dy + ((n * s.oh + oh) * s.ow + ow) * s.oc;
            if (depthwise) {
              mul_add(dwk + o0, xp + o0, dyp + o0, o1 - o0);
              continue;
            }
            for (int64_t g = g0; g < g1; ++g) {
              const int64_t ob = std::max(o0, g * ocg), oe = std::min(o1, (g + 1) * ocg);
              for (int64_t ci = 0; ci < cg; ++ci) axpy(dwk + ci * s.oc + ob, xp[g * cg + ci], dyp + ob, oe - ob);
            }
          }
        }
      }
    }
  });
  if (dbias == nullptr) return;
  const int64_t pixels = s.n * s.oh * s.ow;
  parallel_for(oc_blocks, grain_for(estimate({pixels, kFilterOcBlock})), [&](int64_t begin, int64_t end) {
    for (int64_t block = begin; block < end; ++block) {
      const int64_t o0 = block * kFilterOcBlock, o1 = std::min(s.oc, o0 + kFilterOcBlock);
      std::fill(dbias + o0, dbias + o1, 0.0f);
      for (int64_t p = 0; p < pixels; ++p) {
        const float* dyp = dy + p * s.oc;
        for (int64_t o = o0; o < o1; ++o) dbias[o] += dyp[o];
      }
    }
  });
}

}  // namespace

// Path choice. Depthwise-like layers (one input channel per group) keep the direct loops: their work is
// a per-channel multiply-add that GEMM tiles would pad 16-32x. Few input channels per group (the first
// layer of an image model) take the rows / gather / col2im variants (conv2d_paths.h).
namespace {
bool depthwise_like(const Conv2dShape& s) { return s.c_per_group() == 1 && s.groups > 1; }
bool depthwise(const Conv2dShape& s) { return depthwise_like(s) && s.oc_per_group() == 1; }
// The igemm tile for a GEMM with `columns` output columns per group.
const ConvIgemmUkernel& igemm_for(int64_t columns) {
  if (columns >= 64) return kernels().conv_igemm;
  return columns > 16 ? kernels().conv_igemm_narrow : kernels().conv_igemm_small;
}
// Same, but the wide tile only when it pads the columns no more than the narrow one: for dcol's
// KH*KW*Cg columns (LeNet conv2: 150 = 3 x 64 - 42 or 5 x 32 - 10) the 8x32 tile measured about 5 % faster
// over the whole backward-input pass (best of 5 alternating runs, 1 thread: 0.495 vs 0.525 ms).
const ConvIgemmUkernel& igemm_least_padding(int64_t columns) {
  const ConvIgemmUkernel& wide = kernels().conv_igemm;
  const ConvIgemmUkernel& narrow = kernels().conv_igemm_narrow;
  if (columns < 64) return igemm_for(columns);
  auto padded = [&](int nr) { return conv_detail::ceil_div(columns, nr) * nr; };
  return padded(wide.nr) <= padded(narrow.nr) ? wide : narrow;
}
}  // namespace

void conv2d_forward(const Conv2dShape& s, const Conv2dEpilogue& epilogue, const float* x, const float* w,
                    const float* bias, float* y) {
  if (depthwise(s)) return conv_detail::depthwise_forward(s, epilogue, x, w, bias, y, kernels().dwconv);
  if (depthwise_like(s)) return forward_direct(s, epilogue, x, w, bias, y);
  // 1x1 with at least 64 input and output channels per group takes the igemm below (x read in place, the y
  // rows prefetched): 1x1 128 -> 256, N = 32, best of 3 alternating: 12.7-12.9 vs 13.0-14.1 ms for tf::gemm
  // at 1 thread, 6.5 vs 7.0-7.1 at 2.
  if (conv_detail::is_pointwise(s) && (s.c_per_group() < 64 || s.oc_per_group() < 64)) {
    return conv_detail::forward_pointwise(s, epilogue, x, w, bias, y);
  }
  // One input channel, one group, stride_w = dilation_w = 1 (LeNet conv1): width-vectorized kernels.
  if (const ConvWidthUkernel* wk = conv_detail::width_ukernel(); wk != nullptr && conv_detail::width_path_applies(s)) {
    return conv_detail::forward_width(s, epilogue, x, w, bias, y, *wk);
  }
  // Few channels, 12..32 output channels, no dilation (LeNet conv2, 6 -> 16): output channels in the vector,
  // the KH*KW*C reduction in registers (conv2d_ocvec.cc); declines a non-finite w with horizontal padding.
  if (const ConvOcvecUkernel* ok = conv_detail::ocvec_ukernel(); ok != nullptr && conv_detail::ocvec_direct_applies(s) &&
      conv_detail::forward_ocvec(s, epilogue, x, w, bias, y, *ok)) {
    return;
  }
  if (s.c < conv_detail::kGatherChannels && s.groups == 1 && s.dilation_w == 1) {
    return conv_detail::forward_igemm_rows(s, epilogue, x, w, bias, y, igemm_for(s.oc));
  }
  conv_detail::forward_igemm(s, epilogue, x, w, bias, y, igemm_for(s.oc_per_group()));
}

void conv2d_backward_input(const Conv2dShape& s, float* dx, const float* dy, const float* w) {
  if (depthwise(s)) return conv_detail::depthwise_backward_input(s, dx, dy, w, kernels().dwconv);
  if (depthwise_like(s)) return backward_input_direct(s, dx, dy, w);
  // 1x1 with at least 64 input channels per group: the igemm below reads dy in place where tf::gemm packs
  // it (1x1 128 -> 256, N = 32, 1 thread: 13.0-13.5 vs 14.3-14.6 ms, best of 8 interleaved).
  if (conv_detail::is_pointwise(s) && s.c_per_group() < 64) return conv_detail::backward_input_pointwise(s, dx, dy, w);
  // Few channels, 12..64 output channels, stride 1, no dilation (LeNet conv2, 6 -> 16): the reduction runs
  // over 16 dy channels per vector (conv2d_ocvec.cc) instead of the dcol GEMM + col2im below.
  if (const ConvOcvecUkernel* ok = conv_detail::ocvec_ukernel();
      ok != nullptr && conv_detail::ocvec_backward_input_applies(s) && conv_detail::backward_input_ocvec(s, dx, dy, w, *ok)) {
    return;
  }
  if (s.c_per_group() < conv_detail::kGatherChannels) {
    return conv_detail::backward_input_few_channels(s, dx, dy, w, igemm_least_padding(s.kh * s.kw * s.c_per_group()));
  }
  conv_detail::backward_input_igemm(s, dx, dy, w, igemm_for(s.c_per_group()));
}

void conv2d_backward_filter(const Conv2dShape& s, float* dw, float* dbias, const float* dy, const float* x) {
  if (depthwise(s)) return conv_detail::depthwise_backward_filter(s, dw, dbias, dy, x, kernels().dwconv);
  if (depthwise_like(s)) return backward_filter_direct(s, dw, dbias, dy, x);
  // One input channel, one group, stride_w = dilation_w = 1 (LeNet conv1): width-vectorized kernels.
  if (const ConvWidthUkernel* wk = conv_detail::width_ukernel(); wk != nullptr && conv_detail::width_path_applies(s)) {
    return conv_detail::backward_filter_width(s, dw, dbias, dy, x, *wk);
  }
  // Few channels, one group, stride_w 1 (the first layers of an image model): igemm over rows of taps
  // read in place from channel planes of x (no im2col, no per-pixel gather). Measured faster than the
  // paths below on LeNet and on C 3 -> 16/64 3x3 and C 4 -> 32 5x5 layers (1 thread, AVX-512); its
  // per-task workspace holds one image's dy panels, so images whose panels would pass 4 MiB keep the
  // bounded paths below.
  // Few channels, 12..32 output channels, no dilation (LeNet conv2): dy's output channels in the vector
  // (conv2d_ocvec.cc); declines a non-finite dy with horizontal padding.
  if (const ConvOcvecUkernel* ok = conv_detail::ocvec_ukernel(); ok != nullptr && conv_detail::ocvec_direct_applies(s) &&
      conv_detail::backward_filter_ocvec(s, dw, dbias, dy, x, *ok)) {
    return;
  }
  const ConvIgemmUkernel& rows_uk = igemm_for(s.oc);
  const int64_t dy_panels = conv_detail::ceil_div(s.oc, rows_uk.nr) * rows_uk.nr * s.oh * s.ow;
  if (s.c < conv_detail::kGatherChannels && s.groups == 1 && s.stride_w == 1 && dy_panels <= (int64_t{1} << 20)) {
    return conv_detail::backward_filter_rows(s, dw, dbias, dy, x, rows_uk);
  }
  // More channels, one group, output rows of >= 16 pixels (the kernel's K loop), one image's channel planes
  // and dy panels within 4 MiB each: the same rows path, any stride (column phases). It replaced the in-place
  // and packed paths below on ResNet 3x3 64 -> 64 (N = 32, 1 thread: 52-54 vs 61.5 ms) and the strided 3x3
  // 64 -> 128 (see BENCHMARKS.md's conv section).
  const int64_t planes = s.c * s.stride_w * (s.pad_top + s.h + s.pad_bottom) *
                         conv_detail::ceil_div(s.pad_left + s.w + s.pad_right, s.stride_w);
  // Only while the tile's NR columns waste at most 1/8 of its work on padding (OC 64, 128, 256 on AVX-512; an
  // OC of 70 would compute 128 columns; the paths below pick their tiles by fill).
  const bool columns_fill = conv_detail::ceil_div(s.oc, rows_uk.nr) * rows_uk.nr * 8 <= s.oc * 9;
  if (s.c >= conv_detail::kGatherChannels && s.groups == 1 && s.ow >= 16 && !conv_detail::is_pointwise(s) &&
      columns_fill && dy_panels <= (int64_t{1} << 20) && planes <= (int64_t{1} << 20)) {
    return conv_detail::backward_filter_rows(s, dw, dbias, dy, x, rows_uk);
  }
  // The packed path copies runs of adjacent x channels (a kernel row's taps when groups = 1 and there is
  // no horizontal dilation); with runs shorter than 8 floats (e.g. a 5x5 filter on one channel) the
  // im2col tile + tf::gemm path measured faster.
  // 1x1, stride 1, no padding: tf::gemm over fixed chunks of pixels, dbias summed per chunk
  // (conv2d_filter.cc); measured 15.5 vs 18.2-18.9 ms for the in-place path below on 1x1 128 -> 256, N = 32.
  if (conv_detail::is_pointwise(s)) return conv_detail::backward_filter_pointwise(s, dw, dbias, dy, x);
  // One group, most output columns interior, column runs a multiple of the GEMM tile's NR, stride_w 1 (what the
  // rows path above declines: OW < 16 or an image's planes / dy panels past 4 MiB): x read in place by the GEMM
  // micro-kernel, no packing of x (conv2d_filter_inplace.cc).
  if (const GemmUkernel* gk = conv_detail::inplace_filter_ukernel(s); gk != nullptr) {
    return conv_detail::backward_filter_inplace(s, dw, dbias, dy, x, *gk);
  }
  const int64_t run = s.groups == 1 && s.dilation_w == 1 ? s.kw * s.c_per_group() : s.c_per_group();
  if (run >= 8) return conv_detail::backward_filter_packed(s, dw, dbias, dy, x);
  conv_detail::backward_filter_gemm(s, dw, dbias, dy, x);
}

}  // namespace tf
