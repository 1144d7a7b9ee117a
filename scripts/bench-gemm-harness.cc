// C harness for scripts/bench-gemm.mjs: times one SGEMM implementation on the shapes given on the
// command line and prints one JSON line per shape. The launcher compiles it once per library, so each
// peer runs in its own process (OpenBLAS and OpenMP thread pools never compete inside one process):
//
//   -DTF_BENCH_OURS      tensorforge's tf::gemm (links build-cmake/libtf_kernels.a); also `peak` mode
//   -DTF_BENCH_OPENBLAS  cblas_sgemm (threads: OPENBLAS_NUM_THREADS, and openblas_set_num_threads)
//   -DTF_BENCH_DNNL      dnnl_sgemm, row-major (threads: OMP_NUM_THREADS, set by the launcher)
//
//   harness gemm --threads T [--min-ms X] [--trials N] m,n,k,ta,tb ...   (ta/tb: 0 or 1)
//   harness peak --threads T                                              (TF_BENCH_OURS only)
//
// Every implementation computes C = op(A)·op(B) (beta 0) on the same row-major data; the reported
// figure is the best of N trials, each repeating the call for at least X ms after a warm-up call.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstdint>
#include <cstring>
#include <ctime>
#include <string>
#include <thread>
#include <vector>

#if defined(TF_BENCH_OURS)
#include "kernels/gemm.h"
#include "runtime/dispatch.h"
#include "runtime/thread_pool.h"
#elif defined(TF_BENCH_OPENBLAS)
#include <cblas.h>
#elif defined(TF_BENCH_DNNL)
#include <dnnl.h>
#else
#error "define one of TF_BENCH_OURS, TF_BENCH_OPENBLAS, TF_BENCH_DNNL"
#endif

