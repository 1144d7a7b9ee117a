// SIMD packing of GEMM operands (layouts and contract: gemm_pack.h), shared by the AVX2+FMA and
// AVX-512 micro-kernel files, which instantiate it for their MR / NR. Included only by files compiled
// with at least -mavx2; with AVX-512 (VL) enabled it uses mask registers for partial vectors and
// 16-float copies.
//
// Why: the driver used to pack in gemm.cc, compiled for the baseline ISA (SSE2), element by element;
// perf showed packing at ~30% of (64,784,256). Transposed reads (A [m,k] into MR-row panels, B stored
// [n,k] into NR-column panels) go through 8x8 register transposes; straight copies use full vectors.
// Partial vectors use masked loads and stores, so nothing past a row's end (guard page) is touched.
#pragma once

#include <algorithm>
#include <cstdint>

#include "ukernels/x86_intrinsics.h"

namespace tf::pack_avx {

#if defined(__AVX512VL__)
inline __m256 load_n(const float* p, int n) { return _mm256_maskz_loadu_ps(static_cast<__mmask8>((1u << n) - 1u), p); }
inline void store_n(float* p, __m256 v, int n) { _mm256_mask_storeu_ps(p, static_cast<__mmask8>((1u << n) - 1u), v); }
#else
inline __m256i lanes_below(int n) { return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7)); }
inline __m256 load_n(const float* p, int n) { return _mm256_maskload_ps(p, lanes_below(n)); }
inline void store_n(float* p, __m256 v, int n) { _mm256_maskstore_ps(p, lanes_below(n), v); }
#endif

// n in [0, 8] floats from p (the rest zero); a full load when n == 8.
inline __m256 load_upto8(const float* p, int n) {
  if (n >= 8) return _mm256_loadu_ps(p);
  if (n <= 0) return _mm256_setzero_ps();
  return load_n(p, n);
}

// In place: r[i][j] -> r[j][i].
inline void transpose8(__m256 r[8]) {
  const __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
  const __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
  const __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
  const __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
  const __m256 s0 = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(1, 0, 1, 0));
  const __m256 s1 = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(3, 2, 3, 2));
  const __m256 s2 = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(1, 0, 1, 0));
  const __m256 s3 = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(3, 2, 3, 2));
  const __m256 s4 = _mm256_shuffle_ps(t4, t6, _MM_SHUFFLE(1, 0, 1, 0));
  const __m256 s5 = _mm256_shuffle_ps(t4, t6, _MM_SHUFFLE(3, 2, 3, 2));
  const __m256 s6 = _mm256_shuffle_ps(t5, t7, _MM_SHUFFLE(1, 0, 1, 0));
  const __m256 s7 = _mm256_shuffle_ps(t5, t7, _MM_SHUFFLE(3, 2, 3, 2));
  r[0] = _mm256_permute2f128_ps(s0, s4, 0x20);
  r[1] = _mm256_permute2f128_ps(s1, s5, 0x20);
  r[2] = _mm256_permute2f128_ps(s2, s6, 0x20);
  r[3] = _mm256_permute2f128_ps(s3, s7, 0x20);
  r[4] = _mm256_permute2f128_ps(s0, s4, 0x31);
  r[5] = _mm256_permute2f128_ps(s1, s5, 0x31);
  r[6] = _mm256_permute2f128_ps(s2, s6, 0x31);
  r[7] = _mm256_permute2f128_ps(s3, s7, 0x31);
}

// One 8x8 block: dst[t*ld + i] = src[i*lds + t] for t < kk (<= 8) and i < lanes (<= 8); source rows
// i >= rows read as zeros (and are never touched).
inline void transpose_block(const float* src, int64_t lds, int rows, int kk, int lanes, float* dst, int64_t ld) {
  __m256 r[8];
  if (kk == 8) {
    for (int i = 0; i < 8; ++i) r[i] = i < rows ? _mm256_loadu_ps(src + i * lds) : _mm256_setzero_ps();
  } else {
    for (int i = 0; i < 8; ++i) r[i] = i < rows ? load_n(src + i * lds, kk) : _mm256_setzero_ps();
  }
  transpose8(r);
  if (lanes == 8) {
    for (int t = 0; t < kk; ++t) _mm256_storeu_ps(dst + t * ld, r[t]);
  } else {
    for (int t = 0; t < kk; ++t) store_n(dst + t * ld, r[t], lanes);
  }
}

// dst[p*LD + i] = src[i*lds + p] for i < LD (rows i >= rows are zeros), p < kc: a panel of LD
// columns read from LD source rows that are contiguous in p. In steps of 8 p, so the 8 panel rows
// being written (8 x LD floats) and the source lines being read stay in L1 (a band of 8 columns
// over the whole kc at a time walked the whole panel, 67 KB for 64 columns, once per band).
template <int LD>
inline void transpose_panel(const float* src, int64_t lds, int rows, int64_t kc, float* dst) {
  for (int64_t p = 0; p < kc; p += 8) {
    const int kk = static_cast<int>(std::min<int64_t>(8, kc - p));
    for (int g = 0; g < LD; g += 8) {
      const int band_rows = std::max(0, std::min(8, rows - g));
      const int lanes = std::min(8, LD - g);
      transpose_block(band_rows > 0 ? src + g * lds + p : src, lds, band_rows, kk, lanes, dst + p * LD + g, LD);
    }
  }
}

