// Transcendental elementwise microbenchmark: milliseconds per call of the full threaded kernels (what
// the addon runs) for exp / tanh / sigmoid / elu / softplus / log on 4M floats, the softplus backward,
// and softmax / logSoftmax / softmaxCrossEntropy on [4096, 1024], for every ISA this CPU can run.
//
//   TENSORFORGE_ISA=avx2 ./build-cmake/vmath_bench [--threads N] [--n 4194304] [--rows 4096] [--cols 1024]
//
// One ISA per run, chosen the way users choose it (TENSORFORGE_ISA; default: the best this CPU runs).
// This file cannot include runtime/dispatch.h next to the kernels' headers: the function tf::kernels()
// (the active table) and the namespace tf::kernels clash, so the level is read back from the variable.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "kernels/elementwise.h"
#include "kernels/softmax.h"
#include "runtime/cpu.h"
#include "runtime/thread_pool.h"

using namespace tf;
using kernels::CrossEntropyTarget;
using kernels::UnaryOp;

namespace {

double seconds_now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Best of 7 timed calls after one warm-up, in milliseconds (the host is shared: the minimum is the
// least disturbed run).
double best_ms(const std::function<void()>& fn) {
  fn();
  double best = 1e30;
  for (int trial = 0; trial < 7; ++trial) {
    const double t0 = seconds_now();
    fn();
    best = std::min(best, (seconds_now() - t0) * 1e3);
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  int threads = 1;
  int64_t n = int64_t{1} << 22, rows = 4096, cols = 1024;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--threads") == 0) threads = std::atoi(argv[i + 1]);
    if (std::strcmp(argv[i], "--n") == 0) n = std::atoll(argv[i + 1]);
    if (std::strcmp(argv[i], "--rows") == 0) rows = std::atoll(argv[i + 1]);
    if (std::strcmp(argv[i], "--cols") == 0) cols = std::atoll(argv[i + 1]);
  }
  set_num_threads(threads);

  std::vector<float> x(static_cast<size_t>(n)), y(x.size()), dy(x.size()), dx(x.size());
  for (int64_t i = 0; i < n; ++i) {
    x[i] = static_cast<float>((i * 7919) % 20011) * (16.0f / 20011.0f) - 8.0f;  // [-8, 8)
    dy[i] = 0.5f;
  }
  std::vector<float> pos(x.size());  // log needs positive inputs
  for (int64_t i = 0; i < n; ++i) pos[i] = std::abs(x[i]) + 1e-3f;
  const int64_t sm = rows * cols;
  std::vector<float> logits(static_cast<size_t>(sm)), probs(logits.size()), loss(static_cast<size_t>(rows));
  for (int64_t i = 0; i < sm; ++i) logits[i] = static_cast<float>((i * 104729) % 10007) * (10.0f / 10007.0f) - 5.0f;
  std::vector<int32_t> labels(static_cast<size_t>(rows));
  for (int64_t r = 0; r < rows; ++r) labels[r] = static_cast<int32_t>(r % cols);

  struct Case {
    const char* name;
    std::function<void()> run;
  };
  const Case cases[] = {
      {"exp", [&] { kernels::unary(UnaryOp::exp, 0, x.data(), y.data(), n); }},
      {"tanh", [&] { kernels::unary(UnaryOp::tanh, 0, x.data(), y.data(), n); }},
      {"sigmoid", [&] { kernels::unary(UnaryOp::sigmoid, 0, x.data(), y.data(), n); }},
      {"elu", [&] { kernels::unary(UnaryOp::elu, 1.0f, x.data(), y.data(), n); }},
      {"softplus", [&] { kernels::unary(UnaryOp::softplus, 0, x.data(), y.data(), n); }},
      {"log", [&] { kernels::unary(UnaryOp::log, 0, pos.data(), y.data(), n); }},
      {"softplusBackward",
       [&] { kernels::unary_backward(UnaryOp::softplus, 0, dx.data(), dy.data(), x.data(), nullptr, n); }},
      {"softmax", [&] { kernels::softmax(rows, cols, 1, logits.data(), probs.data()); }},
      {"logSoftmax", [&] { kernels::log_softmax(rows, cols, 1, logits.data(), probs.data()); }},
      {"softmaxCrossEntropy",
       [&] {
         CrossEntropyTarget t;
         t.index = labels.data();
         kernels::softmax_cross_entropy(rows, cols, 0.1f, logits.data(), t, loss.data(), probs.data());
       }},
  };

  const Isa best = detect_best_isa();
  Isa isa = best;
  if (const char* env = std::getenv("TENSORFORGE_ISA")) {
    if (!parse_isa(env, &isa) || static_cast<int>(isa) > static_cast<int>(best)) {
      std::fprintf(stderr, "TENSORFORGE_ISA=%s cannot run here (best: %s)\n", env, isa_name(best));
      return 1;
    }
  }
  std::printf("isa=%s threads=%d n=%lld softmax=[%lld,%lld] (ms, best of 7)\n", isa_name(isa), threads,
              static_cast<long long>(n), static_cast<long long>(rows), static_cast<long long>(cols));
  for (const Case& c : cases) {
    std::printf("  %-22s %8.2f\n", c.name, best_ms(c.run));
    std::fflush(stdout);
  }
  return 0;
}
