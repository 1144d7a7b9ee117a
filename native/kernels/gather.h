// Row gather: building a batch from sample indices (Backend.gatherRows in lib/backend/backend.ts, and
// the next batch fit's recorded step gathers while it runs: planReplay's gathers).
#pragma once

#include <cstdint>

namespace tf {

// x [rows, row_size], indices [n] (each in [0, rows), checked by the caller) -> y [n, row_size]:
// y's row i = x's row indices[i]. Threaded over rows of y.
void gather_rows(int64_t n, int64_t row_size, const float* x, const int32_t* indices, float* y);

// Rows [begin, end) of the same gather, by bytes (any element type), on the calling thread; the rows up
// to `prefetch_end` (> end when another caller copies the rows after this range) are prefetched ahead.
void gather_row_bytes(int64_t begin, int64_t end, int64_t prefetch_end, int64_t row_bytes, const void* x,
                      const int32_t* indices, void* y);

}  // namespace tf
