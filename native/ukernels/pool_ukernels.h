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

// 2x2 windows, stride 2, no padding, a whole row of ow windows per call (no pointer table, no call per
// window: with LeNet's 6 channels that overhead was most of the time). a, b: the window row's two input
// rows; window i reads a[2i*c ..), a[(2i+1)*c ..), b[...] likewise.
//   row:        y[i*c + j] = the first maximum of (a0, a1, b0, b1) in that (row-major) order
//   route_row:  the one of da[2i*c + j], da[(2i+1)*c + j], db[2i*c + j], db[(2i+1)*c + j] at that maximum
//               = 0 + dy[i*c + j], the other three = 0
// AVX-512 only (pool.cc keeps the per-window kernels on the other levels).
using Maxpool2x2RowFn = void (*)(int64_t c, int64_t ow, const float* a, const float* b, float* y);
using Maxpool2x2RouteRowFn = void (*)(int64_t c, int64_t ow, const float* a, const float* b, const float* dy,
                                      float* da, float* db);
#if defined(TF_HAVE_AVX512)
void maxpool2x2_f32__avx512f_row(int64_t c, int64_t ow, const float* a, const float* b, float* y);
void maxpool2x2_f32__avx512f_route_row(int64_t c, int64_t ow, const float* a, const float* b, const float* dy,
                                       float* da, float* db);
#endif

}  // namespace tf
