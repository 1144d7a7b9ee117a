// Portable 4x16 GEMM micro-kernel: plain C++ that builds anywhere (x86 baseline, arm64, ...). The
// 4 x 16 accumulator block is sized so compilers keep it in registers and vectorize the j loops
// (16 SSE / NEON registers of 4 floats).
#include "ukernels/gemm_ukernels.h"

namespace tf {

void gemm_f32_4x16__scalar(int64_t kc, const float* a, const float* b, float* c, int64_t ldc, int mr_valid,
                           int nr_valid, const GemmTileEpilogue& ep) {
  constexpr int MR = 4;
  constexpr int NR = 16;
  float acc[MR][NR] = {};
  for (int64_t p = 0; p < kc; ++p) {
    const float* ap = a + p * MR;
    const float* bp = b + p * NR;
    for (int i = 0; i < MR; ++i) {
      const float ai = ap[i];
      for (int j = 0; j < NR; ++j) acc[i][j] += ai * bp[j];
    }
  }
  for (int i = 0; i < mr_valid; ++i) {
    float* ci = c + i * ldc;
    for (int j = 0; j < nr_valid; ++j) {
      float t = acc[i][j];
      if (ep.load_c) t += ci[j];
      if (ep.finish) {
        if (ep.bias != nullptr) t += ep.bias[j];
        t = gemm_activate(ep.activation, ep.alpha, t);
      }
      ci[j] = t;
    }
  }
}

}  // namespace tf
