// GotoBLAS/BLIS-style SGEMM driver: cache blocking, packing (transposes handled here), register-blocked
// micro-kernels from the dispatch table, the epilogue fused into the last K block, and threading over
// output tiles. See gemm.h for the contract.
//
// Loop nest (row-major C; the micro-kernel broadcasts A and vector-loads B):
//
//   for jc in N by nc:                    B block [kc x nc] packed once, read from L2 by every tile
//     for pc in K by kc:                  K blocks in order: the summation order of every output
//       pack B[pc:pc+kc, jc:jc+nc]        (parallel over nr-wide panels)
//       parallel over tasks (M block x N range):
//         pack A[ic:ic+mc, pc:pc+kc]      (per task, thread-local buffer)
//         for ir in mc by mr:             A micro-panel [mr x kc] stays in L1 ...
//           for jr in range by nr:        ... while B micro-panels stream from L2
//             ukernel(kc, Ap, Bp, C tile, epilogue only if pc is the last K block)
//
// The tile grid (multiples of mr/nr from the matrix origin) and the K blocking never depend on the
// thread count, and each tile is computed by exactly one task per K block, so results are bit-identical
// for any number of threads.
#include "kernels/gemm.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <stdexcept>
#include <string>

#if defined(__linux__)
#include <unistd.h>
#endif

#include "runtime/dispatch.h"
#include "runtime/thread_pool.h"

namespace tf {
namespace {

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }
int64_t round_up(int64_t a, int64_t b) { return ceil_div(a, b) * b; }

// A grow-only, 64-byte-aligned float buffer (packed panels are read with aligned vector loads).
class AlignedBuffer {
 public:
  float* get(int64_t n) {
    if (n > capacity_) {
      data_.reset();
      data_.reset(static_cast<float*>(::operator new(static_cast<size_t>(n) * sizeof(float), std::align_val_t{64})));
      capacity_ = n;
    }
    return data_.get();
  }

 private:
  struct Free {
    void operator()(float* p) const { ::operator delete(p, std::align_val_t{64}); }
  };
  std::unique_ptr<float, Free> data_;
  int64_t capacity_ = 0;
};

// Per-thread packing buffers: a pool thread packs its own A blocks; the calling thread owns the B block
// that all tasks read. (gemm is never re-entered on one thread while its buffers are in use.)
AlignedBuffer& a_buffer() {
  thread_local AlignedBuffer buffer;
  return buffer;
}
AlignedBuffer& b_buffer() {
  thread_local AlignedBuffer buffer;
  return buffer;
}

long cache_size(int name, long fallback) {
#if defined(__linux__) && defined(_SC_LEVEL1_DCACHE_SIZE)
  const long v = sysconf(name);
  if (v > 0) return v;
#else
  (void)name;
#endif
  return fallback;
}

// --- packing -----------------------------------------------------------------------------------

// A rows [i0, i0+rows), k [p0, p0+kc) -> micro-panels of mr rows: dst[panel][p*mr + i], zero-padded.
void pack_a(const GemmArgs& g, int64_t i0, int64_t rows, int64_t p0, int64_t kc, int mr, float* dst) {
  for (int64_t r0 = 0; r0 < rows; r0 += mr, dst += kc * mr) {
    const int valid = static_cast<int>(std::min<int64_t>(mr, rows - r0));
    if (!g.trans_a) {
      // A [m,k]: each row is contiguous in k; write it down one column of the panel.
      for (int i = 0; i < valid; ++i) {
        const float* src = g.a + (i0 + r0 + i) * g.lda + p0;
        for (int64_t p = 0; p < kc; ++p) dst[p * mr + i] = src[p];
      }
      for (int i = valid; i < mr; ++i)
        for (int64_t p = 0; p < kc; ++p) dst[p * mr + i] = 0.0f;
    } else {
      // A stored [k,m]: the mr values of one p are contiguous.
      for (int64_t p = 0; p < kc; ++p) {
        const float* src = g.a + (p0 + p) * g.lda + i0 + r0;
        float* d = dst + p * mr;
        for (int i = 0; i < valid; ++i) d[i] = src[i];
        for (int i = valid; i < mr; ++i) d[i] = 0.0f;
      }
    }
  }
}

// B k [p0, p0+kc), columns [j0+panel*nr, ...) -> one micro-panel: dst[p*nr + j], zero-padded.
void pack_b_panel(const GemmArgs& g, int64_t j0, int64_t cols, int64_t p0, int64_t kc, int nr, float* dst) {
  const int valid = static_cast<int>(std::min<int64_t>(nr, cols));
  if (!g.trans_b) {
    // B [k,n]: the nr values of one p are contiguous.
    for (int64_t p = 0; p < kc; ++p) {
      const float* src = g.b + (p0 + p) * g.ldb + j0;
      float* d = dst + p * nr;
      for (int j = 0; j < valid; ++j) d[j] = src[j];
      for (int j = valid; j < nr; ++j) d[j] = 0.0f;
    }
  } else {
    // B stored [n,k]: each column of op(B) is a contiguous row of B.
    for (int j = 0; j < valid; ++j) {
      const float* src = g.b + (j0 + j) * g.ldb + p0;
      for (int64_t p = 0; p < kc; ++p) dst[p * nr + j] = src[p];
    }
    for (int j = valid; j < nr; ++j)
      for (int64_t p = 0; p < kc; ++p) dst[p * nr + j] = 0.0f;
  }
}

void check_args(const GemmArgs& g) {
  auto fail = [](const std::string& what) { throw std::invalid_argument("gemm: " + what); };
  if (g.m < 0 || g.n < 0 || g.k < 0) fail("negative size");
  if (g.m == 0 || g.n == 0) return;
  if (g.c == nullptr || g.ldc < g.n) fail("c is null or ldc < n");
  if (g.k > 0) {
    if (g.a == nullptr || g.lda < (g.trans_a ? g.m : g.k)) fail("a is null or lda too small");
    if (g.b == nullptr || g.ldb < (g.trans_b ? g.k : g.n)) fail("b is null or ldb too small");
  }
  if (!gemm_alpha_valid(g.activation, g.alpha)) fail("alpha out of range for the activation");
}

}  // namespace

