// GEMM-shaped convolution paths for forward and backward-input (see conv2d_paths.h): indirect GEMM
// over the micro-kernels of the dispatch table, tf::gemm directly for pointwise (1x1) layers, and the
// gather / dcol + col2im variants for few input channels. Backward-filter is in conv2d_filter.cc.
//
// Determinism: every output tile is computed start to finish by one task, or by tf::gemm, which is
// itself bit-identical for any thread count. The thread count never changes how any output is summed.
#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/conv2d_paths.h"
#include "kernels/conv2d_tiles.h"
#include "kernels/gemm.h"
#include "runtime/dispatch.h"
#include "runtime/thread_pool.h"

namespace tf::conv_detail {
namespace {

// Output tiles (of MR pixels) per forward task: fixed, so the split never depends on the thread count.
constexpr int64_t kTilesPerTask = 8;
// forward_igemm: y rows of the tile this many tiles ahead are prefetched for writing. Measured on ResNet
// 3x3 64 -> 64, N = 32, AVX-512, 1 thread (best of 8 interleaved): 45.3-45.7 ms vs 46.8-47.4 without
// (distance 2: 45.1); the strided 3x3 64 -> 128 within 1 %.
constexpr int64_t kPrefetchTiles = 4;
// forward_rows: at most this many floats of zero-bordered input rows per task (or one band row).
constexpr int64_t kRowBandFloats = int64_t{1} << 14;

}  // namespace

bool is_pointwise(const Conv2dShape& s) {
  return s.kh == 1 && s.kw == 1 && s.stride_h == 1 && s.stride_w == 1 && s.pad_top == 0 && s.pad_bottom == 0 &&
         s.pad_left == 0 && s.pad_right == 0;
}

void apply_activation(float* y, int64_t n, const Conv2dEpilogue& e) {
  const float alpha = e.alpha;
  switch (e.activation) {
    case GemmActivation::none:
      break;
    case GemmActivation::relu:
      // `v < 0 ? 0 : v` keeps NaN (as the reference backend does).
      for (int64_t i = 0; i < n; ++i) y[i] = y[i] < 0.0f ? 0.0f : y[i];
      break;
    case GemmActivation::leaky_relu:
      for (int64_t i = 0; i < n; ++i) y[i] = y[i] < 0.0f ? alpha * y[i] : y[i];
      break;
    case GemmActivation::elu:
      for (int64_t i = 0; i < n; ++i) y[i] = y[i] < 0.0f ? alpha * std::expm1(y[i]) : y[i];
      break;
    case GemmActivation::sigmoid:
      for (int64_t i = 0; i < n; ++i) y[i] = 1.0f / (1.0f + std::exp(-y[i]));
      break;
    case GemmActivation::tanh:
      for (int64_t i = 0; i < n; ++i) y[i] = std::tanh(y[i]);
      break;
  }
}

// --- forward ------------------------------------------------------------------------------------

// w [KH,KW,Cg,OC] -> panels [G][q][tap*Cg + ci][NR] (q: block of NR output channels, zero-padded): the
// weight operand of the forward igemm, for any split of K = taps*Cg into (ks, kc) in that order.
namespace {
AlignedFloats pack_filter(const Conv2dShape& s, const float* w, int nr) {
  const int64_t cg = s.c_per_group(), ocg = s.oc_per_group(), taps = s.kh * s.kw;
  const int64_t panels = ceil_div(ocg, nr);
  const int64_t panel_size = taps * cg * nr;
  AlignedFloats packed(s.groups * panels * panel_size);
  float* wp = packed.get();
  parallel_for(s.groups * panels, grain_for(static_cast<double>(panel_size)), [&](int64_t begin, int64_t end) {
    for (int64_t gq = begin; gq < end; ++gq) {
      const int64_t g = gq / panels, q = gq % panels;
      const int64_t o0 = g * ocg + q * nr, valid = std::min<int64_t>(nr, ocg - q * nr);
      float* dst = wp + gq * panel_size;
      for (int64_t k = 0; k < taps * cg; ++k, dst += nr) {
        const float* src = w + k * s.oc + o0;
        for (int64_t j = 0; j < valid; ++j) dst[j] = src[j];
        for (int64_t j = valid; j < nr; ++j) dst[j] = 0.0f;
      }
    }
  });
  return packed;
}
}  // namespace

// x [N,H,W,C], w [KH,KW,Cg,OC], bias [OC] -> y [N,OH,OW,OC]
// C = y viewed as [N*OH*OW, OC]; per group g, tile (MR pixels) x (NR output channels):
//   y[p, g*OCg + o] = Σ_{tap, ci} x[pixel of p at tap, g*Cg + ci] · w[tap, ci, g*OCg + o]
// The filter is packed once into panels wp[g][q][tap][ci][NR] (q: block of NR output channels); the
// input is read in place through ptr[tap][i] (a zero row where the tap falls into the padding).
void forward_igemm(const Conv2dShape& s, const Conv2dEpilogue& e, const float* x, const float* w, const float* bias,
                   float* y, const ConvIgemmUkernel& uk) {
  const int64_t cg = s.c_per_group(), ocg = s.oc_per_group(), taps = s.kh * s.kw;
  const int mr = uk.mr, nr = uk.nr;
  const int64_t panels = ceil_div(ocg, nr);
  const int64_t panel_size = taps * cg * nr;
  const AlignedFloats packed = pack_filter(s, w, nr);
  const float* wp = packed.get();
  const std::vector<float> zero(static_cast<size_t>(cg), 0.0f);
  const bool relu = e.activation == GemmActivation::relu;
  const bool activate_after = e.activation != GemmActivation::none && !relu;
  // The packed panel is [tap][ci][NR], i.e. [tap*Cg + ci][NR]: the same panel serves a gathered K.
  const bool gather = cg < kGatherChannels;

  const int64_t pixels = s.n * s.oh * s.ow;
  const int64_t tiles = ceil_div(pixels, mr);
  const int64_t tasks = ceil_div(tiles, kTilesPerTask);
  const double task_work = static_cast<double>(kTilesPerTask) * mr * taps * cg * s.oc;
  // x offset of each tap relative to the tap (0, 0), and of one output pixel to the next along a row.
  std::vector<int64_t> tap_offset(static_cast<size_t>(taps));
  for (int64_t kh = 0; kh < s.kh; ++kh)
    for (int64_t kw = 0; kw < s.kw; ++kw) tap_offset[kh * s.kw + kw] = (kh * s.dilation_h * s.w + kw * s.dilation_w) * s.c;
  const int64_t pixel_step = s.stride_w * s.c;
  parallel_for(tasks, grain_for(task_work), [&](int64_t begin, int64_t end) {
    std::vector<const float*> ptr(static_cast<size_t>(taps * mr));
    std::vector<int64_t> base(static_cast<size_t>(taps * mr));  // x offset of each (tap, row), or -1
    std::vector<float> rows(gather ? static_cast<size_t>(mr * taps * cg) : 0);
    const int64_t first_tile = begin * kTilesPerTask;
    // Output pixel p0 of the current tile as (n, oh, ow), advanced tile by tile (no divisions per tile).
    int64_t tn = first_tile * mr / (s.oh * s.ow), toh = first_tile * mr / s.ow % s.oh, tow = first_tile * mr % s.ow;
    for (int64_t tile = first_tile; tile < std::min(tiles, end * kTilesPerTask); ++tile) {
      const int64_t p0 = tile * mr;
      const int mv = static_cast<int>(std::min<int64_t>(mr, pixels - p0));
      // An interior tile: MR pixels in one output row with every tap inside the input. Its pointer table
      // is the first pixel's tap (0, 0) plus fixed offsets: a fraction of input_offsets' per-pixel,
      // per-tap bounds checks, which took ~5 % of the ResNet 3x3 forward.
      const int64_t ih0 = toh * s.stride_h - s.pad_top, iw0 = tow * s.stride_w - s.pad_left;
      const bool interior = !gather && mv == mr && tow + mr <= s.ow && ih0 >= 0 &&
                            ih0 + (s.kh - 1) * s.dilation_h < s.h && iw0 >= 0 &&
                            iw0 + (mr - 1) * s.stride_w + (s.kw - 1) * s.dilation_w < s.w;
      const float* const corner = interior ? x + ((tn * s.h + ih0) * s.w + iw0) * s.c : nullptr;
      if (!gather && !interior) input_offsets(s, p0, mv, mr, base.data());
      tow += mr;
      while (tow >= s.ow) {
        tow -= s.ow;
        if (++toh == s.oh) toh = 0, ++tn;
      }
      // Prefetch (for writing) the y rows of the tile kPrefetchTiles ahead, so the stores of the tile's
      // epilogue do not wait for their lines.
      if (tile + kPrefetchTiles < tiles) {
        const char* yp = reinterpret_cast<const char*>(y + (tile + kPrefetchTiles) * mr * s.oc);
        const int64_t bytes = std::min<int64_t>(mr, pixels - (tile + kPrefetchTiles) * mr) * s.oc * 4;
        for (int64_t off = 0; off < bytes; off += 64) __builtin_prefetch(yp + off, 1, 3);
      }
      for (int64_t g = 0; g < s.groups; ++g) {
        int64_t ks = taps, kc = cg;
        if (gather) {
          // Few channels: copy the tile's taps x Cg inputs into one row per pixel, so the micro-kernel
          // runs one long K loop instead of KH*KW loops of Cg (1 or 3) steps with a pointer load each.
          gather_tile(s, x + g * cg, p0, mv, mr, taps * cg, rows.data());
          for (int i = 0; i < mr; ++i) ptr[i] = rows.data() + i * taps * cg;
          ks = 1;
          kc = taps * cg;
        } else if (interior) {
          const float** table = ptr.data();
          for (int64_t t = 0; t < taps; ++t) {
            const float* p = corner + tap_offset[t] + g * cg;
            for (int i = 0; i < mr; ++i) *table++ = p + i * pixel_step;
          }
        } else {
          for (int64_t k = 0; k < taps * mr; ++k) ptr[k] = base[k] < 0 ? zero.data() : x + base[k] + g * cg;
        }
        for (int64_t q = 0; q < panels; ++q) {
          const int64_t o0 = g * ocg + q * nr;
          const int nv = static_cast<int>(std::min<int64_t>(nr, ocg - q * nr));
          uk.fn(ks, kc, ptr.data(), wp + (g * panels + q) * panel_size, y + p0 * s.oc + o0, s.oc, mv, nv,
                bias != nullptr ? bias + o0 : nullptr, relu);
        }
      }
      if (activate_after) apply_activation(y + p0 * s.oc, mv * s.oc, e);
    }
  });
}

// Few input channels, one group, no horizontal dilation (the first layer of an image model, C = 1 or 3):
// the KW*C inputs one output pixel reads in one kernel row are adjacent in x, so the igemm reads them in
// place, one pointer per (kernel row, pixel): ks = KH, kc = KW*C, the same (tap, ci) order as the packed
// filter. Padding: each task first copies the input rows of its band of output rows into a zero-bordered
// buffer (<= kRowBandFloats floats, or one band row), so no pointer needs a bounds check and no pixel's
// taps are gathered one by one (the gather of forward_igemm dominated LeNet conv1). Tasks own (image,
// band of output rows); every output is one micro-kernel call, summed in the order of forward_igemm.
void forward_igemm_rows(const Conv2dShape& s, const Conv2dEpilogue& e, const float* x, const float* w,
                        const float* bias, float* y, const ConvIgemmUkernel& uk) {
  const int mr = uk.mr, nr = uk.nr;
  const int64_t panels = ceil_div(s.oc, nr);
  const int64_t panel_size = s.kh * s.kw * s.c * nr;
  const AlignedFloats packed = pack_filter(s, w, nr);
  const float* wp = packed.get();
  const std::vector<float> zero(static_cast<size_t>(s.kw * s.c), 0.0f);
  const bool relu = e.activation == GemmActivation::relu;
  const bool activate_after = e.activation != GemmActivation::none && !relu;

  const int64_t row_floats = (s.pad_left + s.w + s.pad_right) * s.c;  // one zero-bordered input row
  const int64_t band = std::clamp<int64_t>(kRowBandFloats / (row_floats * s.stride_h), 1, s.oh);
  const int64_t bands = ceil_div(s.oh, band);
  const int64_t band_rows = (band - 1) * s.stride_h + (s.kh - 1) * s.dilation_h + 1;
  const double task_work = static_cast<double>(band) * s.ow * s.kh * s.kw * s.c * s.oc;
  parallel_for(s.n * bands, grain_for(task_work), [&](int64_t begin, int64_t end) {
    std::vector<float> rows(static_cast<size_t>(band_rows * row_floats));
    std::vector<const float*> ptr(static_cast<size_t>(s.kh * mr));
    for (int64_t task = begin; task < end; ++task) {
      const int64_t n = task / bands, oh0 = task % bands * band, oh1 = std::min(s.oh, oh0 + band);
      // rows[r] = input row oh0*sh - pt + r with pl and pr zero columns around it (all zero outside x).
      const int64_t ih0 = oh0 * s.stride_h - s.pad_top;
      const int64_t used = (oh1 - 1 - oh0) * s.stride_h + (s.kh - 1) * s.dilation_h + 1;
      for (int64_t r = 0; r < used; ++r) {
        float* dst = rows.data() + r * row_floats;
        const int64_t ih = ih0 + r;
        if (ih < 0 || ih >= s.h) {
          std::fill(dst, dst + row_floats, 0.0f);
          continue;
        }
        std::fill(dst, dst + s.pad_left * s.c, 0.0f);
        std::copy_n(x + (n * s.h + ih) * s.w * s.c, s.w * s.c, dst + s.pad_left * s.c);
        std::fill(dst + (s.pad_left + s.w) * s.c, dst + row_floats, 0.0f);
      }
      const int64_t pixels = (oh1 - oh0) * s.ow;
      float* y_band = y + (n * s.oh + oh0) * s.ow * s.oc;
      for (int64_t p0 = 0; p0 < pixels; p0 += mr) {
        const int mv = static_cast<int>(std::min<int64_t>(mr, pixels - p0));
        for (int i = 0; i < mr; ++i) {
          const int64_t p = p0 + i, r = p / s.ow * s.stride_h, col = p % s.ow * s.stride_w * s.c;
          for (int64_t kh = 0; kh < s.kh; ++kh) {
            ptr[kh * mr + i] = i < mv ? rows.data() + (r + kh * s.dilation_h) * row_floats + col : zero.data();
          }
        }
        for (int64_t q = 0; q < panels; ++q) {
          const int nv = static_cast<int>(std::min<int64_t>(nr, s.oc - q * nr));
          uk.fn(s.kh, s.kw * s.c, ptr.data(), wp + q * panel_size, y_band + p0 * s.oc + q * nr, s.oc, mv, nv,
                bias != nullptr ? bias + q * nr : nullptr, relu);
        }
        if (activate_after) apply_activation(y_band + p0 * s.oc, mv * s.oc, e);
      }
    }
  });
}

// 1x1, stride 1, no padding: y[N*H*W, OCg] = x[N*H*W, Cg] · w[Cg, OCg] per group, straight to tf::gemm
// on strided views (no copy). Bias is fused into the GEMM epilogue; the activation runs on each block of
// rows right after its GEMM, while it is still in cache (the GEMM's own relu maps NaN to 0, conv keeps it).
void forward_pointwise(const Conv2dShape& s, const Conv2dEpilogue& e, const float* x, const float* w,
                       const float* bias, float* y) {
  const int64_t cg = s.c_per_group(), ocg = s.oc_per_group();
  const int64_t pixels = s.n * s.h * s.w;
  // Rows per GEMM call: large enough that repacking w per call is noise, small enough to stay in L2.
  const int64_t rows = e.activation == GemmActivation::none ? pixels : std::max<int64_t>(256, (1 << 18) / s.oc);
  for (int64_t p0 = 0; p0 < pixels; p0 += rows) {
    const int64_t m = std::min(rows, pixels - p0);
    for (int64_t g = 0; g < s.groups; ++g) {
      GemmArgs a;
      a.m = m;
      a.n = ocg;
      a.k = cg;
      a.a = x + p0 * s.c + g * cg;
      a.lda = s.c;
      a.b = w + g * ocg;
      a.ldb = s.oc;
      a.c = y + p0 * s.oc + g * ocg;
      a.ldc = s.oc;
      a.bias = bias != nullptr ? bias + g * ocg : nullptr;
      gemm(a);
    }
    if (e.activation != GemmActivation::none) {
      float* yb = y + p0 * s.oc;
      parallel_for(m, grain_for(static_cast<double>(s.oc) * 8), [&](int64_t begin, int64_t end) {
        apply_activation(yb + begin * s.oc, (end - begin) * s.oc, e);
      });
    }
  }
}

// --- backward-input -------------------------------------------------------------------------------

// dx [N,H,W,C] <- dy [N,OH,OW,OC], w [KH,KW,Cg,OC]
// dx[n,ih,iw,g*Cg+ci] = Σ_{taps (kh,kw) with oh = (ih+pt-kh*dh)/sh, ow = (iw+pl-kw*dw)/sw exact and in range}
//                       Σ_o dy[n,oh,ow,g*OCg+o] · w[kh,kw,ci,g*OCg+o]
// Which taps divide exactly depends only on the stride phase (ih mod sh, iw mod sw), so the dx pixels of
// one image row and one column phase (iw = pw, pw+sw, ...) form tiles that share one tap list and one
// packed filter wt[g][phase][q][tap of phase][o][NR] (q: block of NR input channels). The tile's rows are
// sw*C apart in dx: the micro-kernel's row stride. Tasks own whole dx rows.
void backward_input_igemm(const Conv2dShape& s, float* dx, const float* dy, const float* w,
                          const ConvIgemmUkernel& uk) {
  const int64_t cg = s.c_per_group(), ocg = s.oc_per_group(), taps = s.kh * s.kw;
  const int mr = uk.mr, nr = uk.nr;
  const int64_t panels = ceil_div(cg, nr);
  const int64_t phases = s.stride_h * s.stride_w;
  auto divides = [](int64_t v, int64_t stride) { return ((v % stride) + stride) % stride == 0; };
  // Tap lists per phase (each tap belongs to exactly one phase) and their offsets in the packed filter.
  std::vector<std::vector<int64_t>> phase_taps(static_cast<size_t>(phases));
  for (int64_t ph = 0; ph < s.stride_h; ++ph)
    for (int64_t pw = 0; pw < s.stride_w; ++pw)
      for (int64_t t = 0; t < taps; ++t)
        if (divides(ph + s.pad_top - (t / s.kw) * s.dilation_h, s.stride_h) &&
            divides(pw + s.pad_left - (t % s.kw) * s.dilation_w, s.stride_w))
          phase_taps[ph * s.stride_w + pw].push_back(t);
  std::vector<int64_t> phase_offset(static_cast<size_t>(phases) + 1, 0);  // in units of ocg*nr per tap
  for (int64_t f = 0; f < phases; ++f) phase_offset[f + 1] = phase_offset[f] + static_cast<int64_t>(phase_taps[f].size());
  const int64_t block = ocg * nr;                          // one tap of one panel
  const int64_t group_size = phase_offset[phases] * panels * block;  // == taps*panels*block when all taps used

  AlignedFloats packed(s.groups * group_size);
  float* wt = packed.get();
  parallel_for(s.groups * phases, 1, [&](int64_t begin, int64_t end) {
    for (int64_t gf = begin; gf < end; ++gf) {
      const int64_t g = gf / phases, f = gf % phases;
      const int64_t ntaps = static_cast<int64_t>(phase_taps[f].size());
      for (int64_t q = 0; q < panels; ++q) {
        const int64_t valid = std::min<int64_t>(nr, cg - q * nr);
        float* dst = wt + g * group_size + (phase_offset[f] * panels + q * ntaps) * block;
        for (int64_t ti = 0; ti < ntaps; ++ti) {
          const float* src = w + phase_taps[f][ti] * cg * s.oc + g * ocg;
          for (int64_t o = 0; o < ocg; ++o, dst += nr) {
            for (int64_t j = 0; j < valid; ++j) dst[j] = src[(q * nr + j) * s.oc + o];
            for (int64_t j = valid; j < nr; ++j) dst[j] = 0.0f;
          }
        }
      }
    }
  });
  const std::vector<float> zero(static_cast<size_t>(ocg), 0.0f);

  if (phases == 1) {
    // Stride 1: every tap serves every dx pixel, and consecutive dx pixels are C floats apart across row
    // ends too, so tiles of MR pixels run through dx in order as in the forward pass (a row of W = 56
    // no longer leaves a partial tile: 60 rows computed for 56). Each dx element is still one
    // micro-kernel row summed over the same taps in the same order: the same bits as per-row tiles.
    // ResNet 3x3 64 -> 64, N = 32, AVX-512, 1 thread: 48.6 vs 52.7 ms for per-row tiles.
    const int64_t pixels = s.n * s.h * s.w;
    const int64_t tiles = ceil_div(pixels, mr), tasks = ceil_div(tiles, kTilesPerTask);
    std::vector<int64_t> tap_kh(static_cast<size_t>(taps)), tap_kw(static_cast<size_t>(taps));
    for (int64_t t = 0; t < taps; ++t) {
      tap_kh[t] = s.pad_top - t / s.kw * s.dilation_h;   // oh = ih + tap_kh
      tap_kw[t] = s.pad_left - t % s.kw * s.dilation_w;  // ow = iw + tap_kw
    }
    // As in forward_igemm, interior tiles (MR pixels of one dx row, every tap's dy pixel inside) take
    // their pointer table from the tile's first pixel and fixed per-tap offsets.
    std::vector<int64_t> tap_offset(static_cast<size_t>(taps));
    for (int64_t t = 0; t < taps; ++t) tap_offset[t] = (tap_kh[t] * s.ow + tap_kw[t]) * s.oc;
    const int64_t kh_lo = *std::min_element(tap_kh.begin(), tap_kh.end()), kh_hi = *std::max_element(tap_kh.begin(), tap_kh.end());
    const int64_t kw_lo = *std::min_element(tap_kw.begin(), tap_kw.end()), kw_hi = *std::max_element(tap_kw.begin(), tap_kw.end());
    const double task_work = static_cast<double>(kTilesPerTask) * mr * taps * cg * s.oc;
    parallel_for(tasks, grain_for(task_work), [&](int64_t begin, int64_t end) {
      std::vector<const float*> ptr(static_cast<size_t>(taps * mr));
      std::vector<int64_t> base(static_cast<size_t>(taps * mr));  // dy offset of each (tap, row), or -1
      const int64_t first_tile = begin * kTilesPerTask;
      int64_t tn = first_tile * mr / (s.h * s.w), tih = first_tile * mr / s.w % s.h, tiw = first_tile * mr % s.w;
      for (int64_t tile = first_tile; tile < std::min(tiles, end * kTilesPerTask); ++tile) {
        const int64_t p0 = tile * mr;
        const int mv = static_cast<int>(std::min<int64_t>(mr, pixels - p0));
        const bool interior = mv == mr && tiw + mr <= s.w && tih + kh_lo >= 0 && tih + kh_hi < s.oh &&
                              tiw + kw_lo >= 0 && tiw + mr - 1 + kw_hi < s.ow;
        const float* const corner = interior ? dy + ((tn * s.oh + tih) * s.ow + tiw) * s.oc : nullptr;
        int64_t n = tn, ih = tih, iw = tiw;
        tiw += mr;
        while (tiw >= s.w) {
          tiw -= s.w;
          if (++tih == s.h) tih = 0, ++tn;
        }
        for (int i = 0; i < mr && !interior; ++i) {
          for (int64_t t = 0; t < taps; ++t) {
            const int64_t oh = ih + tap_kh[t], ow = iw + tap_kw[t];
            const bool inside = i < mv && oh >= 0 && oh < s.oh && ow >= 0 && ow < s.ow;
            base[t * mr + i] = inside ? ((n * s.oh + oh) * s.ow + ow) * s.oc : -1;
          }
          if (++iw == s.w) {
            iw = 0;
            if (++ih == s.h) {
              ih = 0;
              ++n;
            }
          }
        }
        // As in forward_igemm: the dx rows of the tile kPrefetchTiles ahead, for writing.
        if (tile + kPrefetchTiles < tiles) {
          const char* dp = reinterpret_cast<const char*>(dx + (tile + kPrefetchTiles) * mr * s.c);
          const int64_t bytes = std::min<int64_t>(mr, pixels - (tile + kPrefetchTiles) * mr) * s.c * 4;
          for (int64_t off = 0; off < bytes; off += 64) __builtin_prefetch(dp + off, 1, 3);
        }
        for (int64_t g = 0; g < s.groups; ++g) {
          if (interior) {
            const float** table = ptr.data();
            for (int64_t t = 0; t < taps; ++t) {
              const float* p = corner + tap_offset[t] + g * ocg;
              for (int i = 0; i < mr; ++i) *table++ = p + i * s.oc;
            }
          } else {
            for (int64_t k = 0; k < taps * mr; ++k) ptr[k] = base[k] < 0 ? zero.data() : dy + base[k] + g * ocg;
          }
          const float* wg = wt + g * group_size;
          for (int64_t q = 0; q < panels; ++q) {
            const int nv = static_cast<int>(std::min<int64_t>(nr, cg - q * nr));
            uk.fn(taps, ocg, ptr.data(), wg + q * taps * block, dx + p0 * s.c + g * cg + q * nr, s.c, mv, nv, nullptr,
                  false);
          }
        }
      }
    });
    return;
  }

  const double row_work = static_cast<double>(s.w) * taps * cg * s.oc / static_cast<double>(phases);
  parallel_for(s.n * s.h, grain_for(row_work), [&](int64_t begin, int64_t end) {
    std::vector<const float*> ptr(static_cast<size_t>(taps * mr));
    std::vector<int64_t> base(static_cast<size_t>(taps * mr));  // dy offset of each (tap, row), or -1
    // Per tap of the current row and phase: dy's output row offset (-1 when that row is outside dy) and
    // the output column of the phase's first pixel, so the per-tile loop below needs no division.
    std::vector<int64_t> row_base(static_cast<size_t>(taps)), ow0(static_cast<size_t>(taps));
    for (int64_t row = begin; row < end; ++row) {
      const int64_t n = row / s.h, ih = row % s.h;
      for (int64_t pw = 0; pw < std::min(s.stride_w, s.w); ++pw) {
        const int64_t f = (ih % s.stride_h) * s.stride_w + pw;
        const std::vector<int64_t>& tap_list = phase_taps[f];
        const int64_t ntaps = static_cast<int64_t>(tap_list.size());
        const int64_t count = ceil_div(s.w - pw, s.stride_w);  // dx pixels iw = pw + j*sw of this phase
        for (int64_t ti = 0; ti < ntaps; ++ti) {
          const int64_t kh = tap_list[ti] / s.kw, kw = tap_list[ti] % s.kw;
          // Both are exact multiples of the stride for the taps of this phase.
          const int64_t th = ih + s.pad_top - kh * s.dilation_h;
          const int64_t tw0 = pw + s.pad_left - kw * s.dilation_w;
          row_base[ti] = th >= 0 && th / s.stride_h < s.oh ? (n * s.oh + th / s.stride_h) * s.ow : -1;
          ow0[ti] = tw0 / s.stride_w;  // the column of pixel j is ow0 + j
        }
        for (int64_t j0 = 0; j0 < count; j0 += mr) {
          const int mv = static_cast<int>(std::min<int64_t>(mr, count - j0));
          for (int64_t ti = 0; ti < ntaps; ++ti) {
            for (int i = 0; i < mr; ++i) {
              const int64_t ow = ow0[ti] + j0 + i;
              const bool inside = i < mv && row_base[ti] >= 0 && ow >= 0 && ow < s.ow;
              base[ti * mr + i] = inside ? (row_base[ti] + ow) * s.oc : -1;
            }
          }
          float* dx_tile = dx + ((n * s.h + ih) * s.w + pw + j0 * s.stride_w) * s.c;
          for (int64_t g = 0; g < s.groups; ++g) {
            for (int64_t k = 0; k < ntaps * mr; ++k) ptr[k] = base[k] < 0 ? zero.data() : dy + base[k] + g * ocg;
            const float* wg = wt + g * group_size + phase_offset[f] * panels * block;
            for (int64_t q = 0; q < panels; ++q) {
              const int nv = static_cast<int>(std::min<int64_t>(nr, cg - q * nr));
              uk.fn(ntaps, ocg, ptr.data(), wg + q * ntaps * block, dx_tile + g * cg + q * nr, s.stride_w * s.c, mv,
                    nv, nullptr, false);
            }
          }
        }
      }
    }
  });
}

// Few input channels (Cg < kGatherChannels): the igemm above would run over Cg columns padded to NR.
// Instead, per image n, per band of output rows (dcol buffer <= kBandFloats floats, at least one row):
//   dcol [pixels of band, KH*KW*Cg] = dy rows (read in place) · wᵀ   (igemm with one tap, K = OCg)
//   dx[n] += col2im(dcol)   scattered in pixel order
// Tasks own whole images, so the scatter order, and every dx bit, is fixed for any thread count.
void backward_input_few_channels(const Conv2dShape& s, float* dx, const float* dy, const float* w,
                                 const ConvIgemmUkernel& uk) {
  constexpr int64_t kBandFloats = int64_t{1} << 16;
  const int64_t cg = s.c_per_group(), ocg = s.oc_per_group(), taps = s.kh * s.kw;
  const int64_t k2 = taps * cg;  // dcol columns: (tap, ci), the row order of w
  const int mr = uk.mr, nr = uk.nr;
  const int64_t panels = ceil_div(k2, nr);
  const int64_t panel_size = ocg * nr;
  // wt[g][q][o][j] = w[(q*NR + j)*OC + g*OCg + o]
  AlignedFloats packed(s.groups * panels * panel_size);
  float* wt = packed.get();
  for (int64_t g = 0; g < s.groups; ++g)
    for (int64_t q = 0; q < panels; ++q) {
      const int64_t valid = std::min<int64_t>(nr, k2 - q * nr);
      float* dst = wt + (g * panels + q) * panel_size;
      for (int64_t o = 0; o < ocg; ++o, dst += nr) {
        for (int64_t j = 0; j < valid; ++j) dst[j] = w[(q * nr + j) * s.oc + g * ocg + o];
        for (int64_t j = valid; j < nr; ++j) dst[j] = 0.0f;
      }
    }
  const std::vector<float> zero(static_cast<size_t>(ocg), 0.0f);
  const int64_t band = std::clamp<int64_t>(kBandFloats / (s.ow * k2), 1, s.oh);
  const bool contiguous = s.groups == 1 && s.dilation_w == 1;
  // The active ISA's run adder (conv_width_ukernels.h), or null without one (plain loops below).
  const ConvWidthUkernel* width = width_ukernel();
  const ConvAddRunsFn runs = width != nullptr ? width->add_runs : nullptr;

  const double image_work = static_cast<double>(s.oh) * s.ow * k2 * s.oc;
  parallel_for(s.n, grain_for(image_work), [&](int64_t begin, int64_t end) {
    std::vector<float> dcol(static_cast<size_t>(ceil_div(band * s.ow, mr) * mr * k2));
    std::vector<const float*> ptr(static_cast<size_t>(mr));
    for (int64_t n = begin; n < end; ++n) {
      float* dxn = dx + n * s.h * s.w * s.c;
      std::fill(dxn, dxn + s.h * s.w * s.c, 0.0f);
      for (int64_t oh0 = 0; oh0 < s.oh; oh0 += band) {
        const int64_t pixels = std::min(band, s.oh - oh0) * s.ow;
        const float* dy_band = dy + (n * s.oh + oh0) * s.ow * s.oc;
        for (int64_t g = 0; g < s.groups; ++g) {
          for (int64_t p0 = 0; p0 < pixels; p0 += mr) {
            const int mv = static_cast<int>(std::min<int64_t>(mr, pixels - p0));
            for (int i = 0; i < mr; ++i) ptr[i] = i < mv ? dy_band + (p0 + i) * s.oc + g * ocg : zero.data();
            for (int64_t q = 0; q < panels; ++q) {
              const int nv = static_cast<int>(std::min<int64_t>(nr, k2 - q * nr));
              uk.fn(1, ocg, ptr.data(), wt + (g * panels + q) * panel_size, dcol.data() + p0 * k2 + q * nr, k2, mv,
                    nv, nullptr, false);
            }
          }
          // col2im: scatter each pixel's (tap, ci) values to the inputs it read.
          if (contiguous && runs != nullptr) {
            // Per output row and kernel row: the pixels whose taps all fall inside the row add one run of
            // KW*Cg floats each (one add_runs call), the clipped ones at the borders a shorter run, in
            // pixel order. A dx element only hears from one kernel row per output row, so its additions
            // come in the same (oh, ow) order as in the per-pixel loop below: the same bits.
            for (int64_t r = 0; r < pixels / s.ow; ++r) {
              const int64_t oh = oh0 + r;
              const float* src_row = dcol.data() + r * s.ow * k2;
              for (int64_t kh = 0; kh < s.kh; ++kh) {
                const int64_t ih = oh * s.stride_h - s.pad_top + kh * s.dilation_h;
                if (ih < 0 || ih >= s.h) continue;
                float* dx_row = dxn + ih * s.w * s.c;
                auto clipped = [&](int64_t ow) {
                  const int64_t iw0 = ow * s.stride_w - s.pad_left;
                  const int64_t kw_lo = std::clamp<int64_t>(-iw0, 0, s.kw);
                  const int64_t kw_hi = std::clamp<int64_t>(s.w - iw0, kw_lo, s.kw);
                  runs(1, (kw_hi - kw_lo) * cg, src_row + ow * k2 + (kh * s.kw + kw_lo) * cg, 0,
                       dx_row + (iw0 + kw_lo) * s.c, 0);
                };
                // Interior pixels: iw0 >= 0 and iw0 + KW - 1 < W.
                const int64_t ow_lo = std::min(s.ow, ceil_div(s.pad_left, s.stride_w));
                const int64_t ow_hi = std::max(ow_lo, std::min(s.ow, s.w - s.kw + s.pad_left >= 0
                                                                         ? (s.w - s.kw + s.pad_left) / s.stride_w + 1
                                                                         : 0));
                for (int64_t ow = 0; ow < ow_lo; ++ow) clipped(ow);
                if (ow_hi > ow_lo) {
                  runs(ow_hi - ow_lo, s.kw * cg, src_row + ow_lo * k2 + kh * s.kw * cg, k2,
                       dx_row + (ow_lo * s.stride_w - s.pad_left) * s.c, s.stride_w * s.c);
                }
                for (int64_t ow = ow_hi; ow < s.ow; ++ow) clipped(ow);
              }
            }
            continue;
          }
          for (int64_t p = 0; p < pixels; ++p) {
            const int64_t oh = oh0 + p / s.ow, ow = p % s.ow;
            const float* src = dcol.data() + p * k2;
            const int64_t iw0 = ow * s.stride_w - s.pad_left;
            for (int64_t kh = 0; kh < s.kh; ++kh) {
              const int64_t ih = oh * s.stride_h - s.pad_top + kh * s.dilation_h;
              if (ih < 0 || ih >= s.h) continue;
              if (contiguous) {
                // The inside taps of this row are one run of dx, in the order of dcol's (kw, ci).
                int64_t kw_lo = 0, kw_hi = s.kw;
                while (kw_lo < s.kw && iw0 + kw_lo < 0) ++kw_lo;
                while (kw_hi > kw_lo && iw0 + kw_hi - 1 >= s.w) --kw_hi;
                float* __restrict d = dxn + (ih * s.w + iw0 + kw_lo) * s.c;
                const float* __restrict v = src + (kh * s.kw + kw_lo) * cg;
                for (int64_t i = 0; i < (kw_hi - kw_lo) * cg; ++i) d[i] += v[i];
                continue;
              }
              for (int64_t kw = 0; kw < s.kw; ++kw) {
                const int64_t iw = ow * s.stride_w - s.pad_left + kw * s.dilation_w;
                if (iw < 0 || iw >= s.w) continue;
                float* d = dxn + (ih * s.w + iw) * s.c + g * cg;
                const float* v = src + (kh * s.kw + kw) * cg;
                for (int64_t ci = 0; ci < cg; ++ci) d[ci] += v[ci];
              }
            }
          }
        }
      }
    }
  });
}

// 1x1, stride 1, no padding: dx[N*H*W, Cg] = dy[N*H*W, OCg] · w[Cg, OCg]ᵀ per group, straight to tf::gemm
// (the transpose is handled by its packing).
void backward_input_pointwise(const Conv2dShape& s, float* dx, const float* dy, const float* w) {
  const int64_t cg = s.c_per_group(), ocg = s.oc_per_group();
  for (int64_t g = 0; g < s.groups; ++g) {
    GemmArgs a;
    a.m = s.n * s.h * s.w;
    a.n = cg;
    a.k = ocg;
    a.a = dy + g * ocg;
    a.lda = s.oc;
    a.b = w + g * ocg;  // op(B)[o, ci] = w[ci, g*OCg + o]: B stored [n, k] with row stride OC
    a.ldb = s.oc;
    a.trans_b = true;
    a.c = dx + g * cg;
    a.ldc = s.c;
    gemm(a);
  }
}

}  // namespace tf::conv_detail
