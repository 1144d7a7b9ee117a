// AVX-512 6x64 GEMM micro-kernel: 6 rows x 4 zmm columns = 24 accumulators.
//
// A partial panel runs only the vectors its valid columns cover (N = 784: the last panel holds 16
// columns, a quarter of the full tile's FMAs), as the 14x32 kernel does: the driver's thread split
// counts columns in vectors (gemm.cc, grid_partition). The entries that read a transposed A in place
// are in gemm_f32_strided_at__avx512f.cc.
#include "ukernels/gemm_pack__avx.h"
#include "ukernels/gemm_tile__avx512f.h"

namespace tf {

void gemm_f32_6x64__avx512f(int64_t kc, const float* a, const float* b, float* c, int64_t ldc, int mr_valid,
                             int nr_valid, const GemmTileEpilogue& ep) {
  avx512::gemm_tile_columns<6, 4, avx512::AIn::packed>(kc, a, 0, b, 64, c, ldc, mr_valid, nr_valid, ep);
}

void gemm_f32_6x64__avx512f_strided_b(int64_t kc, const float* a, const float* b, int64_t ldb, float* c, int64_t ldc, int mr_valid,
                      int nr_valid, const GemmTileEpilogue& ep) {
  avx512::gemm_tile_columns<6, 4, avx512::AIn::packed>(kc, a, 0, b, ldb, c, ldc, mr_valid, nr_valid, ep);
}

void gemm_f32_6x64__avx512f_strided_a(int64_t kc, const float* a, int64_t lda, const float* b, float* c, int64_t ldc,
                                      int mr_valid, int nr_valid, const GemmTileEpilogue& ep) {
  avx512::gemm_tile_columns<6, 4, avx512::AIn::rows>(kc, a, lda, b, 64, c, ldc, mr_valid, nr_valid, ep);
}

void gemm_f32_6x64__avx512f_pack_a(const float* a, int64_t lda, bool trans, int64_t rows, int64_t kc, float* dst) {
  pack_avx::pack_a<6>(a, lda, trans, rows, kc, dst);
}

void gemm_f32_6x64__avx512f_pack_b(const float* b, int64_t ldb, bool trans, int64_t cols, int64_t kc, float* dst) {
  pack_avx::pack_b<64>(b, ldb, trans, cols, kc, dst);
}

void gemm_f32_6x64__avx512f_transpose(const float* src, int64_t lds, int64_t rows, int64_t cols, float* dst,
                                      int64_t ldd) {
  pack_avx::transpose(src, lds, rows, cols, dst, ldd);
}

void gemm_f32_6x64__avx512f_strided_ab(int64_t kc, const float* a, int64_t lda, const float* b, int64_t ldb, float* c,
                                      int64_t ldc, int mr_valid, int nr_valid, const GemmTileEpilogue& ep) {
  avx512::gemm_tile_columns<6, 4, avx512::AIn::rows>(kc, a, lda, b, ldb, c, ldc, mr_valid, nr_valid, ep);
}

}  // namespace tf
