// GEMM-shaped convolution paths (see conv2d_paths.h): indirect GEMM for forward and backward-input,
// tf::gemm over bounded im2col tiles for backward-filter, tf::gemm directly for pointwise (1x1) layers.
//
// Determinism: every output tile is computed start to finish by one task (forward, backward-input), or
// by tf::gemm, which is itself bit-identical for any thread count, called on tiles whose boundaries
// depend only on the shape and accumulated in tile order (backward-filter). The thread count never
// changes how any output is summed.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <new>
#include <vector>

#include "kernels/conv2d_paths.h"
#include "kernels/gemm.h"
#include "runtime/dispatch.h"
#include "runtime/thread_pool.h"

namespace tf::conv_detail {
namespace {

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// Output tiles (of MR pixels) per forward task: fixed, so the split never depends on the thread count.
constexpr int64_t kTilesPerTask = 8;
// Backward-filter reductions over pixels are cut into at most this many parts, fixed by the shape; the
// parts run in parallel and their partial sums are added in part order.
constexpr int64_t kFilterParts = 16;
// Backward-filter im2col tile: at most this many floats (1 MiB), or one GEMM K block if a single pixel
// row of the tile is wider. This is the only workspace that grows with the layer, and it never grows
// with the batch.
constexpr int64_t kFilterTileFloats = int64_t{1} << 18;

// Packed filter panels (read with aligned vector loads by the micro-kernels).
class AlignedFloats {
 public:
  explicit AlignedFloats(int64_t n)
      : data_(static_cast<float*>(::operator new(static_cast<size_t>(std::max<int64_t>(n, 1)) * sizeof(float),
                                                 std::align_val_t{64}))) {}
  float* get() const { return data_.get(); }

