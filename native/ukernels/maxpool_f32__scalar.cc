// Portable max-pooling micro-kernels (contract: pool_ukernels.h): branch-free loops over channels that
// the compiler vectorizes with the baseline ISA.
#include <algorithm>

#include "ukernels/pool_ukernels.h"

namespace tf {
namespace {

constexpr int64_t kBlock = 64;

inline bool takes_max(float v, float best) { return v > best || (v != v && best == best); }

}  // namespace

void maxpool_f32__scalar_max(int64_t c, int64_t ks, const float* const* in, float* out) {
  std::copy(in[0], in[0] + c, out);
  for (int64_t s = 1; s < ks; ++s) {
    const float* __restrict x = in[s];
    for (int64_t j = 0; j < c; ++j) out[j] = takes_max(x[j], out[j]) ? x[j] : out[j];
  }
}

void maxpool_f32__scalar_route(int64_t c, int64_t ks, const float* const* in, const float* dy, float* const* out) {
  float best[kBlock], value[kBlock];
  uint32_t where[kBlock];
  for (int64_t j0 = 0; j0 < c; j0 += kBlock) {
    const int64_t nc = std::min(kBlock, c - j0);
    for (int64_t j = 0; j < nc; ++j) {
      best[j] = in[0][j0 + j];
      where[j] = 0;
      value[j] = 0.0f + dy[j0 + j];
    }
    for (int64_t s = 1; s < ks; ++s) {
      const float* x = in[s] + j0;
      const uint32_t s32 = static_cast<uint32_t>(s);
      for (int64_t j = 0; j < nc; ++j) {
        const bool take = takes_max(x[j], best[j]);
        best[j] = take ? x[j] : best[j];
        where[j] = take ? s32 : where[j];
      }
    }
    for (int64_t s = 0; s < ks; ++s) {
      float* __restrict d = out[s] + j0;
      const uint32_t s32 = static_cast<uint32_t>(s);
      for (int64_t j = 0; j < nc; ++j) d[j] = where[j] == s32 ? value[j] : 0.0f;
    }
  }
}

}  // namespace tf