// d[j] = s[j] for j < cols, zeros for cols <= j < LD: one panel row.
template <int LD>
inline void copy_row(const float* s, int cols, float* d) {
#if defined(__AVX512F__)
  if (LD % 16 == 0 && cols == LD) {
    for (int j = 0; j < LD; j += 16) _mm512_storeu_ps(d + j, _mm512_loadu_ps(s + j));
    return;
  }
#endif
  if (LD % 8 == 0 && cols == LD) {
    for (int j = 0; j < LD; j += 8) _mm256_storeu_ps(d + j, _mm256_loadu_ps(s + j));
    return;
  }
  for (int j = 0; j < LD; j += 8) {
    const __m256 v = load_upto8(s + j, cols - j);
    if (j + 8 <= LD) {
      _mm256_storeu_ps(d + j, v);
    } else {
      store_n(d + j, v, LD - j);
    }
  }
}

// Straight copies into panels of LD columns: panel q gets columns [q*LD, q*LD + LD) of kc source rows,
// dst[q*kc*LD + p*LD + j] = src[p*lds + q*LD + j] (zeros past `cols`). In bands of 16 source rows
// across all the panels, so the source is read front to back a band at a time (16 sequential streams,
// which the prefetchers follow): panel by panel walked it at its row stride once per panel, and a
// source coming from memory (the weight gradient of a 1x1 convolution reads 38 MB of A and B for
// K = 25088) was fetched row by row with the prefetchers stopping at every page. One row at a time
// across all the panels wrote each panel's row kc*LD floats after the last (48 KB for kc = 384: the
// same L1 set for every panel); a band writes 16 rows (2 KB for LD = 32) of a panel in a row.
// Packing GB/s, L2-resident (kc, cols, source row stride): (256, 672, 675) 29 -> 35, (256, 784, 787)
// 30 -> 36, (384, 256, 1024) 28 -> 35, (256, 256, 259) 43 -> 44.
template <int LD>
inline void copy_rows(const float* src, int64_t lds, int64_t cols, int64_t kc, float* dst) {
  constexpr int64_t kBand = 16;
  const int64_t panels = (cols + LD - 1) / LD;
  const int last = static_cast<int>(cols - (panels - 1) * LD);
  for (int64_t p0 = 0; p0 < kc; p0 += kBand) {
    const int64_t p1 = std::min(kc, p0 + kBand);
    for (int64_t q = 0; q < panels; ++q) {
      const int width = q + 1 < panels ? LD : last;
      const float* s = src + q * LD;
      float* d = dst + q * kc * LD;
      for (int64_t p = p0; p < p1; ++p) copy_row<LD>(s + p * lds, width, d + p * LD);
    }
  }
}

// dst[j*ldd + i] = src[i*lds + j] for i < rows, j < cols (GemmTransposeFn): 8x8 blocks, the partial
// ones through masked loads and stores, so nothing outside the two matrices is touched. Blocks run
// along a band of 8 destination rows, which are written front to back.
inline void transpose(const float* src, int64_t lds, int64_t rows, int64_t cols, float* dst, int64_t ldd) {
  for (int64_t j = 0; j < cols; j += 8) {
    const int kk = static_cast<int>(std::min<int64_t>(8, cols - j));
    for (int64_t i = 0; i < rows; i += 8) {
      const int lanes = static_cast<int>(std::min<int64_t>(8, rows - i));
      transpose_block(src + i * lds + j, lds, lanes, kk, lanes, dst + j * ldd + i, ldd);
    }
  }
}

template <int MR>
void pack_a(const float* a, int64_t lda, bool trans, int64_t rows, int64_t kc, float* dst) {
  if (trans) {
    // A stored [k,m]: the MR values of one p are contiguous.
    copy_rows<MR>(a, lda, rows, kc, dst);
    return;
  }
  for (int64_t r0 = 0; r0 < rows; r0 += MR, dst += kc * MR) {
    // A [m,k]: MR rows transposed into the panel.
    transpose_panel<MR>(a + r0 * lda, lda, static_cast<int>(std::min<int64_t>(MR, rows - r0)), kc, dst);
  }
}

template <int NR>
void pack_b(const float* b, int64_t ldb, bool trans, int64_t cols, int64_t kc, float* dst) {
  static_assert(NR % 8 == 0, "B panels are whole 8-float vectors");
  if (!trans) {
    copy_rows<NR>(b, ldb, cols, kc, dst);
    return;
  }
  for (int64_t j0 = 0; j0 < cols; j0 += NR, dst += kc * NR) {
    // B stored [n,k]: NR source rows transposed into the panel.
    transpose_panel<NR>(b + j0 * ldb, ldb, static_cast<int>(std::min<int64_t>(NR, cols - j0)), kc, dst);
  }
}

}  // namespace tf::pack_avx