GemmBlocking gemm_blocking(const GemmUkernel& uk) {
  static const long l1 = cache_size(
#if defined(_SC_LEVEL1_DCACHE_SIZE)
      _SC_LEVEL1_DCACHE_SIZE,
#else
      0,
#endif
      32 * 1024);
  static const long l2 = cache_size(
#if defined(_SC_LEVEL2_CACHE_SIZE)
      _SC_LEVEL2_CACHE_SIZE,
#else
      0,
#endif
      1024 * 1024);
  GemmBlocking b{};
  // kc: the A micro-panel [mr x kc] takes at most half of L1 (B panels stream through the rest).
  b.kc = std::clamp<int64_t>(l1 / 2 / (4 * int64_t{uk.mr}), 64, 384) / 8 * 8;
  // nc: the packed B block [kc x nc] takes about half of L2.
  b.nc = std::max<int64_t>(uk.nr, l2 / 2 / (4 * b.kc) / uk.nr * uk.nr);
  // mc: rows of A packed per task; a few dozen micro-panels keep packing cheap and tasks balanced.
  b.mc = std::max<int64_t>(1, 120 / uk.mr) * uk.mr;
  return b;
}

GemmArgs gemm_dense_args(int64_t m, int64_t n, int64_t k, const float* a, bool trans_a, const float* b,
                         bool trans_b, float* c) {
  GemmArgs g;
  g.m = m;
  g.n = n;
  g.k = k;
  g.a = a;
  g.lda = trans_a ? m : k;
  g.trans_a = trans_a;
  g.b = b;
  g.ldb = trans_b ? k : n;
  g.trans_b = trans_b;
  g.c = c;
  g.ldc = n;
  return g;
}

