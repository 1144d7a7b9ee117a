// Row gather: building a batch from sample indices (Backend.gatherRows in lib/backend/backend.ts).
#pragma once

#include <cstdint>

namespace tf {

// x [rows, row_size], indices [n] (each in [0, rows), checked by the caller) -> y [n, row_size]:
// y's row i = x's row indices[i]. Threaded over rows of y.
void gather_rows(int64_t n, int64_t row_size, const float* x, const int32_t* indices, float* y);

}  // namespace tf
