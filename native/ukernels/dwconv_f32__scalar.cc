// Portable depthwise micro-kernels (contract: dwconv_ukernels.h): plain loops over channels that the
// compiler vectorizes with the baseline ISA (SSE2 on x86-64, NEON on arm64).
#include "ukernels/dwconv_ukernels.h"

namespace tf {

void dwconv_f32__scalar_fwd(int64_t c, int64_t ks, const float* const* in, const float* const* w, const float* bias,
                            float* out, int64_t count, int64_t in_stride) {
  for (int64_t p = 0; p < count; ++p, out += c) {
    for (int64_t j = 0; j < c; ++j) out[j] = bias != nullptr ? bias[j] : 0.0f;
    for (int64_t s = 0; s < ks; ++s) {
      const float* __restrict x = in[s] + p * in_stride;
      const float* __restrict k = w[s];
      for (int64_t j = 0; j < c; ++j) out[j] += x[j] * k[j];
    }
  }
}

void dwconv_f32__scalar_grad(int64_t c, int64_t ks, const float* const* in, const float* dy, float* const* acc,
                             float* acc_bias, int64_t count, int64_t in_stride) {
  for (int64_t p = 0; p < count; ++p, dy += c) {
    for (int64_t s = 0; s < ks; ++s) {
      const float* __restrict x = in[s] + p * in_stride;
      float* __restrict a = acc[s];
      for (int64_t j = 0; j < c; ++j) a[j] += x[j] * dy[j];
    }
    if (acc_bias != nullptr) {
      for (int64_t j = 0; j < c; ++j) acc_bias[j] += dy[j];
    }
  }
}

}  // namespace tf