void gemm_with_ukernel(const GemmArgs& g, const GemmUkernel& uk) {
  check_args(g);
  if (g.m == 0 || g.n == 0) return;
  const int mr = uk.mr;
  const int nr = uk.nr;
  const GemmBlocking bl = gemm_blocking(uk);

  // Threads only pay off above ~1M multiply-adds per K block; below that everything runs inline.
  const int threads = num_threads();
  const bool parallel = threads > 1 && g.m * std::min(g.n, bl.nc) * std::min(g.k, bl.kc) >= (int64_t{1} << 20);
  const int64_t target_tasks = parallel ? int64_t{threads} * 4 : 1;

  // M blocks: at most mc rows, and enough blocks to feed the threads when M allows it.
  const int64_t m_panels = ceil_div(g.m, mr);
  int64_t m_blocks = std::max(ceil_div(g.m, bl.mc), std::min(target_tasks, m_panels));
  const int64_t mc = ceil_div(m_panels, m_blocks) * mr;
  m_blocks = ceil_div(g.m, mc);

  const int64_t kc_max = std::max<int64_t>(1, std::min(g.k, bl.kc));
  const int64_t nc_max = round_up(std::min(g.n, bl.nc), nr);
  float* bp = g.k > 0 ? b_buffer().get(kc_max * nc_max) : nullptr;

  for (int64_t jc = 0; jc < g.n; jc += bl.nc) {
    const int64_t nc = std::min(bl.nc, g.n - jc);
    const int64_t n_panels = ceil_div(nc, nr);
    // Split N too when M alone cannot feed the threads (skinny shapes); each N range repacks its A.
    const int64_t n_split = std::min(n_panels, ceil_div(target_tasks, m_blocks));
    const int64_t panels_per_split = ceil_div(n_panels, n_split);

    int64_t pc = 0;
    do {
      const int64_t kc = std::min(bl.kc, g.k - pc);
      if (kc > 0) {
        const int64_t grain = std::max<int64_t>(1, 8192 / (kc * nr));
        auto pack = [&](int64_t begin, int64_t end) {
          for (int64_t q = begin; q < end; ++q) pack_b_panel(g, jc + q * nr, nc - q * nr, pc, kc, nr, bp + q * kc * nr);
        };
        if (parallel) parallel_for(n_panels, grain, pack); else pack(0, n_panels);
      }
      GemmTileEpilogue ep;
      ep.load_c = g.accumulate || pc > 0;
      ep.finish = pc + kc >= g.k;
      ep.activation = g.activation;
      ep.alpha = g.alpha;

      auto run = [&](int64_t begin, int64_t end) {
        for (int64_t t = begin; t < end; ++t) {
          const int64_t ic = (t / n_split) * mc;
          const int64_t rows = std::min(mc, g.m - ic);
          const int64_t q0 = (t % n_split) * panels_per_split;
          const int64_t q1 = std::min(n_panels, q0 + panels_per_split);
          if (q0 >= q1) continue;
          float* ap = nullptr;
          if (kc > 0) {
            ap = a_buffer().get(ceil_div(rows, mr) * mr * kc);
            pack_a(g, ic, rows, pc, kc, mr, ap);
          }
          GemmTileEpilogue tile_ep = ep;
          for (int64_t ir = 0; ir < rows; ir += mr) {
            const int mv = static_cast<int>(std::min<int64_t>(mr, rows - ir));
            const float* a_panel = kc > 0 ? ap + (ir / mr) * mr * kc : nullptr;
            float* c_row = g.c + (ic + ir) * g.ldc + jc;
            for (int64_t q = q0; q < q1; ++q) {
              const int64_t col = q * nr;
              const int nv = static_cast<int>(std::min<int64_t>(nr, nc - col));
              tile_ep.bias = g.bias != nullptr ? g.bias + jc + col : nullptr;
              uk.fn(kc, a_panel, kc > 0 ? bp + q * kc * nr : nullptr, c_row + col, g.ldc, mv, nv, tile_ep);
            }
          }
        }
      };
      const int64_t tasks = m_blocks * n_split;
      if (parallel) parallel_for(tasks, 1, run); else run(0, tasks);
      pc += kc;
    } while (pc < g.k);
  }
}

void gemm(const GemmArgs& args) { gemm_with_ukernel(args, kernels().gemm); }

bool parse_gemm_activation(const char* name, GemmActivation* out) {
  static const struct {
    const char* name;
    GemmActivation act;
  } table[] = {{"none", GemmActivation::none},       {"relu", GemmActivation::relu},
               {"leakyRelu", GemmActivation::leaky_relu}, {"elu", GemmActivation::elu},
               {"sigmoid", GemmActivation::sigmoid}, {"tanh", GemmActivation::tanh}};
  for (const auto& e : table) {
    if (std::strcmp(name, e.name) == 0) {
      *out = e.act;
      return true;
    }
  }
  return false;
}

bool gemm_alpha_valid(GemmActivation act, double alpha) {
  switch (act) {
    case GemmActivation::leaky_relu: return std::isfinite(alpha) && alpha >= 0.0;
    case GemmActivation::elu: return std::isfinite(alpha) && alpha > 0.0;
    default: return true;
  }
}

}  // namespace tf
