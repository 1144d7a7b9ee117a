// AVX-512 GEMM tile template shared by the AVX-512 micro-kernels (gemm_f32_*__avx512f.cc). Included
// only by files compiled with -mavx512f: intrinsics live only in files named for their ISA.
//
// MR rows x NV*16 columns of C live in zmm accumulators for the whole kc loop; each step broadcasts MR
// values of packed A and loads NV vectors of packed B. The epilogue (add C, add bias, activate) runs on
// the registers before the single store, with masked loads/stores for a partial last column block
// (masked-off lanes never touch memory, so edge tiles cannot fault).
#pragma once

#include "ukernels/x86_intrinsics.h"

#include "ukernels/gemm_ukernels.h"

namespace tf::avx512 {

// Where a tile reads A: a packed panel (element (i, p) at a[p*AS + i]), A's rows in place (a row-major A:
// a[i*lda + p]) or its columns in place (A stored transposed, [k, m]: a[p*lda + i]).
enum class AIn { packed, rows, cols };

// e^x for float lanes: Cody-Waite range reduction (x = n*ln2 + r) and a degree-6 polynomial on
// |r| <= ln2/2 (Cephes expf coefficients), then scalef by 2^n. Inputs clamped to [-87, 88] so the
// result stays a normal finite float; relative error ~2 ulp.
inline __m512 exp_ps(__m512 x) {
  x = _mm512_min_ps(_mm512_max_ps(x, _mm512_set1_ps(-87.0f)), _mm512_set1_ps(88.0f));
  const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                        _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
  __m512 p = _mm512_set1_ps(1.9875691500e-4f);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
  const __m512 y = _mm512_add_ps(_mm512_fmadd_ps(_mm512_mul_ps(p, r), r, r), _mm512_set1_ps(1.0f));
  return _mm512_scalef_ps(y, n);
}

inline __m512 activate(__m512 x, GemmActivation act, float alpha) {
  const __m512 zero = _mm512_setzero_ps();
  const __m512 one = _mm512_set1_ps(1.0f);
  switch (act) {
    case GemmActivation::none: return x;
    // max returns its second operand when either is NaN: max(0, x) keeps NaN, as the scalar
    // `x < 0 ? 0 : x`, the reference backend and PyTorch do.
    case GemmActivation::relu: return _mm512_max_ps(zero, x);
    case GemmActivation::leaky_relu: {
      const __mmask16 neg = _mm512_cmp_ps_mask(x, zero, _CMP_NGT_UQ);
      return _mm512_mask_mul_ps(x, neg, x, _mm512_set1_ps(alpha));
    }
    case GemmActivation::elu: {
      const __mmask16 neg = _mm512_cmp_ps_mask(x, zero, _CMP_NGT_UQ);
      const __m512 em1 = _mm512_sub_ps(exp_ps(x), one);
      return _mm512_mask_mul_ps(x, neg, em1, _mm512_set1_ps(alpha));
    }
    case GemmActivation::sigmoid:
      return _mm512_div_ps(one, _mm512_add_ps(one, exp_ps(_mm512_sub_ps(zero, x))));
    case GemmActivation::tanh: {
      // tanh|x| = (1 - e^{-2|x|}) / (1 + e^{-2|x|}), sign restored from x.
      const __m512 sign = _mm512_castsi512_ps(_mm512_and_si512(_mm512_castps_si512(x), _mm512_set1_epi32(INT32_MIN)));
      const __m512 ax = _mm512_castsi512_ps(_mm512_andnot_si512(_mm512_set1_epi32(INT32_MIN), _mm512_castps_si512(x)));
      const __m512 e = exp_ps(_mm512_mul_ps(ax, _mm512_set1_ps(-2.0f)));
      const __m512 t = _mm512_div_ps(_mm512_sub_ps(one, e), _mm512_add_ps(one, e));
      return _mm512_castsi512_ps(_mm512_or_si512(_mm512_castps_si512(t), _mm512_castps_si512(sign)));
    }
  }
  return x;
}

inline __mmask16 column_mask(int nr_valid, int v) {
  const int left = nr_valid - v * 16;
  if (left >= 16) return 0xFFFF;
  if (left <= 0) return 0;
  return static_cast<__mmask16>((1u << left) - 1u);
}

// The common finishes of a tile: t = acc (+ C) (+ bias) (relu), stored. Fully unrolled with constant
// indices so the accumulators stay in registers: the loop with a run-time row bound that served every
// case made GCC spill all 28 of them to the stack, reload them one by one and test the epilogue
// flags and the activation per vector (~10 % of a 14x32 tile when K = 64, the weight gradients).
template <int MR, int NV, bool kLoadC, bool kBias, bool kRelu>
inline void store_tile(__m512 (&acc)[MR][NV], const __mmask16 (&mask)[NV], float* c, int64_t ldc, int mr_valid,
                       const float* bias_ptr) {
  __m512 bias[NV];
#pragma GCC unroll 8
  for (int v = 0; v < NV; ++v) bias[v] = kBias ? _mm512_maskz_loadu_ps(mask[v], bias_ptr + v * 16) : _mm512_setzero_ps();
#pragma GCC unroll 32
  for (int i = 0; i < MR; ++i) {
    if (i < mr_valid) {
      float* ci = c + i * ldc;
#pragma GCC unroll 8
      for (int v = 0; v < NV; ++v) {
        __m512 t = acc[i][v];
        if (kLoadC) t = _mm512_add_ps(t, _mm512_maskz_loadu_ps(mask[v], ci + v * 16));
        if (kBias) t = _mm512_add_ps(t, bias[v]);
        if (kRelu) t = _mm512_max_ps(_mm512_setzero_ps(), t);  // keeps NaN, as activate() does
        _mm512_mask_storeu_ps(ci + v * 16, mask[v], t);
      }
    }
  }
}

template <int MR, int NV, bool kLoadC>
inline void store_tile(__m512 (&acc)[MR][NV], const __mmask16 (&mask)[NV], float* c, int64_t ldc, int mr_valid,
                       const float* bias, bool relu) {
  if (bias != nullptr) {
    if (relu) store_tile<MR, NV, kLoadC, true, true>(acc, mask, c, ldc, mr_valid, bias);
    else store_tile<MR, NV, kLoadC, true, false>(acc, mask, c, ldc, mr_valid, bias);
  } else {
    if (relu) store_tile<MR, NV, kLoadC, false, true>(acc, mask, c, ldc, mr_valid, bias);
    else store_tile<MR, NV, kLoadC, false, false>(acc, mask, c, ldc, mr_valid, bias);
  }
}

// The last K block with another activation (exp for elu / sigmoid / tanh dominates there anyway):
// one rolled loop serves them all.
template <int MR, int NV>
inline void finish_tile(__m512 (&acc)[MR][NV], const __mmask16 (&mask)[NV], float* c, int64_t ldc, int mr_valid,
                        const GemmTileEpilogue& ep) {
  // The rolled loop indexes the tile with a run-time row, which needs it in memory: copy it out here
  // (unrolled) so only this path spills, not the common ones above.
  alignas(64) float tile[MR][NV * 16];
#pragma GCC unroll 32
  for (int i = 0; i < MR; ++i) {
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v) _mm512_store_ps(&tile[i][v * 16], acc[i][v]);
  }
  __m512 bias[NV];
  for (int v = 0; v < NV; ++v) {
    bias[v] = ep.bias != nullptr ? _mm512_maskz_loadu_ps(mask[v], ep.bias + v * 16) : _mm512_setzero_ps();
  }
  for (int i = 0; i < MR; ++i) {
    if (i >= mr_valid) break;
    float* ci = c + i * ldc;
    for (int v = 0; v < NV; ++v) {
      __m512 t = _mm512_load_ps(&tile[i][v * 16]);
      if (ep.load_c) t = _mm512_add_ps(t, _mm512_maskz_loadu_ps(mask[v], ci + v * 16));
      if (ep.bias != nullptr) t = _mm512_add_ps(t, bias[v]);
      _mm512_mask_storeu_ps(ci + v * 16, mask[v], activate(t, ep.activation, ep.alpha));
    }
  }
}

