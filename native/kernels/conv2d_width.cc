// One input channel (C = 1, one group, stride_w = dilation_w = 1: LeNet's conv1), vectorized across 16
// output pixels of a row instead of across the output channels (conv_width_ukernels.h). The channel-
// vectorized igemm filled 6 of its 16 lanes on conv1 (6 filters) and gathered KW inputs per pixel; here
// every lane does useful work and each input vector is read once per tap.
//
//   forward          x [N,H,W,1], w [KH,KW,1,OC] -> y [N,OH,OW,OC]; tasks own output rows (n, oh); per row
//                    the KH input rows it reads are copied into zero-bordered rows (no padding branches
//                    in the kernel), the kernel computes OC x 16 blocks and transposes them into NHWC.
//   backward-filter  dw [KH,KW,1,OC] (+ dbias) <- dy, x; images in <= 16 parts fixed by N (never by
//                    the thread count), each part one task: per image a zero-bordered copy of x and dy
//                    transposed to [OC][OH][round_up(OW,16)], reduced by the kernel into 16-lane partial
//                    sums per (tap, channel); partials are added in (part, lane) order at the end.
//
// Workspace (floats): forward, per task (KH + 1) * (round_up(OW,16) + KW - 1);
// backward-filter, per part KH*KW*OC*16 + OC*16, per task rows*(round_up(OW,16) + KW - 1) + OC*OH*round_up(OW,16)
// with rows = (OH-1)*sh + (KH-1)*dh + 1 (one image, independent of N).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "kernels/conv2d_paths.h"
#include "kernels/conv2d_tiles.h"
#include "runtime/dispatch.h"
#include "runtime/thread_pool.h"

