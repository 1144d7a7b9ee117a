// Backward-input vectorized across the output-gradient channels (conv_ocvec_ukernels.h), for layers with
// few input channels and 12..64 output channels at stride 1 (LeNet conv2: 6 -> 16, 5x5). dx has only C
// values per pixel, too few to fill a channel-vectorized tile, and the dcol GEMM + col2im path it replaces
// wrote and re-read a KH*KW*C column per dy pixel; here dx is a correlation of zero-bordered dy with the
// rotated filter, reduced over (kh, kw, 16 dy channels) in registers.
//
//   dx [N,H,W,C] (overwritten) <- dy [N,OH,OW,OC], w [KH,KW,C,OC]
//   dx[n,ih,iw,c] = Σ_{kh: 0 <= oh = ih+pt-kh < OH} Σ_{kw} Σ_o dy[n, oh, iw+pl-kw, o] · w[kh,kw,c,o]
//   (terms with iw+pl-kw outside [0, OW) read zeros).
//
// Forward and backward-filter of the same layers (stride any, no dilation) keep the output channels in the
// vector instead (fwd_row, dw_rows): y [N,OH,OW,OC] <- x, w and dw [KH,KW,C,OC] <- dy, x, with each kernel
// row's KW*C adjacent x floats broadcast against 16 output channels; see forward_ocvec below.
//
// Tasks own whole images (n), so no two write the same dx element and each element's sum is computed by
// one kernel call in a fixed order: bit-identical for any thread count.
// Workspace (floats): the rotated filter KH*KW*C*OCp once per call (OCp = round_up(OC, 16)); per task one
// image's zero-bordered dy, OH*(W+KW-1)*OCp, independent of N.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "kernels/conv2d_paths.h"
#include "kernels/conv2d_tiles.h"
#include "runtime/dispatch.h"
#include "runtime/thread_pool.h"