// K steps of the tile loop, two at a time (`pairs` of them): one loop branch and pointer bump per
// 2*MR*NV FMAs. Measured on packed L1/L2-resident panels (gemm_bench --ukernel, 1 thread, 14x32,
// kc 128-384): 176-185 GFLOP/s one step at a time, 187-197 two at a time. By 4 or 8 GCC runs out of
// the 32 zmm registers (spills and copies inside the loop) and falls back to ~180. Every output
// still sums its products in order p = 0, 1, ... AS is the row count of the packed A panel (>= MR).
template <int MR, int NV, int AS>
__attribute__((always_inline)) inline void fma_pairs(__m512 (&acc)[MR][NV], const float*& a, const float*& b,
                                                     int64_t ldb, int64_t pairs) {
  for (int64_t p = 0; p < pairs; ++p) {
#pragma GCC unroll 2
    for (int u = 0; u < 2; ++u) {
      __m512 bv[NV];
#pragma GCC unroll 8
      for (int v = 0; v < NV; ++v) bv[v] = _mm512_loadu_ps(b + u * ldb + v * 16);
#pragma GCC unroll 32
      for (int i = 0; i < MR; ++i) {
        const __m512 ai = _mm512_set1_ps(a[u * AS + i]);
#pragma GCC unroll 8
        for (int v = 0; v < NV; ++v) acc[i][v] = _mm512_fmadd_ps(ai, bv[v], acc[i][v]);
      }
    }
    a += 2 * AS;
    b += 2 * ldb;
  }
}

