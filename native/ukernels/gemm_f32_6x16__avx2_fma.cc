// AVX2+FMA 6x16 GEMM micro-kernel: 6 rows x 2 ymm columns = 12 accumulators, 2 B vectors and one
// broadcast: 15 of the 16 ymm registers. The epilogue (add C, add bias, activate) runs on the
// registers; a partial last column block uses maskload/maskstore (masked lanes never touch memory).
#include <algorithm>

#include "ukernels/gemm_pack__avx.h"
#include "ukernels/gemm_tile__avx2_fma.h"

namespace tf {

using avx2::activate;
using avx2::column_mask;

namespace {

constexpr int MR = 6;
constexpr int NV = 2;
constexpr int NR = NV * 8;

// The common finishes, t = acc (+ C) (+ bias) (relu), fully unrolled over constant indices so the
// accumulators are never stored to the stack (the rolled loop over a run-time row count that served
// every case spilled them and tested the epilogue flags per vector).
template <bool kLoadC, bool kBias, bool kRelu>
inline void store_tile(const __m256 (&out)[MR][NV], float* c, int64_t ldc, int mr_valid, int nr_valid,
                       const float* bias_ptr) {
  const bool full = nr_valid == NR;
  __m256i mask[NV];
  __m256 bias[NV];
#pragma GCC unroll 2
  for (int v = 0; v < NV; ++v) {
    mask[v] = column_mask(nr_valid, v);
    bias[v] = kBias ? _mm256_maskload_ps(bias_ptr + v * 8, mask[v]) : _mm256_setzero_ps();
  }
#pragma GCC unroll 6
  for (int i = 0; i < MR; ++i) {
    if (i < mr_valid) {
      float* ci = c + i * ldc;
#pragma GCC unroll 2
      for (int v = 0; v < NV; ++v) {
        __m256 t = out[i][v];
        if (kLoadC) t = _mm256_add_ps(t, full ? _mm256_loadu_ps(ci + v * 8) : _mm256_maskload_ps(ci + v * 8, mask[v]));
        if (kBias) t = _mm256_add_ps(t, bias[v]);
        if (kRelu) t = _mm256_max_ps(_mm256_setzero_ps(), t);  // keeps NaN, as activate() does
        if (full) {
          _mm256_storeu_ps(ci + v * 8, t);
        } else {
          _mm256_maskstore_ps(ci + v * 8, mask[v], t);
        }
      }
    }
  }
}

// The last K block with another activation (exp dominates there): one rolled loop for all of them.
inline void finish_tile(const __m256 (&out)[MR][NV], float* c, int64_t ldc, int mr_valid, int nr_valid,
                        const GemmTileEpilogue& ep) {
  const bool full = nr_valid == NR;
  __m256i mask[NV];
  __m256 bias[NV];
  for (int v = 0; v < NV; ++v) {
    mask[v] = column_mask(nr_valid, v);
    bias[v] = ep.bias != nullptr ? _mm256_maskload_ps(ep.bias + v * 8, mask[v]) : _mm256_setzero_ps();
  }
  for (int i = 0; i < MR; ++i) {
    if (i >= mr_valid) break;
    float* ci = c + i * ldc;
    for (int v = 0; v < NV; ++v) {
      __m256 t = out[i][v];
      if (ep.load_c) t = _mm256_add_ps(t, full ? _mm256_loadu_ps(ci + v * 8) : _mm256_maskload_ps(ci + v * 8, mask[v]));
      if (ep.bias != nullptr) t = _mm256_add_ps(t, bias[v]);
      t = activate(t, ep.activation, ep.alpha);
      if (full) {
        _mm256_storeu_ps(ci + v * 8, t);
      } else {
        _mm256_maskstore_ps(ci + v * 8, mask[v], t);
      }
    }
  }
}

// A is a packed panel (element (i, p) at a[p*MR + i]), or with kStridedA read in place from the rows of
// a row-major A (at a[i*lda + p]). In place, rows past mr_valid re-read the last valid row instead (their
// sums are never stored), so nothing past the tile's own rows is touched.
template <bool kStridedA>
inline void tile(int64_t kc, const float* a, int64_t lda, const float* b, int64_t ldb, float* c, int64_t ldc,
                 int mr_valid, int nr_valid, const GemmTileEpilogue& ep) {
  // Twelve named accumulators: with an acc[MR][NV] array GCC 12 stores every accumulator to the
  // stack on each k step (the epilogue indexes rows at run time), which capped the kernel at ~60% of
  // the AVX2 FMA peak. Named values stay in ymm registers for the whole loop.
  __m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
  __m256 c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
  // Row r of the tile: a + r (packed, stepping MR per k) or row min(r, mr_valid - 1) (in place, stepping 1).
  const int last = mr_valid - 1;
  const float* a0 = kStridedA ? a : a + 0;
  const float* a1 = kStridedA ? a + std::min(1, last) * lda : a + 1;
  const float* a2 = kStridedA ? a + std::min(2, last) * lda : a + 2;
  const float* a3 = kStridedA ? a + std::min(3, last) * lda : a + 3;
  const float* a4 = kStridedA ? a + std::min(4, last) * lda : a + 4;
  const float* a5 = kStridedA ? a + std::min(5, last) * lda : a + 5;
  constexpr int64_t kStep = kStridedA ? 1 : MR;
  for (int64_t p = 0; p < kc; ++p) {
    const int64_t o = p * kStep;
    const __m256 b0 = _mm256_loadu_ps(b);
    const __m256 b1 = _mm256_loadu_ps(b + 8);
    __m256 ai = _mm256_broadcast_ss(a0 + o);
    c00 = _mm256_fmadd_ps(ai, b0, c00);
    c01 = _mm256_fmadd_ps(ai, b1, c01);
    ai = _mm256_broadcast_ss(a1 + o);
    c10 = _mm256_fmadd_ps(ai, b0, c10);
    c11 = _mm256_fmadd_ps(ai, b1, c11);
    ai = _mm256_broadcast_ss(a2 + o);
    c20 = _mm256_fmadd_ps(ai, b0, c20);
    c21 = _mm256_fmadd_ps(ai, b1, c21);
    ai = _mm256_broadcast_ss(a3 + o);
    c30 = _mm256_fmadd_ps(ai, b0, c30);
    c31 = _mm256_fmadd_ps(ai, b1, c31);
    ai = _mm256_broadcast_ss(a4 + o);
    c40 = _mm256_fmadd_ps(ai, b0, c40);
    c41 = _mm256_fmadd_ps(ai, b1, c41);
    ai = _mm256_broadcast_ss(a5 + o);
    c50 = _mm256_fmadd_ps(ai, b0, c50);
    c51 = _mm256_fmadd_ps(ai, b1, c51);
    b += ldb;
  }
  const __m256 out[MR][NV] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}, {c40, c41}, {c50, c51}};
  const GemmActivation act = ep.finish ? ep.activation : GemmActivation::none;
  if (act != GemmActivation::none && act != GemmActivation::relu) {
    finish_tile(out, c, ldc, mr_valid, nr_valid, ep);
    return;
  }
  const float* bias = ep.finish ? ep.bias : nullptr;
  const bool relu = act == GemmActivation::relu;
  if (ep.load_c) {
    if (bias != nullptr) {
      if (relu) store_tile<true, true, true>(out, c, ldc, mr_valid, nr_valid, bias);
      else store_tile<true, true, false>(out, c, ldc, mr_valid, nr_valid, bias);
    } else {
      if (relu) store_tile<true, false, true>(out, c, ldc, mr_valid, nr_valid, bias);
      else store_tile<true, false, false>(out, c, ldc, mr_valid, nr_valid, bias);
    }
  } else {
    if (bias != nullptr) {
      if (relu) store_tile<false, true, true>(out, c, ldc, mr_valid, nr_valid, bias);
      else store_tile<false, true, false>(out, c, ldc, mr_valid, nr_valid, bias);
    } else {
      if (relu) store_tile<false, false, true>(out, c, ldc, mr_valid, nr_valid, bias);
      else store_tile<false, false, false>(out, c, ldc, mr_valid, nr_valid, bias);
    }
  }
}

}  // namespace

