// AVX2+FMA small-M direct GEMM kernel (m <= 4; the driver calls it per group of 4 rows): A and B read
// in place, no packing (see gemm_smallm_f32_8xn__avx512f.cc for why). A strip of M rows x NV*8
// columns is accumulated over the whole K in ymm registers; NV shrinks as M grows so accumulators and
// B vectors fit the 16 registers (M=1: 6, 2: 4, 3: 3, 4: 2). Full strips use plain loads; only the
// last, partial strip pays for maskload.
#include "ukernels/gemm_tile__avx2_fma.h"

namespace tf {
namespace {

constexpr int64_t kPrefetchRows = 16;

template <int M, int NV, bool Masked>
void strip(int64_t j0, int nr_valid, int64_t k, const float* a, int64_t a_rs, int64_t a_cs, const float* b,
           int64_t ldb, float* c, int64_t ldc, const GemmTileEpilogue& ep) {
  __m256i mask[NV];
  for (int v = 0; v < NV; ++v) mask[v] = avx2::column_mask(Masked ? nr_valid : NV * 8, v);
  __m256 acc[M][NV];
  for (int i = 0; i < M; ++i)
    for (int v = 0; v < NV; ++v) acc[i][v] = _mm256_setzero_ps();
  const float* bp = b + j0;
  const float* ap = a;
  for (int64_t p = 0; p < k; ++p) {
    __m256 bv[NV];
    for (int v = 0; v < NV; ++v) bv[v] = Masked ? _mm256_maskload_ps(bp + v * 8, mask[v]) : _mm256_loadu_ps(bp + v * 8);
    // Row p+16 of the strip: rows are ldb apart, often a page or more, where the hardware prefetchers
    // do not follow. One prefetch per 64-byte line; prefetches never fault.
    for (int v = 0; v < NV; v += 2) _mm_prefetch(reinterpret_cast<const char*>(bp + kPrefetchRows * ldb + v * 8), _MM_HINT_T0);
    for (int i = 0; i < M; ++i) {
      const __m256 ai = _mm256_broadcast_ss(ap + i * a_rs);
      for (int v = 0; v < NV; ++v) acc[i][v] = _mm256_fmadd_ps(ai, bv[v], acc[i][v]);
    }
    bp += ldb;
    ap += a_cs;
  }
  // Fully unrolled so that every accumulator index is a constant: otherwise GCC keeps acc[][] in
  // memory and stores all of it on every k step.
#pragma GCC unroll 8
  for (int v = 0; v < NV; ++v) {
    const __m256 bias = ep.bias != nullptr ? _mm256_maskload_ps(ep.bias + j0 + v * 8, mask[v]) : _mm256_setzero_ps();
#pragma GCC unroll 8
    for (int i = 0; i < M; ++i) {
      float* ci = c + i * ldc + j0 + v * 8;
      __m256 t = acc[i][v];
      if (ep.load_c) t = _mm256_add_ps(t, _mm256_maskload_ps(ci, mask[v]));
      if (ep.finish) t = avx2::activate(_mm256_add_ps(t, bias), ep.activation, ep.alpha);
      _mm256_maskstore_ps(ci, mask[v], t);
    }
  }
}

template <int M, int NV>
void rows(int64_t n, int64_t k, const float* a, int64_t a_rs, int64_t a_cs, const float* b, int64_t ldb, float* c,
          int64_t ldc, const GemmTileEpilogue& ep) {
  constexpr int NR = NV * 8;
  int64_t j0 = 0;
  for (; j0 + NR <= n; j0 += NR) strip<M, NV, false>(j0, NR, k, a, a_rs, a_cs, b, ldb, c, ldc, ep);
  if (j0 < n) strip<M, NV, true>(j0, static_cast<int>(n - j0), k, a, a_rs, a_cs, b, ldb, c, ldc, ep);
}

}  // namespace

void gemm_smallm_f32_4xn__avx2_fma(int64_t m, int64_t n, int64_t k, const float* a, int64_t a_rs, int64_t a_cs,
                                   const float* b, int64_t ldb, float* c, int64_t ldc, const GemmTileEpilogue& ep) {
  switch (m) {
    case 1: return rows<1, 6>(n, k, a, a_rs, a_cs, b, ldb, c, ldc, ep);
    case 2: return rows<2, 4>(n, k, a, a_rs, a_cs, b, ldb, c, ldc, ep);
    case 3: return rows<3, 3>(n, k, a, a_rs, a_cs, b, ldb, c, ldc, ep);
    case 4: return rows<4, 2>(n, k, a, a_rs, a_cs, b, ldb, c, ldc, ep);
    default: return;  // callers pass 1 <= m <= 4
  }
}

}  // namespace tf