// fma_pairs with A stored transposed and read in place: element (i, p) at a[p*lda + i], so the MR values
// of a step are contiguous as in a packed panel, but the steps lda floats apart. Two step pointers (p and
// p + 1) that pass through an empty asm after each pair, so that GCC addresses every broadcast as pointer
// + constant instead of hoisting MR offsets of the second step into registers it then spills and reloads
// (loads cost FMA throughput on this core; see fma_pairs_strided_a).
template <int MR, int NV>
__attribute__((always_inline)) inline void fma_pairs_cols(__m512 (&acc)[MR][NV], const float*& a, int64_t lda,
                                                          const float*& b, int64_t ldb, int64_t pairs) {
  const float* s0 = a;
  const float* s1 = a + lda;
  const int64_t two = 2 * lda;
  for (int64_t p = 0; p < pairs; ++p) {
#pragma GCC unroll 2
    for (int u = 0; u < 2; ++u) {
      const float* s = u == 0 ? s0 : s1;
      __m512 bv[NV];
#pragma GCC unroll 8
      for (int v = 0; v < NV; ++v) bv[v] = _mm512_loadu_ps(b + u * ldb + v * 16);
#pragma GCC unroll 32
      for (int i = 0; i < MR; ++i) {
        const __m512 ai = _mm512_set1_ps(s[i]);
#pragma GCC unroll 8
        for (int v = 0; v < NV; ++v) acc[i][v] = _mm512_fmadd_ps(ai, bv[v], acc[i][v]);
      }
    }
    s0 += two;
    s1 += two;
    __asm__("" : "+r"(s0), "+r"(s1));
    b += 2 * ldb;
  }
  a = s0;
}

// The loop bodies of fma_pairs, fma_pairs_cols and fma_pairs_strided_a are written out each time on
// purpose: with one shared step helper GCC allocated the in-place-rows loop differently, reloaded 4
// values from the stack per pair, and (64,784,256)'s tile loops with A in place went 73 -> 76 us.

