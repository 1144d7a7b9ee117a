// GEMM microbenchmark: GFLOP/s of every registered micro-kernel this CPU can run, through the full
// driver, for square sizes and a few training shapes, at 1 thread (and 2 with --threads 2).
//
//   ./build-cmake/gemm_bench [--threads N] [--sizes 256,512,1024]
//   ./build-cmake/gemm_bench --training [--rounds R] [--only SUBSTRING] [--cpu]
//     the MLP training-step and 1x1-convolution shapes through gemm() (the dispatching entry) with their real epilogues,
//     1 and 2 threads interleaved in one process, best of R rounds (shared host: compare in one run).
//   ./build-cmake/gemm_bench --ukernel [--rounds R]
//     the micro-kernels alone, 1 thread, on packed panels: "L1" calls one tile on the same A and B
//     micro-panels (the kernel's ceiling), "B from L2" walks the B micro-panels of an L2-sized block
//     with one A micro-panel (the driver's inner loop without packing), "pack A"/"pack B" time the
//     packers alone on a (rows x kc) / (kc x cols) block, and B stored transposed ("pack Bt") (GB/s
//     of packed floats written).
#include <algorithm>
#include <chrono>
#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <cstdint>
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

// --cpu: 1-thread runs timed in the thread's CPU time (time spent descheduled on a shared host does
// not count; cache pollution by other jobs still does). 2-thread runs stay wall-clock.
bool g_cpu_time = false;
double thread_seconds() {
  timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
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

struct TrainingShape {
  const char* label;
  int64_t m, k, n;
  bool trans_a, trans_b, accumulate, bias;
  GemmActivation act;
};

// GFLOP/s of gemm() on one shape at the current thread count: best of 5 timed runs of >= ~10 ms.
double gflops_gemm(const TrainingShape& s) {
  const int64_t a_size = s.m * s.k, b_size = s.k * s.n;
  std::vector<float> a(static_cast<size_t>(a_size)), b(static_cast<size_t>(b_size)), c(static_cast<size_t>(s.m * s.n), 0.0f),
      bias(static_cast<size_t>(s.n), 0.01f);
  for (size_t i = 0; i < a.size(); ++i) a[i] = static_cast<float>((i * 7 % 13) - 6) * 0.01f;
  for (size_t i = 0; i < b.size(); ++i) b[i] = static_cast<float>((i * 5 % 11) - 5) * 0.01f;
  GemmArgs g = gemm_dense_args(s.m, s.n, s.k, a.data(), s.trans_a, b.data(), s.trans_b, c.data());
  g.accumulate = s.accumulate;
  g.bias = s.bias ? bias.data() : nullptr;
  g.activation = s.act;
  gemm(g);
  const double flop = 2.0 * s.m * s.n * s.k;
  const int reps = std::max(1, static_cast<int>(2e9 / flop / 100));
  double best = 0;
  const bool cpu = g_cpu_time && num_threads() == 1;
  for (int trial = 0; trial < 5; ++trial) {
    const double t0 = cpu ? thread_seconds() : seconds_now();
    for (int r = 0; r < reps; ++r) gemm(g);
    best = std::max(best, flop * reps / ((cpu ? thread_seconds() : seconds_now()) - t0) * 1e-9);
  }
  return best;
}

int training_main(int rounds, const char* only) {
  const TrainingShape shapes[] = {
      {"(64,784,256) +bias relu", 64, 784, 256, false, false, false, true, GemmActivation::relu},
      {"(784,64,256) tA +=", 784, 64, 256, true, false, true, false, GemmActivation::none},
      {"(64,784,256) tB", 64, 784, 256, false, true, false, false, GemmActivation::none},
      {"(64,256,128) +bias relu", 64, 256, 128, false, false, false, true, GemmActivation::relu},
      {"(256,64,128) tA +=", 256, 64, 128, true, false, true, false, GemmActivation::none},
      {"(64,128,256) tB", 64, 128, 256, false, true, false, false, GemmActivation::none},
      {"(64,256,784)", 64, 256, 784, false, false, false, false, GemmActivation::none},
      {"512^3", 512, 512, 512, false, false, false, false, GemmActivation::none},
      {"1024^3", 1024, 1024, 1024, false, false, false, false, GemmActivation::none},
      // 1x1 convolution (issue 4), NHWC 32x28x28 pixels, 128 -> 256 channels: forward x·W + bias relu,
      // input gradient dy·Wᵀ, filter gradient xᵀ·dy (K = every pixel).
      {"1x1 (25088,128,256) fwd", 25088, 128, 256, false, false, false, true, GemmActivation::relu},
      {"1x1 (25088,256,128) tB", 25088, 256, 128, false, true, false, false, GemmActivation::none},
      {"1x1 (128,25088,256) tA +=", 128, 25088, 256, true, false, true, false, GemmActivation::none},
  };
  std::printf("gemm() GFLOP/s, best of %d rounds (threads interleaved)%s\n%-26s %8s %8s %6s\n", rounds,
              g_cpu_time ? ", 1 thread in thread CPU time" : "", "shape (M,K,N)", "1 thr", "2 thr", "2/1");
  for (const TrainingShape& s : shapes) {
    if (only != nullptr && std::strstr(s.label, only) == nullptr) continue;
    double best[2] = {0, 0};
    for (int r = 0; r < rounds; ++r) {
      for (int t = 0; t < 2; ++t) {
        set_num_threads(t + 1);
        best[t] = std::max(best[t], gflops_gemm(s));
      }
    }
    std::printf("%-26s %8.1f %8.1f %6.2f\n", s.label, best[0], best[1], best[1] / best[0]);
    std::fflush(stdout);
  }
  return 0;
}

// Best-of GFLOP/s of `body`, which does `flop` floating-point operations per call.
template <typename F>
double best_rate(double flop, int rounds, F body) {
  body();
  int reps = 1;
  for (double dt = 0; dt < 2e-3; reps *= 2) {
    const double t0 = thread_seconds();
    for (int r = 0; r < reps; ++r) body();
    dt = thread_seconds() - t0;
  }
  double best = 0;
  for (int trial = 0; trial < 5 * rounds; ++trial) {
    const double t0 = thread_seconds();
    for (int r = 0; r < reps; ++r) body();
    best = std::max(best, flop * reps / (thread_seconds() - t0) * 1e-9);
  }
  return best;
}

float* aligned_floats(std::vector<float>& v, size_t n) {
  v.assign(n + 16, 0.0f);
  auto p = reinterpret_cast<uintptr_t>(v.data());
  float* f = reinterpret_cast<float*>((p + 63) / 64 * 64);
  for (size_t i = 0; i < n; ++i) f[i] = static_cast<float>(static_cast<int>(i * 7 % 13) - 6) * 0.01f;
  return f;
}

// The micro-kernels alone (thread CPU time, 1 thread): where the kernel's ceiling is, and how much of
// it the B stream from L2 and the packers cost.
int ukernel_main(int rounds) {
  set_num_threads(1);
  int count = 0;
  const GemmUkernelEntry* entries = gemm_ukernel_entries(&count);
  std::printf("micro-kernels alone, 1 thread, GFLOP/s (thread CPU time, best of %d)\n", 5 * rounds);
  std::printf("%-26s %5s %10s %10s %10s %12s %12s %12s\n", "kernel", "kc", "L1", "B from L2", "+C miss", "pack A GB/s",
              "pack B GB/s", "pack Bt GB/s");
  for (int e = 0; e < count; ++e) {
    if (kernel_table_for(entries[e].isa) == nullptr) continue;
    const GemmUkernel& uk = entries[e].ukernel;
    const GemmBlocking bl = gemm_blocking(uk);
    for (int64_t kc : {64, 128, 256, 384}) {
      std::vector<float> av, bv, cv, srcv;
      // A: mc rows packed; B: nc columns packed (L2-sized block); C: mc x nc.
      const int64_t nc = bl.nc, mc = bl.mc;
      float* a = aligned_floats(av, static_cast<size_t>(mc * kc));
      float* b = aligned_floats(bv, static_cast<size_t>(nc * kc));
      float* c = aligned_floats(cv, static_cast<size_t>(mc * nc));
      GemmTileEpilogue ep;
      ep.load_c = true;
      const double tile_flop = 2.0 * uk.mr * uk.nr * kc;
      const double l1 = best_rate(tile_flop * 64, rounds, [&] {
        for (int r = 0; r < 64; ++r) uk.fn(kc, a, b, c, nc, uk.mr, uk.nr, ep);
      });
      const int64_t panels = nc / uk.nr;
      // One A micro-panel against every B micro-panel of the block, C tiles side by side (as the driver).
      const double l2 = best_rate(tile_flop * panels, rounds, [&] {
        for (int64_t q = 0; q < panels; ++q) uk.fn(kc, a, b + q * kc * uk.nr, c + q * uk.nr, nc, uk.mr, uk.nr, ep);
      });
      // The whole mc x nc block: every A micro-panel (C rows of the block cycle through the cache).
      const int64_t mpanels = mc / uk.mr;
      const double full = best_rate(tile_flop * panels * mpanels, rounds, [&] {
        for (int64_t i = 0; i < mpanels; ++i)
          for (int64_t q = 0; q < panels; ++q)
            uk.fn(kc, a + i * uk.mr * kc, b + q * kc * uk.nr, c + i * uk.mr * nc + q * uk.nr, nc, uk.mr, uk.nr, ep);
      });
      // Packers: A [mc x kc] row-major (lda = kc + 3, odd on purpose: a real A is rarely aligned),
      // B [kc x nc] row-major.
      float* src = aligned_floats(srcv, static_cast<size_t>((mc + kc) * (nc + 3) + kc * 3));
      // ... and B stored [nc x kc] (transposed, lds = kc + 3) into panels.
      double pa = 0, pb = 0, pbt = 0;
      if (uk.pack_a != nullptr && uk.pack_b != nullptr) {
        pa = best_rate(4.0 * mc * kc, rounds, [&] { uk.pack_a(src, kc + 3, false, mc, kc, a); });
        pb = best_rate(4.0 * nc * kc, rounds, [&] { uk.pack_b(src, nc + 3, false, nc, kc, b); });
        pbt = best_rate(4.0 * nc * kc, rounds, [&] { uk.pack_b(src, kc + 3, true, nc, kc, b); });
      }
      std::printf("%-26s %5lld %10.1f %10.1f %10.1f %12.1f %12.1f %12.1f\n", uk.name, static_cast<long long>(kc), l1, l2,
                  full, pa, pb, pbt);
      std::fflush(stdout);
    }
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--ukernel") == 0) {
      int rounds = 1;
      for (int j = 1; j + 1 < argc; ++j)
        if (std::strcmp(argv[j], "--rounds") == 0) rounds = std::atoi(argv[j + 1]);
      return ukernel_main(rounds);
    }
    if (std::strcmp(argv[i], "--training") == 0) {
      int rounds = 3;
      const char* only = nullptr;
      for (int j = 1; j + 1 < argc; ++j) {
        if (std::strcmp(argv[j], "--rounds") == 0) rounds = std::atoi(argv[j + 1]);
        if (std::strcmp(argv[j], "--only") == 0) only = argv[j + 1];
      }
      for (int j = 1; j < argc; ++j)
        if (std::strcmp(argv[j], "--cpu") == 0) g_cpu_time = true;
      return training_main(rounds, only);
    }
  }
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
