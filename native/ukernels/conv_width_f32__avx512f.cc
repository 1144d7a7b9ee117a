// One-input-channel, width-vectorized convolution kernels (contract: conv_width_ukernels.h) compiled for
// the AVX-512 level: the shared implementation in conv_width_impl.h, instantiated privately here.
#include "ukernels/x86_intrinsics.h"

#include "ukernels/conv_width_ukernels.h"

#include <cstdint>
#include <cstring>
#include <utility>

#if defined(TF_HAVE_CONV_WIDTH)
namespace tf {
namespace {
#include "ukernels/conv_width_impl.h"
}  // namespace

void conv_width_f32__avx512f_fwd(int64_t kh, int64_t kw, const float* const* rows, const float* w, int64_t oc,
                         const float* bias, float* y, int64_t ow) {
  fwd(kh, kw, rows, w, oc, bias, y, ow);
}

void conv_width_f32__avx512f_grad(int64_t kh, int64_t kw, const float* x, int64_t xs, int64_t sh, int64_t dh,
                          const float* dyt, int64_t oc, int64_t oh, int64_t ow, float* acc, float* bias_acc) {
  grad(kh, kw, x, xs, sh, dh, dyt, oc, oh, ow, acc, bias_acc);
}

void conv_width_f32__avx512f_grad_flat(int64_t taps, const int64_t* off, const float* x, const float* dyt, int64_t oc,
                               int64_t len, float* acc, float* bias_acc) {
  grad_flat(taps, off, x, dyt, oc, len, acc, bias_acc);
}

void conv_width_f32__avx512f_add_runs(int64_t count, int64_t len, const float* src, int64_t src_stride, float* dst,
                              int64_t dst_stride) {
  const auto lanes = [](int64_t lo, int64_t hi) {  // mask of lanes [lo, hi) within [0, 16), branch-free
    const uint32_t l = static_cast<uint32_t>(lo < 0 ? 0 : lo > 16 ? 16 : lo);
    const uint32_t h = static_cast<uint32_t>(hi < 0 ? 0 : hi > 16 ? 16 : hi);
    return static_cast<__mmask16>(((1u << h) - 1u) & ~((1u << l) - 1u));
  };
  if (count <= 0 || len <= 0) return;
  if (dst_stride > 0 && dst_stride < len) {
    // Overlapping runs (col2im: one pixel per C floats, each run KW*C long). Adding run after run in
    // memory would reload what the previous masked store just wrote (a store-forwarding stall per run);
    // instead each 16-float chunk of dst is loaded once, gets the overlapping part of every run added in
    // run order (masked loads), and is stored once: per element the same additions in the same order.
    const int64_t total = (count - 1) * dst_stride + len;
    for (int64_t q = 0; q < total; q += 16) {
      const __mmask16 m = lanes(0, total - q);
      __m512 acc = _mm512_maskz_loadu_ps(m, dst + q);
      // Runs i with i*ds < q + 16 and i*ds + len > q.
      int64_t i0 = q - len + 1 <= 0 ? 0 : (q - len + 1 + dst_stride - 1) / dst_stride;
      int64_t i1 = (q + 15) / dst_stride;
      if (i1 > count - 1) i1 = count - 1;
      for (int64_t i = i0; i <= i1; ++i) {
        const int64_t start = i * dst_stride - q;  // lane of this run's first element (may be < 0)
        const __mmask16 r = lanes(start, start + len);
        acc = _mm512_add_ps(acc, _mm512_maskz_loadu_ps(r, src + i * src_stride - start));
      }
      _mm512_mask_storeu_ps(dst + q, m, acc);
    }
    return;
  }
  for (int64_t i = 0; i < count; ++i, src += src_stride, dst += dst_stride) {
    for (int64_t k = 0; k < len; k += 16) {
      const __mmask16 m = lanes(0, len - k);
      const __m512 sum = _mm512_add_ps(_mm512_maskz_loadu_ps(m, dst + k), _mm512_maskz_loadu_ps(m, src + k));
      _mm512_mask_storeu_ps(dst + k, m, sum);
    }
  }
}

void conv_width_f32__avx512f_planes(int64_t count, int64_t oc, const float* src, float* dst, int64_t dst_stride) {
  planes(count, oc, src, dst, dst_stride);
}

}  // namespace tf
#endif