// fma_pairs with A read in place: row i at a + i*lda. Written plainly (a[i*lda + u]), GCC hoists the
// 14 row offsets out of the loop, runs out of registers and reloads each one from the stack before its
// broadcast: ~22 extra loads per pair of K steps, and on this core every load costs FMA throughput
// (the 14x32 tile with A in place ran at 160-162 GFLOP/s against 177 packed, B from L2). Here every row
// is one of three row pointers (rows 0, 5, 10) plus 0, 1, 2 or 4 strides or one triple stride, which
// x86 addressing takes as base + index*scale: 5 registers. The pointers pass through an empty asm after
// each step, so GCC cannot turn the 14 addresses back into induction variables of their own. Same
// products, same order: bit-identical to the packed panel.
template <int MR, int NV>
__attribute__((always_inline)) inline void fma_pairs_strided_a(__m512 (&acc)[MR][NV], const float*& a, int64_t lda,
                                                               const float*& b, int64_t ldb, int64_t pairs) {
  static_assert(MR <= 15, "three row pointers cover 15 rows");
  int64_t x = lda * static_cast<int64_t>(sizeof(float));  // bytes between rows
  int64_t y = 3 * x;
  __asm__("" : "+r"(x), "+r"(y));
  // Rows 0-4, 5-9 and 10-14 (the last two unused by short tiles).
  const char* p0 = reinterpret_cast<const char*>(a);
  const char* p1 = p0 + 5 * x;
  const char* p2 = p0 + 10 * x;
  const auto row = [&](int i, int u) -> float {
    const char* p = (i < 5 ? p0 : i < 10 ? p1 : p2) + u * static_cast<int64_t>(sizeof(float));
    switch (i % 5) {
      case 0: return *reinterpret_cast<const float*>(p);
      case 1: return *reinterpret_cast<const float*>(p + x);
      case 2: return *reinterpret_cast<const float*>(p + 2 * x);
      case 3: return *reinterpret_cast<const float*>(p + y);
      default: return *reinterpret_cast<const float*>(p + 4 * x);
    }
  };
  for (int64_t p = 0; p < pairs; ++p) {
#pragma GCC unroll 2
    for (int u = 0; u < 2; ++u) {
      __m512 bv[NV];
#pragma GCC unroll 8
      for (int v = 0; v < NV; ++v) bv[v] = _mm512_loadu_ps(b + u * ldb + v * 16);
#pragma GCC unroll 32
      for (int i = 0; i < MR; ++i) {
        const __m512 ai = _mm512_set1_ps(row(i, u));
#pragma GCC unroll 8
        for (int v = 0; v < NV; ++v) acc[i][v] = _mm512_fmadd_ps(ai, bv[v], acc[i][v]);
      }
    }
    p0 += 2 * sizeof(float);
    __asm__("" : "+r"(p0));
    if constexpr (MR > 5) {
      p1 += 2 * sizeof(float);
      __asm__("" : "+r"(p1));
    }
    if constexpr (MR > 10) {
      p2 += 2 * sizeof(float);
      __asm__("" : "+r"(p2));
    }
    b += 2 * ldb;
  }
  a += 2 * pairs;
}

// The MR x NV*16 tile; A is read from a packed panel of AS >= MR rows (only its first MR are used), or in
// place (kA, see AIn; all MR rows readable).
template <int MR, int NV, int AS = MR, AIn kA = AIn::packed>
inline void gemm_tile(int64_t kc, const float* a, int64_t lda, const float* b, int64_t ldb, float* c, int64_t ldc,
                      int mr_valid, int nr_valid, const GemmTileEpilogue& ep) {
  // Every loop over the tile is unrolled by pragma, so the accumulators are scalars to GCC from the start
  // and stay in registers through the epilogue.
  __m512 acc[MR][NV];
#pragma GCC unroll 32
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v) acc[i][v] = _mm512_setzero_ps();

  if constexpr (kA == AIn::rows) {
    fma_pairs_strided_a<MR, NV>(acc, a, lda, b, ldb, kc / 2);
  } else if constexpr (kA == AIn::cols) {
    fma_pairs_cols<MR, NV>(acc, a, lda, b, ldb, kc / 2);
  } else {
    fma_pairs<MR, NV, AS>(acc, a, b, ldb, kc / 2);
  }
  if (kc % 2 != 0) {
    __m512 bv[NV];
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v) bv[v] = _mm512_loadu_ps(b + v * 16);
#pragma GCC unroll 32
    for (int i = 0; i < MR; ++i) {
      const __m512 ai = _mm512_set1_ps(kA == AIn::rows ? a[i * lda] : a[i]);
#pragma GCC unroll 8
      for (int v = 0; v < NV; ++v) acc[i][v] = _mm512_fmadd_ps(ai, bv[v], acc[i][v]);
    }
  }

  __mmask16 mask[NV];
