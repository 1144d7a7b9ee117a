// Optimizer-update microbenchmark: nanoseconds per parameter of the full threaded updates (what the
// addon runs) at a size that stays in L2 (235k, the MLP of scripts/bench-train) and one that does not
// (4M), for Adam, AdamW+amsgrad, SGD momentum, RMSprop and Adagrad.
//
//   TENSORFORGE_ISA=avx2 ./build-cmake/optim_bench [--threads N]
//
// One ISA per run, chosen the way users choose it (TENSORFORGE_ISA; default: the best this CPU runs).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <vector>

#include "kernels/optim.h"
#include "runtime/cpu.h"
#include "runtime/thread_pool.h"

using namespace tf;

namespace {

double seconds_now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Best of 9 timed batches after one warm-up batch (the host is shared: the minimum is the least
// disturbed run), in nanoseconds per element per call.
double best_ns_per_element(int64_t n, const std::function<void()>& fn) {
  const int reps = n < (int64_t{1} << 20) ? 40 : 4;
  for (int r = 0; r < reps; ++r) fn();
  double best = 1e30;
  for (int trial = 0; trial < 9; ++trial) {
    const double t0 = seconds_now();
    for (int r = 0; r < reps; ++r) fn();
    best = std::min(best, (seconds_now() - t0) / reps);
  }
  return best * 1e9 / static_cast<double>(n);
}

}  // namespace

int main(int argc, char** argv) {
  int threads = 1;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--threads") == 0) threads = std::atoi(argv[i + 1]);
  }
  set_num_threads(threads);
  const Isa best = detect_best_isa();
  Isa isa = best;
  if (const char* env = std::getenv("TENSORFORGE_ISA")) {
    if (!parse_isa(env, &isa) || static_cast<int>(isa) > static_cast<int>(best)) {
      std::fprintf(stderr, "TENSORFORGE_ISA=%s cannot run here (best: %s)\n", env, isa_name(best));
      return 1;
    }
  }
  std::printf("isa=%s threads=%d (ns per parameter, best of 9)\n", isa_name(isa), threads);
  std::printf("  %-16s %10s %10s\n", "", "235k", "4M");
  const int64_t sizes[] = {235146, int64_t{1} << 22};
  struct Buffers {
    std::vector<float> w, g, a, b, c;
  };
  std::vector<Buffers> bufs;
  for (int64_t n : sizes) {
    Buffers b;
    b.w.resize(n);
    b.g.resize(n);
    for (int64_t i = 0; i < n; ++i) {
      b.w[i] = static_cast<float>((i * 7919) % 20011) * (2.0f / 20011.0f) - 1.0f;
      b.g[i] = static_cast<float>((i * 104729) % 10007) * (0.02f / 10007.0f) - 0.01f;
    }
    b.a.assign(n, 0.01f);
    b.b.assign(n, 1e-4f);
    b.c.assign(n, 1e-4f);
    bufs.push_back(std::move(b));
  }
  struct Case {
    const char* name;
    std::function<void(int64_t, Buffers&)> run;
  };
  const Case cases[] = {
      {"adam", [](int64_t n, Buffers& b) {
         adam_update(AdamOptions{1e-3, 0.9, 0.999, 1e-8, 0, false, false, 10}, n, b.w.data(), b.g.data(), b.a.data(),
                     b.b.data(), nullptr);
       }},
      {"adamw amsgrad", [](int64_t n, Buffers& b) {
         adam_update(AdamOptions{1e-3, 0.9, 0.999, 1e-8, 0.01, true, true, 10}, n, b.w.data(), b.g.data(), b.a.data(),
                     b.b.data(), b.c.data());
       }},
      {"sgd momentum", [](int64_t n, Buffers& b) {
         sgd_update(SgdOptions{1e-3, 0.9, 0, 0, false, false}, n, b.w.data(), b.g.data(), b.a.data());
       }},
      {"rmsprop", [](int64_t n, Buffers& b) {
         rmsprop_update(RmspropOptions{1e-3, 0.99, 1e-8, 0, 0, false}, n, b.w.data(), b.g.data(), b.b.data(), nullptr,
                        nullptr);
       }},
      {"adagrad", [](int64_t n, Buffers& b) {
         adagrad_update(AdagradOptions{1e-3, 0, 0, 1e-10, 10}, n, b.w.data(), b.g.data(), b.b.data());
       }},
  };
  for (const Case& c : cases) {
    std::printf("  %-16s", c.name);
    for (size_t s = 0; s < bufs.size(); ++s) {
      std::printf(" %10.3f", best_ns_per_element(sizes[s], [&] { c.run(sizes[s], bufs[s]); }));
    }
    std::printf("\n");
    std::fflush(stdout);
  }
  return 0;
}
