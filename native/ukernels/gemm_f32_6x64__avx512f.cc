// AVX-512 6x64 GEMM micro-kernel: 6 rows x 4 zmm columns = 24 accumulators.
#include "ukernels/gemm_tile__avx512f.h"

namespace tf {

void gemm_f32_6x64__avx512f(int64_t kc, const float* a, const float* b, float* c, int64_t ldc, int mr_valid,
                             int nr_valid, const GemmTileEpilogue& ep) {
  avx512::gemm_tile<6, 4>(kc, a, b, c, ldc, mr_valid, nr_valid, ep);
}

}  // namespace tf
