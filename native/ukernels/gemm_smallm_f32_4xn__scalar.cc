// Portable small-M direct GEMM kernel (m <= 4; the driver calls it per group of 4 rows): A and B read
// in place, no packing. Plain C++ for every platform: each row keeps a 16-column strip of sums, and the
// fixed-length inner loop over the strip auto-vectorizes (SSE2 on x86-64, NEON on arm64).
#include "ukernels/gemm_ukernels.h"

namespace tf {
namespace {

constexpr int NR = 16;

template <int Cols>
void strip(int64_t m, int64_t j0, int cols, int64_t k, const float* a, int64_t a_rs, int64_t a_cs, const float* b,
           int64_t ldb, float* c, int64_t ldc, const GemmTileEpilogue& ep) {
  // Cols == NR: a full strip with a constant trip count; Cols == 0: the partial last strip.
  const int w = Cols == NR ? NR : cols;
  for (int64_t i = 0; i < m; ++i) {
    float t[NR] = {};
    const float* ai = a + i * a_rs;
    const float* bp = b + j0;
    for (int64_t p = 0; p < k; ++p) {
      const float av = ai[p * a_cs];
      for (int j = 0; j < w; ++j) t[j] += av * bp[j];
      bp += ldb;
    }
    float* ci = c + i * ldc + j0;
    for (int j = 0; j < w; ++j) {
      float v = t[j];
      if (ep.load_c) v += ci[j];
      if (ep.finish) {
        if (ep.bias != nullptr) v += ep.bias[j0 + j];
        v = gemm_activate(ep.activation, ep.alpha, v);
      }
      ci[j] = v;
    }
  }
}

}  // namespace

void gemm_smallm_f32_4xn__scalar(int64_t m, int64_t n, int64_t k, const float* a, int64_t a_rs, int64_t a_cs,
                                 const float* b, int64_t ldb, float* c, int64_t ldc, const GemmTileEpilogue& ep) {
  int64_t j0 = 0;
  for (; j0 + NR <= n; j0 += NR) strip<NR>(m, j0, NR, k, a, a_rs, a_cs, b, ldb, c, ldc, ep);
  if (j0 < n) strip<0>(m, j0, static_cast<int>(n - j0), k, a, a_rs, a_cs, b, ldb, c, ldc, ep);
}

}  // namespace tf
