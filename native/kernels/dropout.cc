#include "kernels/dropout.h"

#include "runtime/thread_pool.h"

namespace tf {

void dropout(int64_t n, double p, uint32_t seed, const float* x, float* y, float* mask) {
  const uint32_t seed_hash = lowbias32(seed);
  // Rounded once, like the reference's Float32Array store; x·scale is then the correctly rounded
  // float product on both backends.
  const float scale = static_cast<float>(1.0 / (1.0 - p));
  parallel_for(n, 16384, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      const float mi = dropout_keep(seed_hash, i, p) ? scale : 0.0f;
      mask[i] = mi;
      y[i] = x[i] * mi;
    }
  });
}

}  // namespace tf
