// Portable 4x16 indirect-GEMM convolution micro-kernel (contract: conv_ukernels.h): plain C++ that
// builds anywhere. With GCC/Clang the accumulators use generic 4-float vector extensions (SSE2 on
// x86-64, NEON on arm64), as the portable GEMM kernel does; other compilers run the plain loops.
#include <cstring>

#include "ukernels/conv_ukernels.h"

namespace tf {
namespace {

constexpr int MR = 4;
constexpr int NR = 16;

void store_tile(const float (&t)[MR][NR], float* c, int64_t ldc, int mr_valid, int nr_valid, const float* bias,
                bool relu) {
  for (int i = 0; i < mr_valid; ++i) {
    float* ci = c + i * ldc;
    for (int j = 0; j < nr_valid; ++j) {
      float v = t[i][j];
      if (bias != nullptr) v += bias[j];
      if (relu) v = v < 0.0f ? 0.0f : v;
      ci[j] = v;
    }
  }
}

}  // namespace

void conv_igemm_f32_4x16__scalar(int64_t ks, int64_t kc, const float* const* a, const float* w, float* c,
                                 int64_t ldc, int mr_valid, int nr_valid, const float* bias, bool relu) {
  float t[MR][NR];
#if defined(__GNUC__) || defined(__clang__)
  typedef float v4 __attribute__((vector_size(16)));
  constexpr int NV = NR / 4;
  v4 acc[MR][NV];
  for (int i = 0; i < MR; ++i)
    for (int v = 0; v < NV; ++v) acc[i][v] = v4{0, 0, 0, 0};
  for (int64_t s = 0; s < ks; ++s, a += MR) {
    const float* rows[MR] = {a[0], a[1], a[2], a[3]};
    for (int64_t p = 0; p < kc; ++p, w += NR) {
      v4 bv[NV];
      std::memcpy(bv, w, sizeof bv);
      for (int i = 0; i < MR; ++i) {
        const float ai = rows[i][p];
        for (int v = 0; v < NV; ++v) acc[i][v] += ai * bv[v];
      }
    }
  }
  std::memcpy(t, acc, sizeof t);
#else
  for (int i = 0; i < MR; ++i)
    for (int j = 0; j < NR; ++j) t[i][j] = 0.0f;
  for (int64_t s = 0; s < ks; ++s, a += MR) {
    for (int64_t p = 0; p < kc; ++p, w += NR) {
      for (int i = 0; i < MR; ++i) {
        const float ai = a[i][p];
        for (int j = 0; j < NR; ++j) t[i][j] += ai * w[j];
      }
    }
  }
#endif
  store_tile(t, c, ldc, mr_valid, nr_valid, bias, relu);
}

void conv_planes_f32__scalar(int64_t count, int64_t c, const float* src, int64_t src_stride, float* dst,
                             int64_t dst_stride) {
  for (int64_t p = 0; p < count; ++p) {
    const float* sp = src + p * src_stride;
    for (int64_t ci = 0; ci < c; ++ci) dst[ci * dst_stride + p] = sp[ci];
  }
}

}  // namespace tf
