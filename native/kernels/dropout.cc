// Dropout over one flat buffer, split over elements (each element's fate depends only on seed and i).
#include "kernels/dropout.h"

#include "runtime/thread_pool.h"

namespace tf {
namespace {

// Elements [begin, end). Plain value parameters: nothing the loop reads can alias mask or y, so it
// vectorizes.
void dropout_range(int64_t begin, int64_t end, uint32_t seed_hash, uint32_t threshold, float scale, const float* x,
                   float* y, float* mask) {
  for (int64_t i = begin; i < end; ++i) {
    const float mi = dropout_keep(seed_hash, i, threshold) ? scale : 0.0f;
    mask[i] = mi;
    y[i] = x[i] * mi;
  }
}

}  // namespace

void dropout(int64_t n, double p, uint32_t seed, const float* x, float* y, float* mask) {
  const uint32_t seed_hash = lowbias32(seed);
  const uint32_t threshold = dropout_threshold(p);
  // Rounded once, like the reference's Float32Array store; x·scale is then the correctly rounded
  // float product on both backends.
  const float scale = static_cast<float>(1.0 / (1.0 - p));
  parallel_for(n, 16384, [&](int64_t begin, int64_t end) {
    dropout_range(begin, end, seed_hash, threshold, scale, x, y, mask);
  });
}

}  // namespace tf
