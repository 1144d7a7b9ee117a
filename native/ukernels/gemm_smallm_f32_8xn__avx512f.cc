// AVX-512 small-M direct GEMM kernel (m <= 8): A and B read in place, no packing. For batch-1
// inference the product is a GEMV over the weight matrix, whose bytes are the cost: packing B would
// move each of them twice more than the multiply itself does.
//
// A strip of M rows x NV*16 columns is accumulated over the whole K in zmm registers: per k step, NV
// (masked) loads from row p of B, M broadcasts of A, M*NV FMAs. NV shrinks as M grows so accumulators
// plus B vectors fit the 32 registers (M=1..2: 8, 3..4: 4, 5..8: 3).
#include "ukernels/gemm_tile__avx512f.h"

namespace tf {
namespace {

constexpr int64_t kPrefetchRows = 16;

template <int M, int NV>
void strip(int64_t n, int64_t k, const float* a, int64_t a_rs, int64_t a_cs, const float* b, int64_t ldb, float* c,
           int64_t ldc, const GemmTileEpilogue& ep) {
  constexpr int NR = NV * 16;
  for (int64_t j0 = 0; j0 < n; j0 += NR) {
    const int nr_valid = static_cast<int>(n - j0 < NR ? n - j0 : NR);
    __mmask16 mask[NV];
    for (int v = 0; v < NV; ++v) mask[v] = avx512::column_mask(nr_valid, v);
    __m512 acc[M][NV];
    for (int i = 0; i < M; ++i)
      for (int v = 0; v < NV; ++v) acc[i][v] = _mm512_setzero_ps();
    const float* bp = b + j0;
    const float* ap = a;
    for (int64_t p = 0; p < k; ++p) {
      __m512 bv[NV];
      for (int v = 0; v < NV; ++v) {
        bv[v] = _mm512_maskz_loadu_ps(mask[v], bp + v * 16);
        // Row p+16 of the strip: rows are ldb apart, often a page or more, where the hardware
        // prefetchers do not follow (1x1024x1024: 5 -> see BENCHMARKS.md). Prefetches never fault.
        _mm_prefetch(reinterpret_cast<const char*>(bp + kPrefetchRows * ldb + v * 16), _MM_HINT_T0);
      }
      for (int i = 0; i < M; ++i) {
        const __m512 ai = _mm512_set1_ps(ap[i * a_rs]);
        for (int v = 0; v < NV; ++v) acc[i][v] = _mm512_fmadd_ps(ai, bv[v], acc[i][v]);
      }
      bp += ldb;
      ap += a_cs;
    }
    // Fully unrolled so that every accumulator index is a constant: otherwise GCC keeps acc[][] in
    // memory and stores all of it on every k step (measured: half the speed).
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v) {
      const __m512 bias = ep.bias != nullptr ? _mm512_maskz_loadu_ps(mask[v], ep.bias + j0 + v * 16) : _mm512_setzero_ps();
#pragma GCC unroll 8
      for (int i = 0; i < M; ++i) {
        float* ci = c + i * ldc + j0 + v * 16;
        __m512 t = acc[i][v];
        if (ep.load_c) t = _mm512_add_ps(t, _mm512_maskz_loadu_ps(mask[v], ci));
        if (ep.finish) t = avx512::activate(_mm512_add_ps(t, bias), ep.activation, ep.alpha);
        _mm512_mask_storeu_ps(ci, mask[v], t);
      }
    }
  }
}

}  // namespace

void gemm_smallm_f32_8xn__avx512f(int64_t m, int64_t n, int64_t k, const float* a, int64_t a_rs, int64_t a_cs,
                                  const float* b, int64_t ldb, float* c, int64_t ldc, const GemmTileEpilogue& ep) {
  switch (m) {
    case 1: return strip<1, 8>(n, k, a, a_rs, a_cs, b, ldb, c, ldc, ep);
    case 2: return strip<2, 8>(n, k, a, a_rs, a_cs, b, ldb, c, ldc, ep);
    case 3: return strip<3, 4>(n, k, a, a_rs, a_cs, b, ldb, c, ldc, ep);
    case 4: return strip<4, 4>(n, k, a, a_rs, a_cs, b, ldb, c, ldc, ep);
    case 5: return strip<5, 3>(n, k, a, a_rs, a_cs, b, ldb, c, ldc, ep);
    case 6: return strip<6, 3>(n, k, a, a_rs, a_cs, b, ldb, c, ldc, ep);
    case 7: return strip<7, 3>(n, k, a, a_rs, a_cs, b, ldb, c, ldc, ep);
    case 8: return strip<8, 3>(n, k, a, a_rs, a_cs, b, ldb, c, ldc, ep);
    default: return;  // callers pass 1 <= m <= 8 (the driver splits larger m)
  }
}

}  // namespace tf
