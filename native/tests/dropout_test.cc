// Dropout against the documented counter-based formula, re-derived here in 64-bit arithmetic; masks
// must be bit-identical across ISAs and thread counts.
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "kernels/dropout.h"
#include "tests/testing.h"

using namespace tf;
using namespace tf::testing;

namespace {

// lowbias32 written with explicit 64-bit products reduced mod 2^32 (independent of the kernel's
// uint32 wrap-around arithmetic).
uint64_t naive_hash(uint64_t v) {
  const uint64_t mod = uint64_t{1} << 32;
  v ^= v >> 16;
  v = (v * 0x7feb352dULL) % mod;
  v ^= v >> 15;
  v = (v * 0x846ca68bULL) % mod;
  v ^= v >> 16;
  return v;
}

bool naive_keep(uint64_t seed, uint64_t i, double p) {
  const uint64_t h = naive_hash(((i * 0x9E3779B9ULL) % (uint64_t{1} << 32) + naive_hash(seed)) % (uint64_t{1} << 32));
  return static_cast<double>(h >> 8) / 16777216.0 >= p;
}

}  // namespace

TF_TEST(dropout_matches_formula_on_every_isa_and_thread_count) {
  Rng rng(21);
  for (int64_t n : {1, 7, 1000, 70001}) {
    for (double p : {0.0, 0.1, 0.5, 0.9}) {
      for (uint64_t seed : {uint64_t{0}, uint64_t{12345}, uint64_t{4294967295}}) {
        GuardedBuffer x(n);
        rng.fill(x.data(), n);
        const float scale = static_cast<float>(1 / (1 - p));
        std::vector<float> mask_ref(n), y_ref(n);
        for (int64_t i = 0; i < n; ++i) {
          mask_ref[i] = naive_keep(seed, i, p) ? scale : 0.0f;
          y_ref[i] = x[i] * mask_ref[i];
        }
        for_each_isa([&](Isa isa) {
          for_each_thread_count([&](int threads) {
            GuardedBuffer y(n), mask(n);
            dropout(n, p, static_cast<uint32_t>(seed), x.data(), y.data(), mask.data());
            const std::string ctx = "dropout n=" + std::to_string(n) + " p=" + std::to_string(p) +
                                    " seed=" + std::to_string(seed) + " " + isa_name(isa) + " x" +
                                    std::to_string(threads);
            expect_identical(mask.data(), mask_ref.data(), n, ctx + " mask");
            expect_identical(y.data(), y_ref.data(), n, ctx + " y");
          });
        });
      }
    }
  }
}

TF_TEST(dropout_keep_rate_and_p_zero) {
  const int64_t n = 1 << 20;
  std::vector<float> x(n, 1.0f), y(n), mask(n);
  for (double p : {0.0, 0.25, 0.5, 0.8}) {
    dropout(n, p, 7, x.data(), y.data(), mask.data());
    int64_t kept = 0;
    for (int64_t i = 0; i < n; ++i) kept += mask[i] != 0;
    const double rate = static_cast<double>(kept) / n;
    // binomial std for n = 2^20 is below 5e-4; 0.005 is ten of them.
    TF_CHECK(std::fabs(rate - (1 - p)) < 0.005,
             "p=" + std::to_string(p) + ": keep rate " + std::to_string(rate) + " not near " + std::to_string(1 - p));
    if (p == 0) TF_CHECK(kept == n, "p=0 dropped elements");
  }
  // Different seeds give different masks.
  std::vector<float> mask2(n), y2(n);
  dropout(n, 0.5, 8, x.data(), y2.data(), mask2.data());
  dropout(n, 0.5, 7, x.data(), y.data(), mask.data());
  int64_t same = 0;
  for (int64_t i = 0; i < n; ++i) same += (mask[i] != 0) == (mask2[i] != 0);
  TF_CHECK(std::fabs(static_cast<double>(same) / n - 0.5) < 0.01, "seeds 7 and 8 give correlated masks");
}
