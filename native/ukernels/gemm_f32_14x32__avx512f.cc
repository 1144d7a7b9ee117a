// AVX-512 14x32 GEMM micro-kernel: 14 rows x 2 zmm columns = 28 accumulators.
//
// A panel with at most 16 valid columns (N <= 16, a classifier's 10 logits; the last panel of N = 784)
// runs the one-vector tile on the panel's first 16 columns (avx512::gemm_tile_columns): half the FMAs
// of the full tile, which would compute a second vector of masked-off lanes. Each output's sum is the
// same chain of FMAs either way.
#include "ukernels/gemm_pack__avx.h"
#include "ukernels/gemm_tile__avx512f.h"

namespace tf {

void gemm_f32_14x32__avx512f(int64_t kc, const float* a, const float* b, float* c, int64_t ldc, int mr_valid,
                             int nr_valid, const GemmTileEpilogue& ep) {
  avx512::gemm_tile_columns<14, 2, avx512::AIn::packed>(kc, a, 0, b, 32, c, ldc, mr_valid, nr_valid, ep);
}

void gemm_f32_14x32__avx512f_strided_b(int64_t kc, const float* a, const float* b, int64_t ldb, float* c, int64_t ldc, int mr_valid,
                      int nr_valid, const GemmTileEpilogue& ep) {
  avx512::gemm_tile_columns<14, 2, avx512::AIn::packed>(kc, a, 0, b, ldb, c, ldc, mr_valid, nr_valid, ep);
}

void gemm_f32_14x32__avx512f_strided_a(int64_t kc, const float* a, int64_t lda, const float* b, float* c, int64_t ldc,
                                       int mr_valid, int nr_valid, const GemmTileEpilogue& ep) {
  avx512::gemm_tile_columns<14, 2, avx512::AIn::rows>(kc, a, lda, b, 32, c, ldc, mr_valid, nr_valid, ep);
}

void gemm_f32_14x32__avx512f_pack_a(const float* a, int64_t lda, bool trans, int64_t rows, int64_t kc, float* dst) {
  pack_avx::pack_a<14>(a, lda, trans, rows, kc, dst);
}

void gemm_f32_14x32__avx512f_pack_b(const float* b, int64_t ldb, bool trans, int64_t cols, int64_t kc, float* dst) {
  pack_avx::pack_b<32>(b, ldb, trans, cols, kc, dst);
}

void gemm_f32_14x32__avx512f_transpose(const float* src, int64_t lds, int64_t rows, int64_t cols, float* dst,
                                       int64_t ldd) {
  pack_avx::transpose(src, lds, rows, cols, dst, ldd);
}

void gemm_f32_14x32__avx512f_strided_ab(int64_t kc, const float* a, int64_t lda, const float* b, int64_t ldb, float* c,
                                       int64_t ldc, int mr_valid, int nr_valid, const GemmTileEpilogue& ep) {
  avx512::gemm_tile_columns<14, 2, avx512::AIn::rows>(kc, a, lda, b, ldb, c, ldc, mr_valid, nr_valid, ep);
}

}  // namespace tf
