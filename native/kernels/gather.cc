#include "kernels/gather.h"

#include <cstring>

#include "runtime/thread_pool.h"

namespace tf {

// Batches are gathered from datasets far larger than the caches, so each source row starts with a
// cache miss. Prefetching a few rows ahead overlaps those misses with the copies instead of paying
// them one after another; copying is a plain memcpy (each row is contiguous).
void gather_rows(int64_t n, int64_t row_size, const float* x, const int32_t* indices, float* y) {
  constexpr int64_t kAhead = 4;     // rows prefetched ahead of the one being copied
  constexpr int64_t kLines = 8;     // cache lines prefetched per row (the hardware streams the rest)
  const int64_t bytes = row_size * static_cast<int64_t>(sizeof(float));
  const int64_t grain = row_size >= 4096 ? 1 : (4096 + row_size - 1) / row_size;
  parallel_for(n, grain, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      if (i + kAhead < end) {
        const char* ahead = reinterpret_cast<const char*>(x + indices[i + kAhead] * row_size);
        for (int64_t l = 0; l < kLines && l * 64 < bytes; ++l) __builtin_prefetch(ahead + l * 64);
      }
      std::memcpy(y + i * row_size, x + indices[i] * row_size, static_cast<size_t>(bytes));
    }
  });
}

}  // namespace tf
