// Portable 4x16 GEMM micro-kernel: plain C++ that builds anywhere (x86 baseline, arm64, ...).
//
// With GCC/Clang the accumulators are written with generic 4-float vector extensions (no intrinsics,
// no ISA flags: they lower to SSE2 on x86-64 and to NEON on arm64), because the plain-array form below
// gets "SLP-vectorized" the wrong way round and runs 4x slower. Other compilers use the plain loops.
#include <cstring>

#include "ukernels/gemm_pack.h"
#include "ukernels/gemm_ukernels.h"

namespace tf {
namespace {

constexpr int MR = 4;
constexpr int NR = 16;

// t[i][j] -> c with the epilogue (shared by both accumulation forms).
void store_tile(const float (&t)[MR][NR], float* c, int64_t ldc, int mr_valid, int nr_valid,
                const GemmTileEpilogue& ep) {
  for (int i = 0; i < mr_valid; ++i) {
    float* ci = c + i * ldc;
    for (int j = 0; j < nr_valid; ++j) {
      float v = t[i][j];
      if (ep.load_c) v += ci[j];
      if (ep.finish) {
        if (ep.bias != nullptr) v += ep.bias[j];
        v = gemm_activate(ep.activation, ep.alpha, v);
      }
      ci[j] = v;
    }
  }
}

void tile(int64_t kc, const float* a, const float* b, int64_t ldb, float* c, int64_t ldc, int mr_valid,
          int nr_valid, const GemmTileEpilogue& ep) {
  float t[MR][NR];
#if defined(__GNUC__) || defined(__clang__)
  typedef float v4 __attribute__((vector_size(16)));
  constexpr int NV = NR / 4;
  v4 acc[MR][NV];
  for (int i = 0; i < MR; ++i)
    for (int v = 0; v < NV; ++v) acc[i][v] = v4{0, 0, 0, 0};
  for (int64_t p = 0; p < kc; ++p) {
    v4 bv[NV];
    std::memcpy(bv, b + p * ldb, sizeof bv);
    for (int i = 0; i < MR; ++i) {
      const float ai = a[p * MR + i];
      for (int v = 0; v < NV; ++v) acc[i][v] += ai * bv[v];
    }
  }
  std::memcpy(t, acc, sizeof t);
#else
  for (int i = 0; i < MR; ++i)
    for (int j = 0; j < NR; ++j) t[i][j] = 0.0f;
  for (int64_t p = 0; p < kc; ++p) {
    for (int i = 0; i < MR; ++i) {
      const float ai = a[p * MR + i];
      for (int j = 0; j < NR; ++j) t[i][j] += ai * b[p * ldb + j];
    }
  }
#endif
  store_tile(t, c, ldc, mr_valid, nr_valid, ep);
}

}  // namespace

void gemm_f32_4x16__scalar(int64_t kc, const float* a, const float* b, float* c, int64_t ldc, int mr_valid,
                           int nr_valid, const GemmTileEpilogue& ep) {
  tile(kc, a, b, NR, c, ldc, mr_valid, nr_valid, ep);
}

void gemm_f32_4x16__scalar_strided_b(int64_t kc, const float* a, const float* b, int64_t ldb, float* c, int64_t ldc,
                                     int mr_valid, int nr_valid, const GemmTileEpilogue& ep) {
  tile(kc, a, b, ldb, c, ldc, mr_valid, nr_valid, ep);
}

void gemm_f32_4x16__scalar_pack_a(const float* a, int64_t lda, bool trans, int64_t rows, int64_t kc, float* dst) {
  pack_portable::pack_a(a, lda, trans, rows, kc, MR, dst);
}

void gemm_f32_4x16__scalar_pack_b(const float* b, int64_t ldb, bool trans, int64_t cols, int64_t kc, float* dst) {
  pack_portable::pack_b(b, ldb, trans, cols, kc, NR, dst);
}

}  // namespace tf
