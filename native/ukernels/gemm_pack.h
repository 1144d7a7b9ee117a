// Packing of GEMM operands into the micro-kernel layouts (gemm_ukernels.h), portable form. This is the
// oracle the SIMD packers (gemm_pack__avx.h) are tested against, the scalar level's packer, and the
// driver's fallback for a kernel registered without packers. Plain loops, no intrinsics.
//
//   pack_a: op(A) rows [0, rows) x k [0, kc) -> ceil(rows/MR) panels [kc x MR], dst[panel*kc*MR + p*MR + i]
//           a points at op(A)(0, 0): trans ? a[p*lda + i] (A stored [k,m]) : a[i*lda + p]
//   pack_b: op(B) k [0, kc) x columns [0, cols) -> ceil(cols/NR) panels [kc x NR], dst[panel*kc*NR + p*NR + j]
//           b points at op(B)(0, 0): trans ? b[j*ldb + p] (B stored [n,k]) : b[p*ldb + j]
// Rows / columns past `rows` / `cols` in the last panel are written as zeros; nothing outside the
// rows x kc (cols x kc) window of the source is read.
//   transpose: dst[j*ldd + i] = src[i*lds + j] for i < rows, j < cols (GemmTransposeFn).
#pragma once

#include <algorithm>
#include <cstdint>

namespace tf::pack_portable {

inline void pack_a(const float* a, int64_t lda, bool trans, int64_t rows, int64_t kc, int mr, float* dst) {
  for (int64_t r0 = 0; r0 < rows; r0 += mr, dst += kc * mr) {
    const int valid = static_cast<int>(std::min<int64_t>(mr, rows - r0));
    for (int64_t p = 0; p < kc; ++p) {
      float* d = dst + p * mr;
      for (int i = 0; i < valid; ++i) d[i] = trans ? a[p * lda + r0 + i] : a[(r0 + i) * lda + p];
      for (int i = valid; i < mr; ++i) d[i] = 0.0f;
    }
  }
}

inline void pack_b(const float* b, int64_t ldb, bool trans, int64_t cols, int64_t kc, int nr, float* dst) {
  for (int64_t j0 = 0; j0 < cols; j0 += nr, dst += kc * nr) {
    const int valid = static_cast<int>(std::min<int64_t>(nr, cols - j0));
    for (int64_t p = 0; p < kc; ++p) {
      float* d = dst + p * nr;
      for (int j = 0; j < valid; ++j) d[j] = trans ? b[(j0 + j) * ldb + p] : b[p * ldb + j0 + j];
      for (int j = valid; j < nr; ++j) d[j] = 0.0f;
    }
  }
}

inline void transpose(const float* src, int64_t lds, int64_t rows, int64_t cols, float* dst, int64_t ldd) {
  for (int64_t j = 0; j < cols; ++j) {
    for (int64_t i = 0; i < rows; ++i) dst[j * ldd + i] = src[i * lds + j];
  }
}

}  // namespace tf::pack_portable
