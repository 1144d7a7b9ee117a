// Row gather against a plain copy loop, with guard pages after x and y (a row copied past its end, or
// a prefetch-driven over-read turned into a read, would fault), odd row sizes, every thread count.
#include <cstdint>
#include <string>
#include <vector>

#include "kernels/gather.h"
#include "tests/testing.h"

using namespace tf;
using namespace tf::testing;

TF_TEST(gather_rows_matches_plain_copy) {
  Rng rng(17);
  for_each_thread_count([&](int threads) {
    for (int64_t row : {1, 3, 16, 17, 784, 5000}) {
      for (int64_t n : {1, 5, 64, 257}) {
        const int64_t rows = 37;
        GuardedBuffer x(static_cast<size_t>(rows * row));
        rng.fill(x.data(), x.size());
        std::vector<int32_t> idx(static_cast<size_t>(n));
        for (int64_t i = 0; i < n; ++i) idx[static_cast<size_t>(i)] = static_cast<int32_t>((i * 7 + 3) % rows);
        idx[0] = static_cast<int32_t>(rows - 1);  // the last row, right before the guard page
        GuardedBuffer y(static_cast<size_t>(n * row));
        gather_rows(n, row, x.data(), idx.data(), y.data());
        std::vector<float> want(static_cast<size_t>(n * row));
        for (int64_t i = 0; i < n; ++i) {
          for (int64_t k = 0; k < row; ++k) want[static_cast<size_t>(i * row + k)] = x[static_cast<size_t>(idx[static_cast<size_t>(i)] * row + k)];
        }
        if (!expect_identical(y.data(), want.data(), want.size(),
                              "row=" + std::to_string(row) + " n=" + std::to_string(n) + " threads=" + std::to_string(threads))) {
          return;
        }
      }
    }
  });
}
