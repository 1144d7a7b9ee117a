#include "kernels/gather.h"

#include <cstring>

#include "runtime/thread_pool.h"

namespace tf {

// Batches are gathered from datasets far larger than the caches, so each source row starts with a
// cache miss. Prefetching a few rows ahead overlaps those misses with the copies instead of paying
// them one after another; copying is a plain memcpy (each row is contiguous).
void gather_row_bytes(int64_t begin, int64_t end, int64_t prefetch_end, int64_t row_bytes, const void* x,
                      const int32_t* indices, void* y) {
  constexpr int64_t kAhead = 4;  // rows prefetched ahead of the one being copied
  constexpr int64_t kLines = 8;  // cache lines prefetched per row (the hardware streams the rest)
  const auto* src = static_cast<const char*>(x);
  auto* dst = static_cast<char*>(y);
  for (int64_t i = begin; i < end; ++i) {
    if (i + kAhead < prefetch_end) {
      const char* ahead = src + indices[i + kAhead] * row_bytes;
      for (int64_t l = 0; l < kLines && l * 64 < row_bytes; ++l) __builtin_prefetch(ahead + l * 64);
    }
    std::memcpy(dst + i * row_bytes, src + indices[i] * row_bytes, static_cast<size_t>(row_bytes));
  }
}

void gather_rows(int64_t n, int64_t row_size, const float* x, const int32_t* indices, float* y) {
  const int64_t bytes = row_size * static_cast<int64_t>(sizeof(float));
  const int64_t grain = row_size >= 4096 ? 1 : (4096 + row_size - 1) / row_size;
  parallel_for(n, grain, [&](int64_t begin, int64_t end) { gather_row_bytes(begin, end, end, bytes, x, indices, y); });
}

}  // namespace tf