#pragma GCC unroll 8
  for (int v = 0; v < NV; ++v) mask[v] = column_mask(nr_valid, v);
  const GemmActivation act = ep.finish ? ep.activation : GemmActivation::none;
  if (act != GemmActivation::none && act != GemmActivation::relu) {
    finish_tile<MR, NV>(acc, mask, c, ldc, mr_valid, ep);
    return;
  }
  const float* bias = ep.finish ? ep.bias : nullptr;
  const bool relu = act == GemmActivation::relu;
  if (ep.load_c) {
    store_tile<MR, NV, true>(acc, mask, c, ldc, mr_valid, bias, relu);
  } else {
    store_tile<MR, NV, false>(acc, mask, c, ldc, mr_valid, bias, relu);
  }
}

}  // namespace tf::avx512

namespace tf::avx512 {

// A tile of an MR-row kernel with mr_valid rows: the last row tile of an M that MR does not divide
// runs only the rows it needs (rounded up to even: R = MR, MR-2, ..., 2), not MR rows of which the
// rest are zero padding. Each output's sum is the same chain of FMAs either way, so results do not
// change. M = 64 with 14 rows: 64 rows of FMAs instead of 70; M = 256: 256 instead of 266.
template <int MR, int NV, int R = MR, AIn kA = AIn::packed>
inline void gemm_tile_rows(int64_t kc, const float* a, int64_t lda, const float* b, int64_t ldb, float* c, int64_t ldc,
                           int mr_valid, int nr_valid, const GemmTileEpilogue& ep) {
  static_assert(MR % 2 == 0 && R % 2 == 0 && R >= 2, "row variants are MR, MR-2, ..., 2");
  if constexpr (R == 2) {
    gemm_tile<R, NV, MR, kA>(kc, a, lda, b, ldb, c, ldc, mr_valid, nr_valid, ep);
  } else {
    if (mr_valid > R - 2) {
      gemm_tile<R, NV, MR, kA>(kc, a, lda, b, ldb, c, ldc, mr_valid, nr_valid, ep);
    } else {
      gemm_tile_rows<MR, NV, R - 2, kA>(kc, a, lda, b, ldb, c, ldc, mr_valid, nr_valid, ep);
    }
  }
}

// The tile with only the vectors its valid columns cover: NV = ceil(nr_valid / 16) of at most NVMAX (a
// partial last panel, N = 784 past 32- or 64-column panels). Each output's sum is the same chain of FMAs
// whichever variant runs it.
template <int MR, int NVMAX, AIn kA, int NV = 1>
inline void gemm_tile_columns(int64_t kc, const float* a, int64_t lda, const float* b, int64_t ldb, float* c,
                              int64_t ldc, int mr_valid, int nr_valid, const GemmTileEpilogue& ep) {
  if constexpr (NV < NVMAX) {
    if (nr_valid <= NV * 16) return gemm_tile_rows<MR, NV, MR, kA>(kc, a, lda, b, ldb, c, ldc, mr_valid, nr_valid, ep);
    gemm_tile_columns<MR, NVMAX, kA, NV + 1>(kc, a, lda, b, ldb, c, ldc, mr_valid, nr_valid, ep);
  } else {
    gemm_tile_rows<MR, NVMAX, MR, kA>(kc, a, lda, b, ldb, c, ldc, mr_valid, nr_valid, ep);
  }
}

}  // namespace tf::avx512