namespace {

struct Shape {
  long long m, n, k;
  bool ta, tb;
};

double now() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

// TF_BENCH_CPU_TIME=1 times the gemm runs in process CPU time instead of wall-clock: on a shared host
// the time spent descheduled then does not count (cache pollution by other jobs still does). Only
// meaningful at 1 thread (2 threads would count both cores); for in-process A/B comparisons.
double clock_for_gemm() {
  static const bool cpu = std::getenv("TF_BENCH_CPU_TIME") != nullptr && *std::getenv("TF_BENCH_CPU_TIME") == '1';
  if (!cpu) return now();
  timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

#if defined(TF_BENCH_OURS)
const char* kLib = "ours";
// TF_BENCH_PACKED_ONLY=1 forces the packed path (no small-M direct kernel), to compare the two.
const bool kPackedOnly = std::getenv("TF_BENCH_PACKED_ONLY") != nullptr && *std::getenv("TF_BENCH_PACKED_ONLY") != 0;
void setup(int threads) { tf::set_num_threads(threads); }
void sgemm(const Shape& s, const float* a, const float* b, float* c) {
  const tf::GemmArgs g = tf::gemm_dense_args(s.m, s.n, s.k, a, s.ta, b, s.tb, c);
  if (kPackedOnly) {
    tf::gemm_with_ukernel(g, tf::kernels().gemm);
  } else {
    tf::gemm(g);
  }
}
std::string detail() { return std::string(tf::isa_name(tf::active_isa())) + " " + tf::kernels().gemm.name; }
#elif defined(TF_BENCH_OPENBLAS)
const char* kLib = "openblas";
void setup(int threads) { openblas_set_num_threads(threads); }
void sgemm(const Shape& s, const float* a, const float* b, float* c) {
  cblas_sgemm(CblasRowMajor, s.ta ? CblasTrans : CblasNoTrans, s.tb ? CblasTrans : CblasNoTrans, s.m, s.n, s.k, 1.0f,
              a, s.ta ? s.m : s.k, b, s.tb ? s.k : s.n, 0.0f, c, s.n);
}
std::string detail() { return openblas_get_config(); }
#elif defined(TF_BENCH_DNNL)
const char* kLib = "onednn";
void setup(int) {}  // OpenMP runtime: OMP_NUM_THREADS is set by the launcher before the process starts
void sgemm(const Shape& s, const float* a, const float* b, float* c) {
  dnnl_sgemm(s.ta ? 'T' : 'N', s.tb ? 'T' : 'N', s.m, s.n, s.k, 1.0f, a, s.ta ? s.m : s.k, b, s.tb ? s.k : s.n, 0.0f,
             c, s.n);
}
std::string detail() {
  const dnnl_version_t* v = dnnl_version();
  return "oneDNN " + std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->patch);
}
#endif

// Buffers start `offset_floats` past a 64-byte boundary (TF_BENCH_OFFSET, default 0), so that every
// library sees the same alignment whatever malloc returns (it matters: a misaligned C makes every
// vector store of C straddle two cache lines).
struct Buffer {
  explicit Buffer(size_t n) : raw(n + 16 + offset()), data(aligned() + offset()) {}
  static size_t offset() {
    const char* env = std::getenv("TF_BENCH_OFFSET");
    return env != nullptr ? static_cast<size_t>(std::atoi(env)) % 16 : 0;
  }
  float* aligned() {
    const auto p = reinterpret_cast<uintptr_t>(raw.data());
    return reinterpret_cast<float*>((p + 63) / 64 * 64);
  }
  size_t size() const { return raw.size() - 16 - offset(); }
  float& operator[](size_t i) { return data[i]; }
  std::vector<float> raw;
  float* data;
};

double time_gemm(const Shape& s, double min_seconds, int trials) {
  Buffer a(static_cast<size_t>(s.m * s.k)), b(static_cast<size_t>(s.k * s.n)), c(static_cast<size_t>(s.m * s.n));
  for (size_t i = 0; i < a.size(); ++i) a[i] = static_cast<float>(static_cast<int>(i * 7 % 13) - 6) * 0.1f;
  for (size_t i = 0; i < b.size(); ++i) b[i] = static_cast<float>(static_cast<int>(i * 5 % 11) - 5) * 0.1f;
  sgemm(s, a.data, b.data, c.data);  // warm-up: page faults, packing buffers, thread start
  const double flop = 2.0 * static_cast<double>(s.m) * static_cast<double>(s.n) * static_cast<double>(s.k);
  double best = 0;
  for (int t = 0; t < trials; ++t) {
    int reps = 0;
    const double t0 = clock_for_gemm();
    double dt = 0;
    do {
      sgemm(s, a.data, b.data, c.data);
      ++reps;
      dt = clock_for_gemm() - t0;
    } while (dt < min_seconds);
    best = std::max(best, flop * reps / dt * 1e-9);
  }
  return best;
}

#if defined(TF_BENCH_OURS)
// FMA throughput of one core: 12 independent accumulator chains (more than latency x ports = 4 x 2),
// written in inline assembly so the compiler can neither drop nor fuse them. Registers start at zero
// (0*0+0 stays 0: no denormal assists). Returns GFLOP/s (2 flops per lane per FMA).
double fma_peak_one(bool zmm, double seconds) {
  const long iters = 1 << 20;
  double best = 0;
  const double t_end = now() + seconds;
  do {
    const double t0 = now();
    if (zmm) {
      asm volatile(
          "vxorps %%xmm0, %%xmm0, %%xmm0\n\t"
          "vmovaps %%zmm0, %%zmm1\n\t vmovaps %%zmm0, %%zmm2\n\t vmovaps %%zmm0, %%zmm3\n\t"
          "vmovaps %%zmm0, %%zmm4\n\t vmovaps %%zmm0, %%zmm5\n\t vmovaps %%zmm0, %%zmm6\n\t"
          "vmovaps %%zmm0, %%zmm7\n\t vmovaps %%zmm0, %%zmm8\n\t vmovaps %%zmm0, %%zmm9\n\t"
          "vmovaps %%zmm0, %%zmm10\n\t vmovaps %%zmm0, %%zmm11\n\t vmovaps %%zmm0, %%zmm12\n\t vmovaps %%zmm0, %%zmm13\n\t"
          "mov %0, %%rcx\n\t"
          "1:\n\t"
          "vfmadd231ps %%zmm12, %%zmm13, %%zmm0\n\t vfmadd231ps %%zmm12, %%zmm13, %%zmm1\n\t"
          "vfmadd231ps %%zmm12, %%zmm13, %%zmm2\n\t vfmadd231ps %%zmm12, %%zmm13, %%zmm3\n\t"
          "vfmadd231ps %%zmm12, %%zmm13, %%zmm4\n\t vfmadd231ps %%zmm12, %%zmm13, %%zmm5\n\t"
          "vfmadd231ps %%zmm12, %%zmm13, %%zmm6\n\t vfmadd231ps %%zmm12, %%zmm13, %%zmm7\n\t"
          "vfmadd231ps %%zmm12, %%zmm13, %%zmm8\n\t vfmadd231ps %%zmm12, %%zmm13, %%zmm9\n\t"
          "vfmadd231ps %%zmm12, %%zmm13, %%zmm10\n\t vfmadd231ps %%zmm12, %%zmm13, %%zmm11\n\t"
          "dec %%rcx\n\t jnz 1b\n\t"
          "vzeroupper\n\t"
          :
          : "r"(iters)
          : "rcx", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10",
            "xmm11", "xmm12", "xmm13", "cc");
    } else {
      asm volatile(
          "vxorps %%ymm0, %%ymm0, %%ymm0\n\t"
          "vmovaps %%ymm0, %%ymm1\n\t vmovaps %%ymm0, %%ymm2\n\t vmovaps %%ymm0, %%ymm3\n\t"
          "vmovaps %%ymm0, %%ymm4\n\t vmovaps %%ymm0, %%ymm5\n\t vmovaps %%ymm0, %%ymm6\n\t"
          "vmovaps %%ymm0, %%ymm7\n\t vmovaps %%ymm0, %%ymm8\n\t vmovaps %%ymm0, %%ymm9\n\t"
          "vmovaps %%ymm0, %%ymm10\n\t vmovaps %%ymm0, %%ymm11\n\t vmovaps %%ymm0, %%ymm12\n\t vmovaps %%ymm0, %%ymm13\n\t"
          "mov %0, %%rcx\n\t"
          "1:\n\t"
          "vfmadd231ps %%ymm12, %%ymm13, %%ymm0\n\t vfmadd231ps %%ymm12, %%ymm13, %%ymm1\n\t"
          "vfmadd231ps %%ymm12, %%ymm13, %%ymm2\n\t vfmadd231ps %%ymm12, %%ymm13, %%ymm3\n\t"
          "vfmadd231ps %%ymm12, %%ymm13, %%ymm4\n\t vfmadd231ps %%ymm12, %%ymm13, %%ymm5\n\t"
          "vfmadd231ps %%ymm12, %%ymm13, %%ymm6\n\t vfmadd231ps %%ymm12, %%ymm13, %%ymm7\n\t"
          "vfmadd231ps %%ymm12, %%ymm13, %%ymm8\n\t vfmadd231ps %%ymm12, %%ymm13, %%ymm9\n\t"
          "vfmadd231ps %%ymm12, %%ymm13, %%ymm10\n\t vfmadd231ps %%ymm12, %%ymm13, %%ymm11\n\t"
          "dec %%rcx\n\t jnz 1b\n\t"
          "vzeroupper\n\t"
          :
          : "r"(iters)
          : "rcx", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10",
            "xmm11", "xmm12", "xmm13", "cc");
    }
    const double dt = now() - t0;
    best = std::max(best, 12.0 * iters * (zmm ? 16 : 8) * 2 / dt * 1e-9);
  } while (now() < t_end);
  return best;
}

// Peak of `threads` cores running the loop at once (sum of the per-thread best rates).
double fma_peak(bool zmm, int threads) {
  std::vector<double> rates(static_cast<size_t>(threads));
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back([&, t] { rates[static_cast<size_t>(t)] = fma_peak_one(zmm, 0.3); });
  rates[0] = fma_peak_one(zmm, 0.3);
  for (auto& th : pool) th.join();
  double sum = 0;
  for (double r : rates) sum += r;
  return sum;
}
#endif

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s gemm|peak --threads T [--min-ms X] [--trials N] m,n,k,ta,tb ...\n", argv[0]);
    return 2;
  }
  const std::string mode = argv[1];
  int threads = 1, trials = 5;
  double min_ms = 30;
  std::vector<Shape> shapes;
  for (int i = 2; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--threads" && i + 1 < argc) {
      threads = std::atoi(argv[++i]);
    } else if (arg == "--min-ms" && i + 1 < argc) {
      min_ms = std::atof(argv[++i]);
    } else if (arg == "--trials" && i + 1 < argc) {
      trials = std::atoi(argv[++i]);
    } else {
      Shape s{};
      int ta = 0, tb = 0;
      if (std::sscanf(arg.c_str(), "%lld,%lld,%lld,%d,%d", &s.m, &s.n, &s.k, &ta, &tb) != 5 || s.m < 1 || s.n < 1 ||
          s.k < 1) {
        std::fprintf(stderr, "bad shape '%s' (expected m,n,k,ta,tb)\n", arg.c_str());
        return 2;
      }
      s.ta = ta != 0;
      s.tb = tb != 0;
      shapes.push_back(s);
    }
  }
  if (threads < 1) threads = 1;
  if (mode == "peak") {
#if defined(TF_BENCH_OURS)
    std::printf("{\"peak\":true,\"threads\":%d,\"avx512\":%.1f,\"avx2\":%.1f}\n", threads, fma_peak(true, threads),
                fma_peak(false, threads));
    return 0;
#else
    std::fprintf(stderr, "peak mode is built only into the TF_BENCH_OURS harness\n");
    return 2;
#endif
  }
  setup(threads);
  std::printf("{\"lib\":\"%s\",\"detail\":\"%s\",\"threads\":%d}\n", kLib, detail().c_str(), threads);
  std::fflush(stdout);
  for (const Shape& s : shapes) {
    const double g = time_gemm(s, min_ms * 1e-3, trials);
    std::printf("{\"lib\":\"%s\",\"threads\":%d,\"m\":%lld,\"n\":%lld,\"k\":%lld,\"ta\":%d,\"tb\":%d,\"gflops\":%.2f}\n",
                kLib, threads, s.m, s.n, s.k, s.ta ? 1 : 0, s.tb ? 1 : 0, g);
    std::fflush(stdout);
  }
  return 0;
}
