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
  static const ConvOcvecUkernel scalar{&conv_ocvec_f32__scalar_dx_row, "conv_ocvec_f32__scalar"};
#if defined(TF_HAVE_AVX2)
  static const ConvOcvecUkernel avx2{&conv_ocvec_f32__avx2_fma_dx_row, "conv_ocvec_f32__avx2_fma"};
#endif
#if defined(TF_HAVE_AVX512)
  static const ConvOcvecUkernel avx512{&conv_ocvec_f32__avx512f_dx_row, "conv_ocvec_f32__avx512f"};
#endif
  switch (kernels().isa) {
#if defined(TF_HAVE_AVX2)
    case Isa::avx2: return &avx2;
#endif
#if defined(TF_HAVE_AVX512)
    case Isa::avx512: return &avx512;
#endif
    default: return &scalar;
  }
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

}  // namespace tf::conv_detail
