// Max-pooling micro-kernels: SIMD across the c contiguous channels of a pixel. Portable header: no
// intrinsics here (they live only in the files named for their ISA).
//
//   max:   out[j] = the first maximum of in[0][j], ..., in[ks-1][j]           (ks >= 1)
//   route: with m = the index s of that first maximum,
//          out[s][j] = (s == m ? 0 + dy[j] : 0)  for every s < ks             (ks >= 1)
// "First maximum": v replaces the running best when v > best, or when v is NaN and best is not (a NaN
// wins and the first NaN stays), the rule of the reference backend. out rows may not overlap in/dy.
#pragma once

#include <cstdint>

namespace tf {

using MaxpoolFn = void (*)(int64_t c, int64_t ks, const float* const* in, float* out);
using MaxpoolRouteFn = void (*)(int64_t c, int64_t ks, const float* const* in, const float* dy, float* const* out);

struct MaxpoolUkernel {
  MaxpoolFn max = nullptr;
  MaxpoolRouteFn route = nullptr;
  const char* name = "";
};

#define TF_MAXPOOL_UKERNEL(isa, name)                                                  \
  void name##_max(int64_t c, int64_t ks, const float* const* in, float* out);          \
  void name##_route(int64_t c, int64_t ks, const float* const* in, const float* dy, float* const* out);
#include "ukernels/pool_ukernels.inc"
#undef TF_MAXPOOL_UKERNEL

}  // namespace tf