 private:
  struct Free {
    void operator()(float* p) const { ::operator delete(p, std::align_val_t{64}); }
  };
  std::unique_ptr<float, Free> data_;
};

int64_t grain_for(double work_per_item) {
  constexpr double kMinWorkPerRange = 32 * 1024;
  if (work_per_item >= kMinWorkPerRange) return 1;
  return static_cast<int64_t>(kMinWorkPerRange / std::max(1.0, work_per_item));
}

// dst[0, n) = src[0, n) for the short runs of gathering and packing (a kernel row of a few channels, an
// MR or NR run): fixed-size chunks the compiler inlines, where a std::copy of a run-time length becomes a
// call to memmove per run.
inline void copy_short(const float* src, int64_t n, float* dst) {
  int64_t k = 0;
  for (; k + 8 <= n; k += 8) std::memcpy(dst + k, src + k, 8 * sizeof(float));
  if (k + 4 <= n) {
    std::memcpy(dst + k, src + k, 4 * sizeof(float));
    k += 4;
  }
  switch (n - k) {
    case 3: dst[k + 2] = src[k + 2]; [[fallthrough]];
    case 2: dst[k + 1] = src[k + 1]; [[fallthrough]];
    case 1: dst[k] = src[k]; break;
    default: break;
  }
}

// base[t*mr + i] = offset in x of the input pixel that output pixel p0+i reads at tap t, or -1 when
// that tap falls into the padding or i >= mv. The shape is taken by value so its fields stay in
// registers (through a reference, every store to base would force them to be reloaded).
void input_offsets(const Conv2dShape s, int64_t p0, int mv, int mr, int64_t* base) {
  int64_t n = p0 / (s.oh * s.ow), oh = p0 / s.ow % s.oh, ow = p0 % s.ow;
  for (int i = 0; i < mr; ++i) {
    const int64_t ih0 = oh * s.stride_h - s.pad_top, iw0 = ow * s.stride_w - s.pad_left;
    const int64_t image = n * s.h;
    int64_t* b = base + i;
    for (int64_t kh = 0; kh < s.kh; ++kh) {
      const int64_t ih = ih0 + kh * s.dilation_h;
      const bool row_inside = i < mv && ih >= 0 && ih < s.h;
      for (int64_t kw = 0; kw < s.kw; ++kw, b += mr) {
        const int64_t iw = iw0 + kw * s.dilation_w;
        *b = row_inside && iw >= 0 && iw < s.w ? ((image + ih) * s.w + iw) * s.c : -1;
      }
    }
    if (++ow == s.ow) {
      ow = 0;
      if (++oh == s.oh) {
        oh = 0;
        ++n;
      }
    }
  }
}

// rows[i*ld ...+KH*KW*Cg] = the inputs output pixel p0+i reads (0 in the padding; all 0 for i >= mv),
// from xg = x offset to the group's first channel. Taps outside the input are cut off by row and by column
// range up front, so the copy loops carry no bounds checks.
void gather_tile(const Conv2dShape s, const float* xg, int64_t p0, int64_t mv, int64_t mr, int64_t ld, float* rows) {
  const int64_t cg = s.c_per_group(), k = s.kh * s.kw * cg;
  const bool contiguous = s.groups == 1 && s.dilation_w == 1;
  int64_t n = p0 / (s.oh * s.ow), oh = p0 / s.ow % s.oh, ow = p0 % s.ow;
  for (int64_t i = 0; i < mr; ++i, rows += ld) {
    std::fill(rows, rows + k, 0.0f);
    if (i >= mv) continue;
    const int64_t ih0 = oh * s.stride_h - s.pad_top, iw0 = ow * s.stride_w - s.pad_left;
    // kw in [kw_lo, kw_hi) lands inside the row.
    int64_t kw_lo = 0, kw_hi = s.kw;
    while (kw_lo < s.kw && iw0 + kw_lo * s.dilation_w < 0) ++kw_lo;
    while (kw_hi > kw_lo && iw0 + (kw_hi - 1) * s.dilation_w >= s.w) --kw_hi;
    for (int64_t kh = 0; kh < s.kh; ++kh) {
      const int64_t ih = ih0 + kh * s.dilation_h;
      if (ih < 0 || ih >= s.h) continue;
      const float* src = xg + (n * s.h + ih) * s.w * s.c;
      float* dst = rows + kh * s.kw * cg;
      if (contiguous) {
        // The taps kw_lo..kw_hi-1 of this row are one run of x: (kw, ci) in the same order as in the row.
        if (kw_hi > kw_lo) copy_short(src + (iw0 + kw_lo) * s.c, (kw_hi - kw_lo) * cg, dst + kw_lo * cg);
        continue;
      }
      if (cg == 1) {
        for (int64_t kw = kw_lo; kw < kw_hi; ++kw) dst[kw] = src[(iw0 + kw * s.dilation_w) * s.c];
        continue;
      }
      for (int64_t kw = kw_lo; kw < kw_hi; ++kw) {
        const float* sp = src + (iw0 + kw * s.dilation_w) * s.c;
        for (int64_t ci = 0; ci < cg; ++ci) dst[kw * cg + ci] = sp[ci];
      }
    }
    if (++ow == s.ow) {
      ow = 0;
      if (++oh == s.oh) {
        oh = 0;
        ++n;
      }
    }
  }
}

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
  const std::vector<float> zero(static_cast<size_t>(cg), 0.0f);
  const bool relu = e.activation == GemmActivation::relu;
  const bool activate_after = e.activation != GemmActivation::none && !relu;
  // The packed panel is [tap][ci][NR], i.e. [tap*Cg + ci][NR]: the same panel serves a gathered K.
  const bool gather = cg < kGatherChannels;

