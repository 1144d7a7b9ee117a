// AVX-512 14x32 GEMM micro-kernel: 14 rows x 2 zmm columns = 28 accumulators.
#include "ukernels/gemm_tile__avx512f.h"

namespace tf {

void gemm_f32_14x32__avx512f(int64_t kc, const float* a, const float* b, float* c, int64_t ldc, int mr_valid,
                             int nr_valid, const GemmTileEpilogue& ep) {
  avx512::gemm_tile<14, 2>(kc, a, b, c, ldc, mr_valid, nr_valid, ep);
}

}  // namespace tf
