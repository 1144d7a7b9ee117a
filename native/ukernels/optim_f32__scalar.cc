// Portable Adam micro-kernels (contract: optim_ukernels.h), for scalar and neon builds. Plain float
// loops that the compiler vectorizes (SSE2 / NEON); the vectorized body and its remainder loop run the
// same float operations per element, so results do not depend on an element's position.
#include <algorithm>
#include <cmath>

#include "kernels/optim.h"
#include "ukernels/optim_ukernels.h"

namespace tf {
namespace {

template <bool kAmsgrad, bool kL2>
void adam_loop(const AdamUkernelParams& p, int64_t n, float* __restrict w, const float* __restrict g,
               float* __restrict m, float* __restrict v, float* __restrict v_max) {
  for (int64_t i = 0; i < n; ++i) {
    float wi = w[i] * p.decay;
    float gi = g[i];
    if constexpr (kL2) gi += p.l2 * wi;
    // State is stored with subnormals flushed to zero (see flush_subnormal in kernels/optim.h).
    const float mi = flush_subnormal(p.beta1 * m[i] + p.one_minus_beta1 * gi);
    const float vi = flush_subnormal(p.beta2 * v[i] + p.one_minus_beta2 * gi * gi);
    m[i] = mi;
    v[i] = vi;
    float v_used = vi;
    if constexpr (kAmsgrad) {
      v_used = std::max(v_max[i], vi);
      v_max[i] = v_used;
    }
    const float denom = std::sqrt(v_used) * p.inv_sqrt_bc2 + p.eps;
    wi += p.neg_step_size * (mi / denom);
    w[i] = wi;
  }
}

}  // namespace

void adam_f32__scalar(const AdamUkernelParams& p, int64_t n, float* w, const float* g, float* m, float* v,
                      float* v_max) {
  if (p.l2 != 0) {
    adam_loop<false, true>(p, n, w, g, m, v, v_max);
  } else {
    adam_loop<false, false>(p, n, w, g, m, v, v_max);
  }
}

void adam_amsgrad_f32__scalar(const AdamUkernelParams& p, int64_t n, float* w, const float* g, float* m, float* v,
                              float* v_max) {
  if (p.l2 != 0) {
    adam_loop<true, true>(p, n, w, g, m, v, v_max);
  } else {
    adam_loop<true, false>(p, n, w, g, m, v, v_max);
  }
}

}  // namespace tf