  const int64_t pixels = s.n * s.oh * s.ow;
  const int64_t tiles = ceil_div(pixels, mr);
  const int64_t tasks = ceil_div(tiles, kTilesPerTask);
  const double task_work = static_cast<double>(kTilesPerTask) * mr * taps * cg * s.oc;
  parallel_for(tasks, grain_for(task_work), [&](int64_t begin, int64_t end) {
    std::vector<const float*> ptr(static_cast<size_t>(taps * mr));
    std::vector<int64_t> base(static_cast<size_t>(taps * mr));  // x offset of each (tap, row), or -1
    std::vector<float> rows(gather ? static_cast<size_t>(mr * taps * cg) : 0);
    for (int64_t tile = begin * kTilesPerTask; tile < std::min(tiles, end * kTilesPerTask); ++tile) {
      const int64_t p0 = tile * mr;
      const int mv = static_cast<int>(std::min<int64_t>(mr, pixels - p0));
      if (!gather) input_offsets(s, p0, mv, mr, base.data());
      for (int64_t g = 0; g < s.groups; ++g) {
        int64_t ks = taps, kc = cg;
        if (gather) {
          // Few channels: copy the tile's taps x Cg inputs into one row per pixel, so the micro-kernel
          // runs one long K loop instead of KH*KW loops of Cg (1 or 3) steps with a pointer load each.
          gather_tile(s, x + g * cg, p0, mv, mr, taps * cg, rows.data());
          for (int i = 0; i < mr; ++i) ptr[i] = rows.data() + i * taps * cg;
          ks = 1;
          kc = taps * cg;
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

  const double row_work = static_cast<double>(s.w) * taps * cg * s.oc / static_cast<double>(phases);
  parallel_for(s.n * s.h, grain_for(row_work), [&](int64_t begin, int64_t end) {
    std::vector<const float*> ptr(static_cast<size_t>(taps * mr));
    std::vector<int64_t> base(static_cast<size_t>(taps * mr));  // dy offset of each (tap, row), or -1
    for (int64_t row = begin; row < end; ++row) {
      const int64_t n = row / s.h, ih = row % s.h;
      for (int64_t pw = 0; pw < std::min(s.stride_w, s.w); ++pw) {
        const int64_t f = (ih % s.stride_h) * s.stride_w + pw;
        const std::vector<int64_t>& tap_list = phase_taps[f];
        const int64_t ntaps = static_cast<int64_t>(tap_list.size());
        const int64_t count = ceil_div(s.w - pw, s.stride_w);  // dx pixels iw = pw + j*sw of this phase
        for (int64_t j0 = 0; j0 < count; j0 += mr) {
          const int mv = static_cast<int>(std::min<int64_t>(mr, count - j0));
          for (int64_t ti = 0; ti < ntaps; ++ti) {
            const int64_t kh = tap_list[ti] / s.kw, kw = tap_list[ti] % s.kw;
            const int64_t th = ih + s.pad_top - kh * s.dilation_h;
            for (int i = 0; i < mr; ++i) {
              const int64_t tw = pw + (j0 + i) * s.stride_w + s.pad_left - kw * s.dilation_w;
              const int64_t oh = th / s.stride_h, ow = tw / s.stride_w;
              const bool inside = i < mv && th >= 0 && tw >= 0 && oh < s.oh && ow < s.ow;
              base[ti * mr + i] = inside ? ((n * s.oh + oh) * s.ow + ow) * s.oc : -1;
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

// --- backward-filter ------------------------------------------------------------------------------

// dw [KH,KW,Cg,OC], dbias [OC] <- dy [N,OH,OW,OC], x [N,H,W,C]
// Per group: [dw_g ; dbias_g] [K+1, OCg] = Σ over pixel tiles of colᵀ · dy_tile, where
//   col [P, K+1]: col[p, tap*Cg + ci] = x[pixel of p at tap, g*Cg + ci] (0 in the padding), col[p, K] = 1
//   dy_tile [P, OCg]: rows of dy read in place (row stride OC).
// Tiles of P pixels (P a multiple of the GEMM's K block, the im2col tile <= kFilterTileFloats floats,
// one per task) are accumulated in order into a [K+1, OCg] buffer (or its transpose, when that fits the
// GEMM micro-kernel's tile better) per part of consecutive tiles; parts (<= kFilterParts, fixed by the
// shape) run in parallel and are added in part order, so every dw and dbias element is summed in the
// same order for any thread count. Pointwise layers skip im2col: x itself is colᵀ's storage, and dbias
// is then a column sum of dy in the same fixed order.
void backward_filter_gemm(const Conv2dShape& s, float* dw, float* dbias, const float* dy, const float* x) {
  const int64_t cg = s.c_per_group(), ocg = s.oc_per_group(), taps = s.kh * s.kw;
  const int64_t k_rows = taps * cg;
  const int64_t pixels = s.n * s.oh * s.ow;
  const bool pointwise = is_pointwise(s);
  const int64_t rows = k_rows + (dbias != nullptr && !pointwise ? 1 : 0);
  const int64_t kc = gemm_blocking(kernels().gemm).kc;
  const int64_t tile = pointwise ? pixels : kc * std::max<int64_t>(1, kFilterTileFloats / (rows * kc));
  std::vector<float> acc;
  // Orientation: [rows, OCg] or its transpose, whichever wastes less of the micro-kernel's register tile
  // on padding (e.g. LeNet's 6 output channels would fill 6 of 32 columns). Depends on the shape only.
  const GemmUkernel& uk = kernels().gemm;
  auto fill = [](int64_t m, int64_t n, int64_t mr, int64_t nr) {
    return static_cast<double>(m) / static_cast<double>(ceil_div(m, mr) * mr) * static_cast<double>(n) /
           static_cast<double>(ceil_div(n, nr) * nr);
  };
  const bool transposed = fill(ocg, rows, uk.mr, uk.nr) > fill(rows, ocg, uk.mr, uk.nr);

  // Tiles are grouped into <= kFilterParts parts fixed by the shape; a part accumulates its tiles in
  // order on one thread (tf::gemm runs inline inside a pool task), parts are added in part order.
  const int64_t tiles = ceil_div(pixels, tile);
  const int64_t tiles_per_part = ceil_div(tiles, kFilterParts);
  const int64_t parts = ceil_div(tiles, tiles_per_part);
  const int64_t acc_size = rows * ocg;
  acc.resize(static_cast<size_t>(parts * acc_size));
  for (int64_t g = 0; g < s.groups; ++g) {
    parallel_for(parts, 1, [&](int64_t begin, int64_t end) {
      std::vector<float> col(pointwise ? 0 : static_cast<size_t>(std::min(tile, pixels) * rows));
      for (int64_t part = begin; part < end; ++part) {
        float* part_acc = acc.data() + part * acc_size;
        const int64_t first = part * tiles_per_part * tile;
        const int64_t last = std::min(pixels, (part + 1) * tiles_per_part * tile);
        for (int64_t p0 = first; p0 < last; p0 += tile) {
          const int64_t pt = std::min(tile, last - p0);
          GemmArgs a;
          a.m = rows;
          a.n = ocg;
          a.k = pt;
          a.trans_a = true;
          if (pointwise) {
            a.a = x + p0 * s.c + g * cg;
            a.lda = s.c;
          } else {
            gather_tile(s, x + g * cg, p0, pt, pt, rows, col.data());
            if (rows > k_rows) {
              for (int64_t p = 0; p < pt; ++p) col[p * rows + k_rows] = 1.0f;
            }
            a.a = col.data();
            a.lda = rows;
          }
          a.b = dy + p0 * s.oc + g * ocg;
          a.ldb = s.oc;
          a.c = part_acc;
          a.ldc = ocg;
          a.accumulate = p0 > first;
          if (transposed) {
            // accᵀ [OCg, rows] = dy_tileᵀ · col: the same products, tiles that fit OCg better.
            GemmArgs t;
            t.m = ocg;
            t.n = rows;
            t.k = pt;
            t.a = a.b;
            t.lda = a.ldb;
            t.trans_a = true;
            t.b = a.a;
            t.ldb = a.lda;
            t.c = part_acc;
            t.ldc = rows;
            t.accumulate = a.accumulate;
            gemm(t);
          } else {
            gemm(a);
          }
        }
      }
    });
    for (int64_t part = 1; part < parts; ++part) {
      const float* p = acc.data() + part * acc_size;
      for (int64_t i = 0; i < acc_size; ++i) acc[i] += p[i];
    }
    for (int64_t k = 0; k < rows; ++k) {
      float* dst = k < k_rows ? dw + k * s.oc + g * ocg : dbias + g * ocg;
      if (transposed) {
        for (int64_t o = 0; o < ocg; ++o) dst[o] = acc[o * rows + k];
      } else {
        std::copy_n(acc.data() + k * ocg, ocg, dst);
      }
    }
  }
  if (dbias == nullptr || !pointwise) return;
  // Pointwise dbias: column sums of dy, each owned by one task and summed over pixels in order.
  constexpr int64_t kBlock = 16;
  parallel_for(ceil_div(s.oc, kBlock), grain_for(static_cast<double>(pixels) * kBlock), [&](int64_t begin, int64_t end) {
    for (int64_t b = begin; b < end; ++b) {
      const int64_t o0 = b * kBlock, o1 = std::min(s.oc, o0 + kBlock);
      std::fill(dbias + o0, dbias + o1, 0.0f);
      for (int64_t p = 0; p < pixels; ++p) {
        const float* dyp = dy + p * s.oc;
        for (int64_t o = o0; o < o1; ++o) dbias[o] += dyp[o];
      }
    }
  });
}

// Backward-filter on the GEMM micro-kernel of the dispatch table (kernels().gemm), without im2col. It
// computes the transpose of the product above, accᵀ [OCg, K+1] = Σ_blocks dy_blockᵀ · col_block, because
// then both packed operands are long contiguous copies: B panels (NR columns of col) are runs of x's
// channels for one tap (zeros in the padding, ones for the dbias column), A panels (MR rows) are runs of
// dy's channels. Each K block of kc pixels is packed once and fed straight to the micro-kernel, so the
// input is read once per block instead of being written to an im2col tile and re-packed by tf::gemm.
//
// Threading: the output is small and the reduction long, so the pixels are cut into at most
// kFilterParts parts fixed by the shape (never by the thread count); each part accumulates its own
// accᵀ over its K blocks in order on one thread, and the parts are added in part order at the end.
// One parallel_for per call (a barrier per K block costs more than the block on a busy machine).
// Workspace per part: the [OCg, K+1] accumulator, a packed B block (kc x round_up(K+1, NR)), an A panel
// (kc x MR) and the block's pointer offsets (KH*KW*kc).
void backward_filter_packed(const Conv2dShape& s, float* dw, float* dbias, const float* dy, const float* x) {
  const GemmUkernel& uk = kernels().gemm;
  const int mr = uk.mr, nr = uk.nr;
  const int64_t cg = s.c_per_group(), ocg = s.oc_per_group(), taps = s.kh * s.kw;
  const int64_t k_rows = taps * cg;
  const int64_t cols = k_rows + (dbias != nullptr ? 1 : 0);
  const int64_t pixels = s.n * s.oh * s.ow;
  const int64_t kc = gemm_blocking(uk).kc;
  const int64_t m_panels = ceil_div(ocg, mr), n_panels = ceil_div(cols, nr);
  const int64_t blocks = ceil_div(pixels, kc);
  const int64_t blocks_per_part = ceil_div(blocks, kFilterParts);
  const int64_t parts = ceil_div(blocks, blocks_per_part);
  const int64_t acc_size = ocg * cols;
  std::vector<float> acc(static_cast<size_t>(parts * acc_size));

  // The columns of B panel q as runs of x: channels ci.. of taps tap..last of one kernel row (a run spans
  // several taps when their channels are adjacent in x: one group, no horizontal dilation), or a constant
  // (tap < 0: ones for dbias, zeros for padding columns).
  struct Run {
    int64_t tap, last, ci, j, len;
    float fill;
  };
  const bool adjacent_taps = s.groups == 1 && s.dilation_w == 1;
  std::vector<std::vector<Run>> panel_runs(static_cast<size_t>(n_panels));
  for (int64_t q = 0; q < n_panels; ++q) {
    for (int64_t j = 0; j < nr;) {
      const int64_t col = q * nr + j;
      Run run{-1, -1, 0, j, 1, 0.0f};
      if (col < k_rows) {
        run.tap = col / cg;
        run.ci = col % cg;
        const int64_t row_left = adjacent_taps ? (s.kw - run.tap % s.kw) * cg - run.ci : cg - run.ci;
        run.len = std::min<int64_t>(nr - j, row_left);
        run.last = (col + run.len - 1) / cg;
      } else {
        run.fill = col == k_rows && dbias != nullptr ? 1.0f : 0.0f;
      }
      panel_runs[q].push_back(run);
      j += run.len;
    }
  }

  for (int64_t g = 0; g < s.groups; ++g) {
    const float* xg = x + g * cg;
    const float* dyg = dy + g * ocg;
    parallel_for(parts, 1, [&](int64_t begin, int64_t end) {
      AlignedFloats packed_b(n_panels * kc * nr), packed_a(kc * mr);
      float* bp = packed_b.get();
      float* ap = packed_a.get();
      std::vector<int64_t> base(static_cast<size_t>(taps * kc));
      for (int64_t part = begin; part < end; ++part) {
        float* part_acc = acc.data() + part * acc_size;
        const int64_t first = part * blocks_per_part * kc;
        const int64_t last = std::min(pixels, (part + 1) * blocks_per_part * kc);
        for (int64_t p0 = first; p0 < last; p0 += kc) {
          const int64_t kb = std::min(kc, last - p0);
          input_offsets(s, p0, static_cast<int>(kb), static_cast<int>(kb), base.data());  // base[t*kb + p]
          for (int64_t q = 0; q < n_panels; ++q) {
            for (const Run& run : panel_runs[q]) {
              float* d = bp + q * kb * nr + run.j;
              if (run.tap < 0) {
                for (int64_t p = 0; p < kb; ++p) std::fill_n(d + p * nr, run.len, run.fill);
                continue;
              }
              const int64_t* b = base.data() + run.tap * kb;
              const int64_t* b_last = base.data() + run.last * kb;
              const float* src = xg + run.ci;
              for (int64_t p = 0; p < kb; ++p) {
                if (b[p] >= 0 && b_last[p] >= 0) {
                  // First and last tap inside the row: so is every tap between, all adjacent in x.
                  copy_short(src + b[p], run.len, d + p * nr);
                  continue;
                }
                // Some taps of the run fall into the padding: tap by tap.
                for (int64_t u = run.tap, jj = 0; u <= run.last; ++u) {
                  const int64_t c0 = u == run.tap ? run.ci : 0;
                  const int64_t n = std::min(cg - c0, run.len - jj);
                  const int64_t bu = base[u * kb + p];
                  if (bu >= 0) {
                    copy_short(xg + bu + c0, n, d + p * nr + jj);
                  } else {
                    std::fill_n(d + p * nr + jj, n, 0.0f);
                  }
                  jj += n;
                }
              }
            }
          }
          GemmTileEpilogue ep;
          ep.load_c = p0 > first;
          for (int64_t m0 = 0; m0 < m_panels; ++m0) {
            const int64_t o0 = m0 * mr;
            const int mv = static_cast<int>(std::min<int64_t>(mr, ocg - o0));
            if (mv < mr) std::fill(ap, ap + kb * mr, 0.0f);
            for (int64_t p = 0; p < kb; ++p) copy_short(dyg + (p0 + p) * s.oc + o0, mv, ap + p * mr);
            for (int64_t q = 0; q < n_panels; ++q) {
              const int nv = static_cast<int>(std::min<int64_t>(nr, cols - q * nr));
              uk.fn(kb, ap, bp + q * kb * nr, part_acc + o0 * cols + q * nr, cols, mv, nv, ep);
            }
          }
        }
      }
    });
    // Parts added in part order.
    for (int64_t part = 1; part < parts; ++part) {
      const float* p = acc.data() + part * acc_size;
      for (int64_t i = 0; i < acc_size; ++i) acc[i] += p[i];
    }
    for (int64_t o = 0; o < ocg; ++o) {
      const float* a = acc.data() + o * cols;
      for (int64_t k = 0; k < k_rows; ++k) dw[k * s.oc + g * ocg + o] = a[k];
      if (dbias != nullptr) dbias[g * ocg + o] = a[k_rows];
    }
  }
}

}  // namespace tf::conv_detail
