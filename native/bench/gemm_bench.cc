// GEMM microbenchmark: GFLOP/s of every registered micro-kernel this CPU can run, through the full
// driver, for square sizes and a few training shapes, at 1 thread (and 2 with --threads 2).
//
//   ./build-cmake/gemm_bench [--threads N] [--sizes 256,512,1024]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "kernels/gemm.h"
#include "runtime/dispatch.h"
#include "runtime/thread_pool.h"

using namespace tf;

namespace {

struct Shape {
  int64_t m, n, k;
  bool trans_a, trans_b;
};

double seconds_now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Best of several timed runs (after one warm-up), each repeated until it lasts ~50 ms.
double gflops(const GemmUkernel& uk, const Shape& s) {
  std::vector<float> a(static_cast<size_t>(s.m * s.k)), b(static_cast<size_t>(s.k * s.n)), c(static_cast<size_t>(s.m * s.n));
  for (size_t i = 0; i < a.size(); ++i) a[i] = static_cast<float>((i * 7 % 13) - 6) * 0.1f;
  for (size_t i = 0; i < b.size(); ++i) b[i] = static_cast<float>((i * 5 % 11) - 5) * 0.1f;
  GemmArgs g = gemm_dense_args(s.m, s.n, s.k, a.data(), s.trans_a, b.data(), s.trans_b, c.data());
  gemm_with_ukernel(g, uk);
  const double flop = 2.0 * s.m * s.n * s.k;
  int reps = std::max(1, static_cast<int>(2e8 / flop));
  double best = 0;
  for (int trial = 0; trial < 5; ++trial) {
    const double t0 = seconds_now();
    for (int r = 0; r < reps; ++r) gemm_with_ukernel(g, uk);
    const double dt = seconds_now() - t0;
    best = std::max(best, flop * reps / dt * 1e-9);
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  int threads = 1;
  std::vector<int64_t> sizes = {64, 128, 256, 512, 1024};
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--threads") == 0) threads = std::atoi(argv[i + 1]);
    if (std::strcmp(argv[i], "--sizes") == 0) {
      sizes.clear();
      for (char* p = argv[i + 1]; *p;) {
        sizes.push_back(std::strtoll(p, &p, 10));
        if (*p == ',') ++p;
      }
    }
  }
  set_num_threads(threads);
  std::vector<Shape> shapes;
  for (int64_t s : sizes) shapes.push_back({s, s, s, false, false});
  shapes.push_back({64, 256, 784, false, false});
  shapes.push_back({256, 1024, 4096, false, false});
  shapes.push_back({784, 256, 64, true, false});
  shapes.push_back({256, 784, 64, false, true});

  int count = 0;
  const GemmUkernelEntry* entries = gemm_ukernel_entries(&count);
  std::printf("threads=%d (GFLOP/s, best of 5)\n%-26s", threads, "shape m,n,k");
  std::vector<const GemmUkernel*> uks;
  for (int i = 0; i < count; ++i) {
    if (kernel_table_for(entries[i].isa) == nullptr) continue;
    uks.push_back(&entries[i].ukernel);
    std::printf(" %24s", entries[i].ukernel.name);
  }
  std::printf("\n");
  for (const Shape& s : shapes) {
    char label[64];
    std::snprintf(label, sizeof label, "%lld,%lld,%lld%s%s", static_cast<long long>(s.m), static_cast<long long>(s.n),
                  static_cast<long long>(s.k), s.trans_a ? " tA" : "", s.trans_b ? " tB" : "");
    std::printf("%-26s", label);
    for (const GemmUkernel* uk : uks) {
      std::printf(" %24.1f", gflops(*uk, s));
      std::fflush(stdout);
    }
    std::printf("\n");
  }
  return 0;
}
