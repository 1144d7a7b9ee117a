// The AVX-512 GEMM kernels' entries that read A stored transposed ([k, m]) in place: strided_at (B
// packed) and strided_atb (B in place too), for the 14x32 and 6x64 tiles (contracts in
// gemm_ukernels.h; registered by TF_GEMM_STRIDED_AT in ukernels.inc).
//
// A file of their own: instantiated beside the packed entries, they changed how GCC cloned the packed
// tile, and the packed 14x32 tile ran 2-4 % slower on panels in L1 (gemm_bench --ukernel).
#include "ukernels/gemm_tile__avx512f.h"

namespace tf {

// name##_strided_at and name##_strided_atb for a tile of MR rows and NV vectors (NR = 16 * NV columns).
#define TF_GEMM_STRIDED_AT_ENTRIES(name, MR, NV)                                                               \
  void name##_strided_at(int64_t kc, const float* a, int64_t lda, const float* b, float* c, int64_t ldc,          \
                         int mr_valid, int nr_valid, const GemmTileEpilogue& ep) {                               \
    avx512::gemm_tile_columns<MR, NV, avx512::AIn::cols>(kc, a, lda, b, 16 * NV, c, ldc, mr_valid, nr_valid, ep); \
  }                                                                                                           \
  void name##_strided_atb(int64_t kc, const float* a, int64_t lda, const float* b, int64_t ldb, float* c,        \
                          int64_t ldc, int mr_valid, int nr_valid, const GemmTileEpilogue& ep) {                 \
    avx512::gemm_tile_columns<MR, NV, avx512::AIn::cols>(kc, a, lda, b, ldb, c, ldc, mr_valid, nr_valid, ep);     \
  }

TF_GEMM_STRIDED_AT_ENTRIES(gemm_f32_14x32__avx512f, 14, 2)
TF_GEMM_STRIDED_AT_ENTRIES(gemm_f32_6x64__avx512f, 6, 4)

#undef TF_GEMM_STRIDED_AT_ENTRIES

}  // namespace tf