namespace tf::conv_detail {
namespace {

constexpr int64_t kLanes = 16;
// Backward-filter splits the batch into at most this many parts (fixed by N).
constexpr int64_t kMaxParts = 16;

}  // namespace

const ConvWidthUkernel* width_ukernel() {
#if defined(TF_HAVE_CONV_WIDTH)
  static const ConvWidthUkernel scalar{&conv_width_f32__scalar_fwd, &conv_width_f32__scalar_grad,
                                       &conv_width_f32__scalar_grad_flat,
                                       &conv_width_f32__scalar_add_runs, &conv_width_f32__scalar_planes,
                                       "conv_width_f32__scalar"};
#if defined(TF_HAVE_AVX2)
  static const ConvWidthUkernel avx2{&conv_width_f32__avx2_fma_fwd, &conv_width_f32__avx2_fma_grad,
                                       &conv_width_f32__avx2_fma_grad_flat,
                                       &conv_width_f32__avx2_fma_add_runs, &conv_width_f32__avx2_fma_planes,
                                     "conv_width_f32__avx2_fma"};
#endif
#if defined(TF_HAVE_AVX512)
  static const ConvWidthUkernel avx512{&conv_width_f32__avx512f_fwd, &conv_width_f32__avx512f_grad,
                                       &conv_width_f32__avx512f_grad_flat,
                                       &conv_width_f32__avx512f_add_runs, &conv_width_f32__avx512f_planes,
                                       "conv_width_f32__avx512f"};
#endif
#if defined(TF_HAVE_AVX2)
  const ConvWidthUkernel* avx2_entry = &avx2;
#else
  const ConvWidthUkernel* avx2_entry = nullptr;
#endif
#if defined(TF_HAVE_AVX512)
  const ConvWidthUkernel* avx512_entry = &avx512;
#else
  const ConvWidthUkernel* avx512_entry = nullptr;
#endif
  return entry_for_active_isa(&scalar, avx2_entry, avx512_entry);
#else
  return nullptr;
#endif
}

bool width_path_applies(const Conv2dShape& s) {
  return s.c == 1 && s.groups == 1 && s.stride_w == 1 && s.dilation_w == 1 && s.oh > 0 && s.ow > 0;
}

// y[n,oh,ow,o] = act(bias[o] + Σ_{kh,kw} x[n, oh*sh-pt+kh*dh, ow-pl+kw] · w[kh,kw,0,o])
void forward_width(const Conv2dShape& s, const Conv2dEpilogue& e, const float* x, const float* w, const float* bias,
                   float* y, const ConvWidthUkernel& uk) {
  const int64_t owp = ceil_div(s.ow, kLanes) * kLanes;
  const int64_t row_len = owp + s.kw - 1;  // padded row j holds x column j - pl
  const int64_t copy_begin = std::min(s.pad_left, row_len);
  const int64_t copy_len = std::clamp<int64_t>(row_len - s.pad_left, 0, s.w);
  const double row_work = static_cast<double>(s.ow) * s.kh * s.kw * s.oc;
  parallel_for(s.n * s.oh, grain_for(row_work), [&](int64_t begin, int64_t end) {
    std::vector<float> buf(static_cast<size_t>((s.kh + 1) * row_len), 0.0f);
    const float* zero_row = buf.data() + s.kh * row_len;
    std::vector<const float*> rows(static_cast<size_t>(s.kh));
    for (int64_t row = begin; row < end; ++row) {
      const int64_t n = row / s.oh, oh = row % s.oh;
      for (int64_t ky = 0; ky < s.kh; ++ky) {
        const int64_t ih = oh * s.stride_h - s.pad_top + ky * s.dilation_h;
        if (ih < 0 || ih >= s.h) {
          rows[ky] = zero_row;
          continue;
        }
        // The borders of buf's rows stay zero from the allocation; only the copied middle changes.
        float* r = buf.data() + ky * row_len;
        copy_short(x + (n * s.h + ih) * s.w, copy_len, r + copy_begin);  // short rows: inline, no libc call
        rows[ky] = r;
      }
      float* yr = y + row * s.ow * s.oc;
      uk.fwd(s.kh, s.kw, rows.data(), w, s.oc, bias, yr, s.ow);
      apply_activation(yr, s.ow * s.oc, e);
    }
  });
}

// dw[kh,kw,0,o] = Σ_{n,oh,ow} x[n, oh*sh-pt+kh*dh, ow-pl+kw] · dy[n,oh,ow,o];  dbias[o] = Σ dy[n,oh,ow,o]
void backward_filter_width(const Conv2dShape& s, float* dw, float* dbias, const float* dy, const float* x,
                           const ConvWidthUkernel& uk) {
  const int64_t owp = ceil_div(s.ow, kLanes) * kLanes;
  const int64_t xs = owp + s.kw - 1;
  const int64_t rows = (s.oh - 1) * s.stride_h + (s.kh - 1) * s.dilation_h + 1;
  const int64_t copy_len = std::clamp<int64_t>(xs - s.pad_left, 0, s.w);
  const int64_t taps = s.kh * s.kw;
  const int64_t parts = std::min(s.n, kMaxParts);
  const int64_t acc_size = (taps + 1) * s.oc * kLanes;  // the last OC*16 are the dbias partials
  std::vector<float> partial(static_cast<size_t>(parts * acc_size), 0.0f);
  // stride_h 1: the flat layout (conv_width_ukernels.h grad_flat): x rows of stride fs = OW + KW - 1
  // (= pl + W + pr), dy rows at the same stride, zero in columns >= OW, so tap (ky, kx) is the offset
  // ky*dh*fs + kx from flat output position q = oh*fs + ow. Images with a non-finite x take the masked
  // row form instead (its pad lanes never multiply x).
  const bool flat = s.stride_h == 1;
  const int64_t fs = s.ow + s.kw - 1;
  const int64_t flen = ceil_div(s.oh * fs, kLanes) * kLanes;
  const int64_t fmax_off = (s.kh - 1) * s.dilation_h * fs + s.kw - 1;
  const int64_t frows = s.oh + (s.kh - 1) * s.dilation_h;
  std::vector<int64_t> off(static_cast<size_t>(taps));
  for (int64_t t = 0; t < taps; ++t) off[t] = (t / s.kw) * s.dilation_h * fs + t % s.kw;
  parallel_for(parts, 1, [&](int64_t begin, int64_t end) {
    std::vector<float> plane, dyt;
    // 64-byte aligned: the kernel's dy loads (16 floats at multiples of 16) then never cross a cache line.
    AlignedFloats fplane(0), fdyt(0);
    bool flat_ready = false;
    for (int64_t part = begin; part < end; ++part) {
      float* acc = partial.data() + part * acc_size;
      float* bacc = dbias != nullptr ? acc + taps * s.oc * kLanes : nullptr;
      for (int64_t n = part * s.n / parts; n < (part + 1) * s.n / parts; ++n) {
        const float* xn = x + n * s.h * s.w;
        const float* dyn = dy + n * s.oh * s.ow * s.oc;
        bool finite = true;
        if (flat) {
          for (int64_t i = 0; i < s.h * s.w; ++i) finite &= std::isfinite(xn[i]);
        }
        if (flat && finite) {
          if (!flat_ready) {
            fplane = AlignedFloats(flen + fmax_off);
            fdyt = AlignedFloats(s.oc * flen);
            std::fill(fplane.get(), fplane.get() + flen + fmax_off, 0.0f);  // borders stay zero
            std::fill(fdyt.get(), fdyt.get() + s.oc * flen, 0.0f);          // columns >= OW stay zero
            flat_ready = true;
          }
          for (int64_t r = 0; r < frows; ++r) {
            const int64_t ih = r - s.pad_top;
            if (ih < 0 || ih >= s.h) continue;
            copy_short(xn + ih * s.w, s.w, fplane.get() + r * fs + s.pad_left);
          }
          for (int64_t r = 0; r < s.oh; ++r) uk.planes(s.ow, s.oc, dyn + r * s.ow * s.oc, fdyt.get() + r * fs, flen);
          uk.grad_flat(taps, off.data(), fplane.get(), fdyt.get(), s.oc, flen, acc, bacc);
          continue;
        }
        if (plane.empty()) {
          plane.assign(static_cast<size_t>(rows * xs), 0.0f);
          dyt.assign(static_cast<size_t>(s.oc * s.oh * owp), 0.0f);  // lanes >= OW stay zero
        }
        for (int64_t r = 0; r < rows; ++r) {
          const int64_t ih = r - s.pad_top;
          if (ih < 0 || ih >= s.h) continue;  // stays zero
          std::memcpy(plane.data() + r * xs + s.pad_left, xn + ih * s.w, static_cast<size_t>(copy_len) * sizeof(float));
        }
        for (int64_t r = 0; r < s.oh; ++r) uk.planes(s.ow, s.oc, dyn + r * s.ow * s.oc, dyt.data() + r * owp, s.oh * owp);
        uk.grad(s.kh, s.kw, plane.data(), xs, s.stride_h, s.dilation_h, dyt.data(), s.oc, s.oh, s.ow, acc, bacc);
      }
    }
  });
  // Parts added lane by lane in part order (one contiguous pass per part, vectorizable; a per-output chain
  // of parts x 16 dependent adds was latency-bound), then each output's 16 lanes in lane order: fixed by
  // the shape.
  for (int64_t p = 1; p < parts; ++p) {
    float* __restrict sum = partial.data();
    const float* __restrict v = partial.data() + p * acc_size;
    for (int64_t i = 0; i < acc_size; ++i) sum[i] += v[i];
  }
  auto reduce = [&](int64_t i) {
    float t = 0.0f;
    for (int64_t l = 0; l < kLanes; ++l) t += partial[i * kLanes + l];
    return t;
  };
  for (int64_t i = 0; i < taps * s.oc; ++i) dw[i] = reduce(i);
  if (dbias != nullptr) {
    for (int64_t o = 0; o < s.oc; ++o) dbias[o] = reduce(taps * s.oc + o);
  }
}

}  // namespace tf::conv_detail
