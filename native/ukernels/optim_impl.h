// The Adam update, written once over a small set of vector operations `V` that a SIMD ISA file
// provides (optim_f32__<isa>.cc; today __m256 for AVX2+FMA, which the AVX-512 level uses too: see
// optim.inc). Portable header: no intrinsics. Same per-element formula as the portable kernel
// (optim_f32__scalar.cc), with FMA: one rounding where that kernel has two, so ISAs may differ by an ulp
// (contract in optim_ukernels.h).
//
// V provides (F = vector of floats, M = lane mask for the last, partial vector):
//   kLanes; set(c), mul, div, sqrt, fma(a, b, c) = a*b + c (fused)
//   max_of(a, b) = b < a ? a : b   (std::max(b, a): b when either is NaN, as the portable kernel)
//   flush(x) = |x| < FLT_MIN ? 0 : x   (NaN stays NaN; flush_subnormal of kernels/optim.h)
//   tail(k) -> M for the first k lanes; load<kTail>(m, p), store<kTail>(m, p, x): masked lanes never
//   touch memory (a buffer may end at a guard page).
//
// Instantiate only with a V declared in an anonymous namespace of an ISA file (compiled with that
// ISA's flags), so that each instantiation stays private to its translation unit.
#pragma once

#include <cstdint>

#include "ukernels/optim_ukernels.h"

namespace tf {

template <class V>
struct AdamVectorConsts {
  typename V::F beta1, one_minus_beta1, beta2, one_minus_beta2, decay, l2, inv_sqrt_bc2, eps, neg_step_size;
  explicit AdamVectorConsts(const AdamUkernelParams& p)
      : beta1(V::set(p.beta1)),
        one_minus_beta1(V::set(p.one_minus_beta1)),
        beta2(V::set(p.beta2)),
        one_minus_beta2(V::set(p.one_minus_beta2)),
        decay(V::set(p.decay)),
        l2(V::set(p.l2)),
        inv_sqrt_bc2(V::set(p.inv_sqrt_bc2)),
        eps(V::set(p.eps)),
        neg_step_size(V::set(p.neg_step_size)) {}
};

// One vector of elements at offset 0 of the pointers (kTail: only the lanes of `mask`).
template <class V, bool kAmsgrad, bool kL2, bool kTail>
inline void adam_vector(const AdamVectorConsts<V>& c, typename V::M mask, float* w, const float* g, float* m,
                        float* v, float* v_max) {
  using F = typename V::F;
  const F wi = V::mul(V::template load<kTail>(mask, w), c.decay);
  F gi = V::template load<kTail>(mask, g);
  if constexpr (kL2) gi = V::fma(c.l2, wi, gi);
  const F mi = V::flush(V::fma(c.beta1, V::template load<kTail>(mask, m), V::mul(c.one_minus_beta1, gi)));
  const F vi = V::flush(V::fma(c.beta2, V::template load<kTail>(mask, v), V::mul(V::mul(c.one_minus_beta2, gi), gi)));
  V::template store<kTail>(mask, m, mi);
  V::template store<kTail>(mask, v, vi);
  F v_used = vi;
  if constexpr (kAmsgrad) {
    v_used = V::max_of(vi, V::template load<kTail>(mask, v_max));
    V::template store<kTail>(mask, v_max, v_used);
  }
  const F denom = V::fma(V::sqrt(v_used), c.inv_sqrt_bc2, c.eps);
  V::template store<kTail>(mask, w, V::fma(c.neg_step_size, V::div(mi, denom), wi));
}

template <class V, bool kAmsgrad, bool kL2>
void adam_vectors(const AdamUkernelParams& p, int64_t n, float* w, const float* g, float* m, float* v, float* v_max) {
  const AdamVectorConsts<V> c(p);
  const typename V::M all = V::tail(V::kLanes);
  int64_t i = 0;
  for (; i + V::kLanes <= n; i += V::kLanes) {
    adam_vector<V, kAmsgrad, kL2, false>(c, all, w + i, g + i, m + i, v + i, kAmsgrad ? v_max + i : nullptr);
  }
  if (i < n) {
    adam_vector<V, kAmsgrad, kL2, true>(c, V::tail(n - i), w + i, g + i, m + i, v + i, kAmsgrad ? v_max + i : nullptr);
  }
}

// adam_vectors with the l2 flag chosen at run time (0 for AdamW and for Adam without weight decay).
template <class V, bool kAmsgrad>
void adam_vectors_any(const AdamUkernelParams& p, int64_t n, float* w, const float* g, float* m, float* v,
                      float* v_max) {
  if (p.l2 != 0) {
    adam_vectors<V, kAmsgrad, true>(p, n, w, g, m, v, v_max);
  } else {
    adam_vectors<V, kAmsgrad, false>(p, n, w, g, m, v, v_max);
  }
}

}  // namespace tf