namespace tf::conv_detail {

const ConvOcvecUkernel* ocvec_ukernel() {
#if defined(TF_HAVE_CONV_OCVEC)
  static const ConvOcvecUkernel scalar{&conv_ocvec_f32__scalar_dx_row, &conv_ocvec_f32__scalar_fwd_row,
                                       &conv_ocvec_f32__scalar_dw_rows, "conv_ocvec_f32__scalar"};
#if defined(TF_HAVE_AVX2)
  static const ConvOcvecUkernel avx2{&conv_ocvec_f32__avx2_fma_dx_row, &conv_ocvec_f32__avx2_fma_fwd_row,
                                       &conv_ocvec_f32__avx2_fma_dw_rows, "conv_ocvec_f32__avx2_fma"};
#endif
#if defined(TF_HAVE_AVX512)
  static const ConvOcvecUkernel avx512{&conv_ocvec_f32__avx512f_dx_row, &conv_ocvec_f32__avx512f_fwd_row,
                                       &conv_ocvec_f32__avx512f_dw_rows, "conv_ocvec_f32__avx512f"};
#endif
#if defined(TF_HAVE_AVX2)
  const ConvOcvecUkernel* avx2_entry = &avx2;
#else
  const ConvOcvecUkernel* avx2_entry = nullptr;
#endif
#if defined(TF_HAVE_AVX512)
  const ConvOcvecUkernel* avx512_entry = &avx512;
#else
  const ConvOcvecUkernel* avx512_entry = nullptr;
#endif
  return entry_for_active_isa(&scalar, avx2_entry, avx512_entry);
#else
  return nullptr;
#endif
}

// One group, stride 1, no dilation, 1 <= C <= 8 (the kernel's register tile), 12 <= OC <= 64 (at most a
// quarter of the 16-lane chunks is padding, and the filter repack stays small), non-empty output.
bool ocvec_backward_input_applies(const Conv2dShape& s) {
  return s.groups == 1 && s.stride_h == 1 && s.stride_w == 1 && s.dilation_h == 1 && s.dilation_w == 1 &&
         s.c >= 1 && s.c <= 8 && s.oc >= 12 && s.oc <= 64 && s.oh > 0 && s.ow > 0;
}

bool backward_input_ocvec(const Conv2dShape& s, float* dx, const float* dy, const float* w, const ConvOcvecUkernel& uk) {
  const int64_t ocp = ceil_div(s.oc, 16) * 16;
  const int64_t taps = s.kh * s.kw;
  // Rotated filter wr[kh][t][c][o] = w[kh][KW-1-t][c][o] (zero for o >= OC). A non-finite weight would
  // meet the zero border (0 · inf = NaN where the plain sum has no such term): the caller keeps its path.
  // 64-byte aligned, like the bordered dy below: rows of 16 floats, so no vector load crosses a cache line.
  AlignedFloats wr_buf(taps * s.c * ocp);
  float* const wr = wr_buf.get();
  std::fill(wr, wr + taps * s.c * ocp, 0.0f);
  for (int64_t kh = 0; kh < s.kh; ++kh) {
    for (int64_t t = 0; t < s.kw; ++t) {
      for (int64_t c = 0; c < s.c; ++c) {
        const float* src = w + ((kh * s.kw + (s.kw - 1 - t)) * s.c + c) * s.oc;
        float* dst = wr + ((kh * s.kw + t) * s.c + c) * ocp;
        for (int64_t o = 0; o < s.oc; ++o) {
          if (!std::isfinite(src[o])) return false;
          dst[o] = src[o];
        }
      }
    }
  }
  // Bordered row: position j holds dy pixel ow = j + pl - (KW-1), zero outside [0, OW).
  const int64_t row_px = s.w + s.kw - 1;
  const int64_t row_len = row_px * ocp;
  const double image_work = static_cast<double>(s.h * s.w) * static_cast<double>(taps * s.c * ocp);
  parallel_for(s.n, grain_for(image_work), [&](int64_t begin, int64_t end) {
    AlignedFloats pad_buf(s.oh * row_len);
    float* const pad = pad_buf.get();
    std::vector<const float*> dyrow(static_cast<size_t>(s.kh)), wrow(static_cast<size_t>(s.kh));
    // Borders and channels >= OC are zero for every image: cleared once per task; each image then only
    // copies its dy pixels in (one run per row when OC fills the 16-lane chunks).
    std::fill(pad, pad + s.oh * row_len, 0.0f);
    const int64_t j0 = std::max<int64_t>(0, s.kw - 1 - s.pad_left);  // first position holding a dy pixel
    const int64_t ow0 = j0 + s.pad_left - (s.kw - 1);
    const int64_t ow1 = std::min(s.ow, row_px + s.pad_left - (s.kw - 1));
    for (int64_t n = begin; n < end; ++n) {
      for (int64_t oh = 0; oh < s.oh && ow1 > ow0; ++oh) {
        const float* src = dy + ((n * s.oh + oh) * s.ow + ow0) * s.oc;
        float* dst = pad + oh * row_len + j0 * ocp;
        if (ocp == s.oc) {
          std::memcpy(dst, src, sizeof(float) * static_cast<size_t>((ow1 - ow0) * s.oc));
          continue;
        }
        for (int64_t ow = ow0; ow < ow1; ++ow, src += s.oc, dst += ocp) {
          std::memcpy(dst, src, sizeof(float) * static_cast<size_t>(s.oc));
        }
      }
      for (int64_t ih = 0; ih < s.h; ++ih) {
        int64_t rows = 0;
        for (int64_t kh = 0; kh < s.kh; ++kh) {
          const int64_t oh = ih + s.pad_top - kh;
          if (oh < 0 || oh >= s.oh) continue;
          dyrow[rows] = pad + oh * row_len;
          wrow[rows] = wr + kh * s.kw * s.c * ocp;
          ++rows;
        }
        uk.dx_row(rows, dyrow.data(), wrow.data(), s.kw, s.c, ocp, s.w, dx + (n * s.h + ih) * s.w * s.c);
      }
    }
  });
  return true;
}

// ---- forward and backward-filter ---------------------------------------------------------------------

// One group, no dilation, 1 <= C <= 8, 12 <= OC <= 32 (one or two 16-lane chunks, at most a quarter of
// the lanes padding; with more channels the igemm tiles are as good), any stride and padding.
bool ocvec_direct_applies(const Conv2dShape& s) {
  return s.groups == 1 && s.dilation_h == 1 && s.dilation_w == 1 && s.c >= 1 && s.c <= 8 && s.oc >= 12 &&
         s.oc <= 32 && s.oh > 0 && s.ow > 0;
}

namespace {
bool all_finite(const float* p, int64_t n) {
  bool finite = true;
  for (int64_t i = 0; i < n; ++i) finite &= std::isfinite(p[i]);
  return finite;
}
}  // namespace

// y[n,oh,ow,o] = act(bias[o] + Σ_{kh: ih valid} Σ_{kw,c} x[n, ih = oh*sh-pt+kh, ow*sw-pl+kw, c] · w[kh,kw,c,o])
// Kernel rows outside the image are left out of the sum; left/right padding reads a zero-bordered copy of
// the row, which needs finite weights (0 · inf): returns false, having written nothing, otherwise.
// Tasks own output rows (n, oh). Workspace: the filter and bias padded to OCp lanes (when OC < OCp), per
// task KH bordered rows of (pl+W+pr)*C floats when padded horizontally.
bool forward_ocvec(const Conv2dShape& s, const Conv2dEpilogue& e, const float* x, const float* w, const float* bias,
                   float* y, const ConvOcvecUkernel& uk) {
  const int64_t ocp = ceil_div(s.oc, 16) * 16, kwc = s.kw * s.c;
  const bool hpad = s.pad_left > 0 || s.pad_right > 0;
  if (hpad && !all_finite(w, s.w_size())) return false;
  AlignedFloats wp_buf(ocp == s.oc ? 0 : s.kh * kwc * ocp), bp_buf(ocp);
  const float* wp = w;
  if (ocp != s.oc) {
    float* d = wp_buf.get();
    std::fill(d, d + s.kh * kwc * ocp, 0.0f);
    for (int64_t k = 0; k < s.kh * kwc; ++k) std::memcpy(d + k * ocp, w + k * s.oc, sizeof(float) * static_cast<size_t>(s.oc));
    wp = d;
  }
  const float* bp = nullptr;
  if (bias != nullptr) {
    std::fill(bp_buf.get(), bp_buf.get() + ocp, 0.0f);
    std::memcpy(bp_buf.get(), bias, sizeof(float) * static_cast<size_t>(s.oc));
    bp = bp_buf.get();
  }
  const int64_t row_len = (s.pad_left + s.w + s.pad_right) * s.c;
  const double row_work = static_cast<double>(s.ow) * static_cast<double>(s.kh * kwc * ocp);
  parallel_for(s.n * s.oh, grain_for(row_work), [&](int64_t begin, int64_t end) {
    std::vector<float> border(hpad ? static_cast<size_t>(s.kh * row_len) : 0, 0.0f);  // borders stay zero
    std::vector<const float*> xrow(static_cast<size_t>(s.kh)), wrow(static_cast<size_t>(s.kh));
    for (int64_t row = begin; row < end; ++row) {
      const int64_t n = row / s.oh, oh = row % s.oh;
      int64_t rows = 0;
      for (int64_t kh = 0; kh < s.kh; ++kh) {
        const int64_t ih = oh * s.stride_h - s.pad_top + kh;
        if (ih < 0 || ih >= s.h) continue;
        const float* src = x + (n * s.h + ih) * s.w * s.c;
        if (hpad) {
          float* r = border.data() + rows * row_len;
          std::memcpy(r + s.pad_left * s.c, src, sizeof(float) * static_cast<size_t>(s.w * s.c));
          src = r;
        }
        xrow[rows] = src;
        wrow[rows] = wp + kh * kwc * ocp;
        ++rows;
      }
      float* yr = y + row * s.ow * s.oc;
      uk.fwd_row(rows, xrow.data(), wrow.data(), kwc, s.stride_w * s.c, ocp, s.oc, s.ow, bp, yr);
      apply_activation(yr, s.ow * s.oc, e);
    }
  });
  return true;
}

// dw[kh,kw,c,o] = Σ_{n,oh,ow} x[n, oh*sh-pt+kh, ow*sw-pl+kw, c] · dy[n,oh,ow,o];  dbias[o] = Σ dy[n,oh,ow,o]
// Images in <= 16 parts fixed by N (never by the thread count), one task each; per part OCp-lane partial
// sums accumulated image by image, added in part order at the end. Kernel rows outside the image are left
// out; left/right padding reads zero-bordered rows, which needs a finite dy (0 · inf): returns false,
// having written nothing, otherwise. Workspace: per part KH*KW*C*OCp + OCp floats; per task one image's
// bordered rows H*(pl+W+pr)*C (when padded horizontally) and its dy at OCp lanes (when OC < OCp).
bool backward_filter_ocvec(const Conv2dShape& s, float* dw, float* dbias, const float* dy, const float* x,
                           const ConvOcvecUkernel& uk) {
  const int64_t ocp = ceil_div(s.oc, 16) * 16, kwc = s.kw * s.c;
  const bool hpad = s.pad_left > 0 || s.pad_right > 0;
  if (hpad && !all_finite(dy, s.y_size())) return false;
  constexpr int64_t kMaxParts = 16;
  const int64_t parts = std::min(s.n, kMaxParts);
  const int64_t acc_size = s.kh * kwc * ocp + ocp;  // the last OCp: dbias partials
  AlignedFloats partial(parts * acc_size);
  std::fill(partial.get(), partial.get() + parts * acc_size, 0.0f);
  const int64_t row_len = (s.pad_left + s.w + s.pad_right) * s.c;
  parallel_for(parts, 1, [&](int64_t begin, int64_t end) {
    std::vector<float> border(hpad ? static_cast<size_t>(s.h * row_len) : 0, 0.0f);  // borders stay zero
    std::vector<float> dyp(ocp != s.oc ? static_cast<size_t>(s.oh * s.ow * ocp) : 0, 0.0f);  // lanes >= OC stay 0
    std::vector<const float*> xrow(static_cast<size_t>(s.oh)), dyrow(static_cast<size_t>(s.oh));
    for (int64_t part = begin; part < end; ++part) {
      float* acc = partial.get() + part * acc_size;
      float* bacc = acc + s.kh * kwc * ocp;
      for (int64_t n = part * s.n / parts; n < (part + 1) * s.n / parts; ++n) {
        const float* xn = x + n * s.h * s.w * s.c;
        const float* dyn = dy + n * s.oh * s.ow * s.oc;
        if (hpad) {
          for (int64_t ih = 0; ih < s.h; ++ih) {
            std::memcpy(border.data() + ih * row_len + s.pad_left * s.c, xn + ih * s.w * s.c,
                        sizeof(float) * static_cast<size_t>(s.w * s.c));
          }
          xn = border.data();
        }
        const int64_t xs = hpad ? row_len : s.w * s.c;
        if (ocp != s.oc) {
          for (int64_t q = 0; q < s.oh * s.ow; ++q) {
            std::memcpy(dyp.data() + q * ocp, dyn + q * s.oc, sizeof(float) * static_cast<size_t>(s.oc));
          }
          dyn = dyp.data();
        }
        for (int64_t q = 0; q < s.oh * s.ow; ++q) {
          const float* d = dyn + q * ocp;
          for (int64_t o = 0; o < ocp; ++o) bacc[o] += d[o];
        }
        for (int64_t kh = 0; kh < s.kh; ++kh) {
          int64_t rows = 0;
          for (int64_t oh = 0; oh < s.oh; ++oh) {
            const int64_t ih = oh * s.stride_h - s.pad_top + kh;
            if (ih < 0 || ih >= s.h) continue;
            xrow[rows] = xn + ih * xs;
            dyrow[rows] = dyn + oh * s.ow * ocp;
            ++rows;
          }
          uk.dw_rows(rows, xrow.data(), dyrow.data(), s.ow, s.stride_w * s.c, kwc, ocp, acc + kh * kwc * ocp);
        }
      }
    }
  });
  // Partials in part order, fixed by the shape: one contiguous, vectorizable pass per part into part 0.
  float* const sum = partial.get();
  for (int64_t p = 1; p < parts; ++p) {
    const float* __restrict v = sum + p * acc_size;
    float* __restrict d = sum;
    for (int64_t i = 0; i < acc_size; ++i) d[i] += v[i];
  }
  for (int64_t k = 0; k < s.kh * kwc; ++k) {
    std::memcpy(dw + k * s.oc, sum + k * ocp, sizeof(float) * static_cast<size_t>(s.oc));
  }
  if (dbias != nullptr) std::memcpy(dbias, sum + s.kh * kwc * ocp, sizeof(float) * static_cast<size_t>(s.oc));
  return true;
}

}  // namespace tf::conv_detail
