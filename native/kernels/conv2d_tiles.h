// Helpers shared by the GEMM-shaped convolution paths (conv2d_gemm.cc, conv2d_filter.cc): an aligned
// buffer for packed panels, grain sizes, short copies, and the two ways of reading a tile of output
// pixels' inputs: their x offsets per tap (input_offsets), or gathered into rows (gather_tile).
// Internal header.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>

#include "kernels/conv_shape.h"

namespace tf::conv_detail {

inline int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

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

inline int64_t grain_for(double work_per_item) {
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
inline void input_offsets(const Conv2dShape s, int64_t p0, int mv, int mr, int64_t* base) {
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
inline void gather_tile(const Conv2dShape s, const float* xg, int64_t p0, int64_t mv, int64_t mr, int64_t ld, float* rows) {
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

}  // namespace tf::conv_detail