void gemm_f32_6x16__avx2_fma(int64_t kc, const float* a, const float* b, float* c, int64_t ldc, int mr_valid,
                             int nr_valid, const GemmTileEpilogue& ep) {
  tile<false>(kc, a, 0, b, 16, c, ldc, mr_valid, nr_valid, ep);
}

void gemm_f32_6x16__avx2_fma_strided_b(int64_t kc, const float* a, const float* b, int64_t ldb, float* c, int64_t ldc,
                                       int mr_valid, int nr_valid, const GemmTileEpilogue& ep) {
  tile<false>(kc, a, 0, b, ldb, c, ldc, mr_valid, nr_valid, ep);
}

void gemm_f32_6x16__avx2_fma_strided_a(int64_t kc, const float* a, int64_t lda, const float* b, float* c, int64_t ldc,
                                       int mr_valid, int nr_valid, const GemmTileEpilogue& ep) {
  tile<true>(kc, a, lda, b, 16, c, ldc, mr_valid, nr_valid, ep);
}

void gemm_f32_6x16__avx2_fma_strided_ab(int64_t kc, const float* a, int64_t lda, const float* b, int64_t ldb,
                                        float* c, int64_t ldc, int mr_valid, int nr_valid,
                                        const GemmTileEpilogue& ep) {
  tile<true>(kc, a, lda, b, ldb, c, ldc, mr_valid, nr_valid, ep);
}

void gemm_f32_6x16__avx2_fma_transpose(const float* src, int64_t lds, int64_t rows, int64_t cols, float* dst,
                                       int64_t ldd) {
  pack_avx::transpose(src, lds, rows, cols, dst, ldd);
}

void gemm_f32_6x16__avx2_fma_pack_a(const float* a, int64_t lda, bool trans, int64_t rows, int64_t kc, float* dst) {
  pack_avx::pack_a<6>(a, lda, trans, rows, kc, dst);
}

void gemm_f32_6x16__avx2_fma_pack_b(const float* b, int64_t ldb, bool trans, int64_t cols, int64_t kc, float* dst) {
  pack_avx::pack_b<16>(b, ldb, trans, cols, kc, dst);
}

}  // namespace tf
