// GotoBLAS/BLIS-style SGEMM driver: cache blocking, packing (transposes handled here), register-blocked
// micro-kernels from the dispatch table, the epilogue fused into the last K block, and threading over
// output tiles (or, for skinny products, over K blocks: "K split" below). See gemm.h for the contract.
//
// Loop nest (row-major C; the micro-kernel broadcasts A and vector-loads B):
//
//   parallel over a tm x tn grid of output rectangles (row tiles x 16-column steps; one per thread,
//   no barriers):
//     for jc in its columns by nc:          B block [kc x nc] in L2, packed by this thread
//       for pc in K by kc:                  K blocks in order: the summation order of every output
//         pack B[pc:pc+kc, jc:jc+nc]        (skipped when B was prepacked with gemm_pack_b; when B is
//                                            row-major with short rows and A is small (gemm.h:
//                                            gemm_reads_b_in_place) only a partial last panel is
//                                            packed, the kernel's strided_b entry reads whole panels)
//         for ic in its rows by mc:
//           pack A[ic:ic+mc, pc:pc+kc]       (packers compiled for the kernel's ISA, see gemm_pack.h;
//                                            only when A is transposed or the kernel cannot read it in
//                                            place: gemm_reads_a_in_place)
//           for ir in mc by mr:             A micro-panel [mr x kc] stays in L1 ...
//             for jr in nc by nr:           ... while B micro-panels stream from L2
//               ukernel(kc, Ap, Bp, C tile, epilogue only if pc is the last K block)
//
// With B prepacked and A read in place (inference), while the partition's B fits in half of L2, the
// row tile is the outer loop instead (gemm_partition_rows_outer): for ir: for pc: for jr, same K blocks.
// A·Bᵀ with K >= 4M runs as Cᵀ = B·Aᵀ through the same nest, B read in place as the kernel's A, and
// is then transposed into C ("transposed B with few rows" below): no copy of the big operand.
//
// Each core has its own L2 (2 MB on the dev machine), so each thread packing and reading its own B
// block costs nothing over sharing one, and it removes the two barriers per K block of a shared pack.
// Every output is summed over the same K blocks in the same order by whichever thread owns its tile,
// so results are bit-identical for any number of threads.
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
#include "ukernels/gemm_pack.h"
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

// Per-thread packing buffers: every thread packs the A and B blocks of its own output rectangle.
// (gemm is never re-entered on one thread while its buffers are in use.)
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

constexpr int kMaxMr = 32;      // largest micro-kernel row count (checked in run_gemm)
constexpr int64_t kSmallM = 8;  // gemm() sends m <= kSmallM (B not transposed) to the direct kernel
// Threads pay off above ~1M multiply-adds (a pool wake-up costs a few microseconds).
bool gemm_worth_threading(const GemmArgs& g) { return g.m * g.n * std::max<int64_t>(g.k, 1) >= (int64_t{1} << 20); }

// --- packing -----------------------------------------------------------------------------------
// Each micro-kernel brings packers compiled for its ISA (ukernels/gemm_pack__avx.h); the portable
// loops (ukernels/gemm_pack.h) stand in for a kernel registered without them.

// op(A) rows [i0, i0+rows), k [p0, p0+kc) -> micro-panels of mr rows, zero-padded.
void pack_a(const GemmArgs& g, const GemmUkernel& uk, int64_t i0, int64_t rows, int64_t p0, int64_t kc, float* dst) {
  const float* a = g.trans_a ? g.a + p0 * g.lda + i0 : g.a + i0 * g.lda + p0;
  if (uk.pack_a != nullptr) {
    uk.pack_a(a, g.lda, g.trans_a, rows, kc, dst);
  } else {
    pack_portable::pack_a(a, g.lda, g.trans_a, rows, kc, uk.mr, dst);
  }
}

// op(B) k [p0, p0+kc), columns [j0, j0+cols) -> micro-panels of nr columns, zero-padded.
void pack_b(const GemmArgs& g, const GemmUkernel& uk, int64_t j0, int64_t cols, int64_t p0, int64_t kc, float* dst) {
  const float* b = g.trans_b ? g.b + j0 * g.ldb + p0 : g.b + p0 * g.ldb + j0;
  if (uk.pack_b != nullptr) {
    uk.pack_b(b, g.ldb, g.trans_b, cols, kc, dst);
  } else {
    pack_portable::pack_b(b, g.ldb, g.trans_b, cols, kc, uk.nr, dst);
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

// One core's L2 in bytes (1 MiB where the OS does not say).
long l2_size() {
  static const long l2 = cache_size(
#if defined(_SC_LEVEL2_CACHE_SIZE)
      _SC_LEVEL2_CACHE_SIZE,
#else
      0,
#endif
      1024 * 1024);
  return l2;
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
  const long l2 = l2_size();
  GemmBlocking b{};
  // kc: the A micro-panel [mr x kc] takes at most half of L1 (B panels stream through the rest).
  // At most 400 (was 384): K = 784, an MNIST-sized input layer, then cuts into two blocks of 392, not
  // three of 264, and two blocks let 2 threads split K (run_gemm_k_split). 1 thread, (64,784,256)
  // relu: 166-184 vs 165-177 GFLOP/s (same within the host's noise).
  b.kc = std::clamp<int64_t>(l1 / 2 / (4 * int64_t{uk.mr}), 64, 400) / 8 * 8;
  // nc: the packed B block [kc x nc] takes about half of L2.
  b.nc = std::max<int64_t>(uk.nr, l2 / 2 / (4 * b.kc) / uk.nr * uk.nr);
  // mc: rows of A packed per task; a few dozen micro-panels keep packing cheap and tasks balanced.
  b.mc = std::max<int64_t>(1, 120 / uk.mr) * uk.mr;
  return b;
}

namespace {

// The blocking for one problem: K is cut into equal blocks no longer than kc (with kc = 400, 1000 =
// 336+336+328 rather than 400+400+200, whose thin last block reloads and stores all of C for few
// multiply-adds per element). Depends only on k and the kernel, never on the thread count.
GemmBlocking blocking_for(const GemmUkernel& uk, int64_t k) {
  GemmBlocking bl = gemm_blocking(uk);
  if (k > bl.kc) {
    const int64_t blocks = ceil_div(k, bl.kc);
    bl.kc = round_up(ceil_div(k, blocks), 8);
  }
  return bl;
}

}  // namespace

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

namespace {

// Where the micro-kernels find the packed B panel q (global panel index, columns [q*nr, q*nr+nr)) of
// the K block starting at pc: either a prepacked GemmPackedB or the calling thread's own block buffer,
// which holds the panels [q_begin, ...) of the current (jc, pc) block.
struct BPanels {
  const GemmPackedB* prepacked = nullptr;
  const float* local = nullptr;
  int64_t q_begin = 0;
  int nr = 0;
  // B read in place (row-major, not transposed): whole panels come straight from B with stride ldb;
  // only a partial last panel (columns past n) is packed, into `local`.
  const float* in_place = nullptr;
  int64_t ldb = 0;
  int64_t q_partial = -1;

  // The panel and its row stride.
  const float* panel(int64_t pc, int64_t kc, int64_t q, int64_t* stride) const {
    *stride = nr;
    if (prepacked != nullptr) return prepacked->panel(pc, kc, q);
    if (in_place != nullptr) {
      if (q == q_partial) return local;
      *stride = ldb;
      return in_place + pc * ldb + q * nr;
    }
    return local + (q - q_begin) * kc * nr;
  }
};

// Prepacked B with A read in place (inference over a big input): one row tile at a time through every
// K block and column panel of the partition, instead of each K block over all rows. The tile's A rows
// are then read front to back in one pass (long streams the prefetchers follow, instead of a short
// segment per K block) and its C rows stay in L1 between K blocks. The K blocks are the same and in
// the same order, so every output rounds as in gemm_partition. Used while the partition's B stays in
// L2 (gemm_rows_outer_fits). (M,K,N) (256,784,256) with the 6x64 tile, 1 thread, A streaming from
// memory: 591 -> 578 us; (256,400,120) 160 -> 154 us.
bool gemm_rows_outer_fits(const GemmArgs& g, int64_t j0, int64_t j1) { return 4 * g.k * (j1 - j0) <= l2_size() / 2; }

void gemm_partition_rows_outer(const GemmArgs& g, const GemmUkernel& uk, const GemmBlocking& bl,
                               const GemmPackedB& packed, int64_t i0, int64_t i1, int64_t j0, int64_t j1) {
  const int mr = uk.mr;
  const int nr = uk.nr;
  for (int64_t ir = i0; ir < i1; ir += mr) {
    const int mv = static_cast<int>(std::min<int64_t>(mr, i1 - ir));
    // The tile may read one row past its mv rows (rounded up to even): in place only where it exists.
    const bool in_place = ir + round_up(mv, 2) <= g.m;
    float* c_row = g.c + ir * g.ldc;
    for (int64_t pc = 0; pc < g.k; pc += bl.kc) {
      const int64_t kc = std::min(bl.kc, g.k - pc);
      GemmTileEpilogue ep;
      ep.load_c = g.accumulate || pc > 0;
      ep.finish = pc + kc >= g.k;
      ep.activation = g.activation;
      ep.alpha = g.alpha;
      float* ap = nullptr;
      if (!in_place) {
        ap = a_buffer().get(mr * kc);
        pack_a(g, uk, ir, mv, pc, kc, ap);
      }
      for (int64_t q = j0 / nr; q * nr < j1; ++q) {
        const int64_t col = q * nr;
        const int nv = static_cast<int>(std::min<int64_t>(nr, j1 - col));
        ep.bias = g.bias != nullptr ? g.bias + col : nullptr;
        const float* b_panel = packed.panel(pc, kc, q);
        if (in_place) {
          uk.strided_a(kc, g.a + ir * g.lda + pc, g.lda, b_panel, c_row + col, g.ldc, mv, nv, ep);
        } else {
          uk.fn(kc, ap, b_panel, c_row + col, g.ldc, mv, nv, ep);
        }
      }
    }
  }
}

// A not transposed is read in place by kernels that can (strided_a / strided_ab), not packed. Since
// the in-place tile stopped reloading its row offsets from the stack (gemm_tile__avx512f.h,
// fma_pairs_strided_a) it runs as fast as the packed one (14x32, (64,784,256)'s loops with B from L2:
// 73 against 72.5 us, was 79), so packing A only costs: 3.2 us of the 156 of (64,784,256) per K block.
// In-process A/B, best of 5-20 alternating rounds, packed -> in place, GFLOP/s, 1 thread unless said:
// (64,784,256) 166 -> 174, (64,256,784) 169 -> 174 (2 threads 315 -> 325), 256³ 169 -> 177, 1000³ 158 ->
// 166, 1024³ 159 -> 165, 2048³ 156 -> 160, (256,4096,1024) 146 -> 153 (2 threads 295 -> 307), tall
// products (1x1 convolutions): (25088,256,128) 121 -> 134, (3136,576,64) 137 -> 162 (2 threads 274 ->
// 325). Not when A's rows are a multiple of 4 KB apart and the tile has more than 6 rows: all of them
// would share one L1 set (12 ways). The AVX2 6x16 tile: 256³ 102 -> 105, (64,784,256) 100 -> 102,
// 1024³ 98 -> 97 (noise level).
//
// A stored transposed ([k, m]) is read in place (strided_at / strided_atb) while its rows are at most
// 1 KB apart and it is small (m*k <= 2 * kGemmInPlaceMaxMK, 512 KB). A tile's A steps are then rows of
// A, ~2 lines each, that no longer fit L1 beside the B stream for long K blocks: they come from L2, which
// the prefetchers keep up with while several steps share a 4 KB page. Wider rows or a bigger A (from L3
// or memory) lost. In-process A/B, best of 12 alternating rounds, packed -> in place, GFLOP/s, 1 thread
// (2 threads): (64,784,256) tA 166 -> 170 (291 -> 295), (64,256,128) tA 160 -> 174 (237 -> 269),
// (64,256,784) tA 166 -> 170, (256,64,128) tA 149 -> 160, (120,256,84) tA 133 -> 147, (256,512,256) tA
// 161 -> 167; lost: rows 1.5-3 KB apart (384,384,384) tA 166 -> 160, (512,256,512) tA 169 -> 159,
// (784,64,256) tA 158 -> 153; big A (256,4096,1024) tA 148 -> 145, (128,25088,256) tA 129 -> 119.
bool gemm_reads_a_in_place(const GemmArgs& g, const GemmUkernel& uk) {
  if (g.trans_a) {
    return uk.strided_at != nullptr && uk.strided_atb != nullptr && g.lda <= 256 &&
           g.m * g.k <= 2 * kGemmInPlaceMaxMK;
  }
  return uk.strided_a != nullptr && uk.strided_ab != nullptr && (g.lda % 1024 != 0 || uk.mr <= 6);
}

// One thread's share of the output: rows [i0, i1) and columns [j0, j1) of C over the whole K, run
// serially with its own packing buffers. i0 and j0 are multiples of mr and nr (the tile grid from the
// matrix origin), so a panel index is the same in any partition.
void gemm_partition(const GemmArgs& g, const GemmUkernel& uk, const GemmBlocking& bl, const GemmPackedB* prepacked,
                    int64_t i0, int64_t i1, int64_t j0, int64_t j1, bool read_a_in_place = false) {
  const int mr = uk.mr;
  const int nr = uk.nr;
  if (prepacked != nullptr && !g.trans_a && uk.strided_a != nullptr && g.k > 0 && gemm_rows_outer_fits(g, j0, j1)) {
    gemm_partition_rows_outer(g, uk, bl, *prepacked, i0, i1, j0, j1);
    return;
  }
  // Column blocks of equal width, as K blocks are (blocking_for): 1024 columns with nc = 672 ran as
  // 672 + 352, and the thin second block packs all of A again for a third of the columns. In-process
  // A/B, best of 8 alternating rounds, 1 / 2 threads, GFLOP/s: (256,4096,1024) tA 148 -> 151 / 296 -> 303;
  // within 1 % elsewhere ((256,4096,1024), 1024³ and its tA, 1000³, 2048³, (512,4096,1536)). nc is a
  // multiple of nr, so the equal width rounded up to nr still fits in it.
  const int64_t width = j1 - j0;
  const int64_t nc_step = width > bl.nc ? round_up(ceil_div(width, ceil_div(width, bl.nc)), nr) : bl.nc;
  for (int64_t jc = j0; jc < j1; jc += nc_step) {
    const int64_t nc = std::min(nc_step, j1 - jc);
    const int64_t q_begin = jc / nr;
    const int64_t n_panels = ceil_div(nc, nr);
    BPanels panels;
    panels.prepacked = prepacked;
    panels.q_begin = q_begin;
    panels.nr = nr;
    // B [k,n] needs no packing for a kernel that reads it with a stride: its rows are already the
    // panel rows. Saves the copy of B (13.6 % of (64,784,256) with SIMD packing) and its packed
    // copy's room in L2.
    const bool in_place = prepacked == nullptr && gemm_reads_b_in_place(g, uk);
    if (in_place) {
      panels.in_place = g.b;
      panels.ldb = g.ldb;
      if ((jc + nc) % nr != 0) panels.q_partial = q_begin + n_panels - 1;
    }

    int64_t pc = 0;
    do {
      const int64_t kc = std::min(bl.kc, g.k - pc);
      if (kc > 0 && prepacked == nullptr) {
        if (in_place) {
          if (panels.q_partial >= 0) {
            const int64_t col = panels.q_partial * nr;
            float* bp = b_buffer().get(kc * nr);
            pack_b(g, uk, col, jc + nc - col, pc, kc, bp);
            panels.local = bp;
          }
        } else {
          float* bp = b_buffer().get(n_panels * kc * nr);
          pack_b(g, uk, jc, nc, pc, kc, bp);
          panels.local = bp;
        }
      }
      GemmTileEpilogue ep;
      ep.load_c = g.accumulate || pc > 0;
      ep.finish = pc + kc >= g.k;
      ep.activation = g.activation;
      ep.alpha = g.alpha;

      // A is read in place where the kernel does that as fast as from a packed panel
      // (gemm_reads_a_in_place). With prepacked B (inference: predict over a big input), A is typically
      // read once from DRAM: packing it then waits on memory, while the kernel's reads of A in place
      // stream behind its arithmetic. The transposed-B path (read_a_in_place) reads its A, the caller's
      // B, in place so as not to pack it.
      const bool a_wanted_in_place = prepacked != nullptr || read_a_in_place || gemm_reads_a_in_place(g, uk);
      for (int64_t ic = i0; ic < i1; ic += bl.mc) {
        const int64_t rows = std::min(bl.mc, i1 - ic);
        // A tile whose B panel is read in place takes the kernel's strided_ab entry (strided_atb for a
        // transposed A), one whose panel is packed strided_a (strided_at). The last tile may read one row
        // past `rows` (rows rounded up to even): only where that row exists.
        const bool a_in_place = a_wanted_in_place && kc > 0 &&
                                (g.trans_a ? uk.strided_at != nullptr && uk.strided_atb != nullptr
                                           : uk.strided_a != nullptr && uk.strided_ab != nullptr) &&
                                ic + round_up(rows, 2) <= g.m;
        float* ap = nullptr;
        if (kc > 0 && !a_in_place) {
          ap = a_buffer().get(ceil_div(rows, mr) * mr * kc);
          pack_a(g, uk, ic, rows, pc, kc, ap);
        }
        // A micro-panel [mr x kc] stays in L1 while the B micro-panels of the block stream from L2.
        for (int64_t ir = 0; ir < rows; ir += mr) {
          const int mv = static_cast<int>(std::min<int64_t>(mr, rows - ir));
          const float* a_panel = ap != nullptr ? ap + (ir / mr) * mr * kc : nullptr;
          float* c_row = g.c + (ic + ir) * g.ldc;
          for (int64_t q = q_begin; q < q_begin + n_panels; ++q) {
            const int64_t col = q * nr;
            const int nv = static_cast<int>(std::min<int64_t>(nr, jc + nc - col));
            ep.bias = g.bias != nullptr ? g.bias + col : nullptr;
            if (kc == 0) {
              uk.fn(0, nullptr, nullptr, c_row + col, g.ldc, mv, nv, ep);
              continue;
            }
            int64_t stride = nr;
            const float* b_panel = panels.panel(pc, kc, q, &stride);
            if (a_in_place && g.trans_a) {
              const float* a_cols = g.a + pc * g.lda + ic + ir;
              if (stride == nr) {
                uk.strided_at(kc, a_cols, g.lda, b_panel, c_row + col, g.ldc, mv, nv, ep);
              } else {
                uk.strided_atb(kc, a_cols, g.lda, b_panel, stride, c_row + col, g.ldc, mv, nv, ep);
              }
            } else if (a_in_place) {
              const float* a_rows = g.a + (ic + ir) * g.lda + pc;
              if (stride == nr) {
                uk.strided_a(kc, a_rows, g.lda, b_panel, c_row + col, g.ldc, mv, nv, ep);
              } else {
                uk.strided_ab(kc, a_rows, g.lda, b_panel, stride, c_row + col, g.ldc, mv, nv, ep);
              }
            } else if (stride == nr) {
              uk.fn(kc, a_panel, b_panel, c_row + col, g.ldc, mv, nv, ep);
            } else {
              uk.strided_b(kc, a_panel, b_panel, stride, c_row + col, g.ldc, mv, nv, ep);
            }
          }
        }
      }
      pc += kc;
    } while (pc < g.k);
  }
}

// Splits `count` units into `parts` contiguous ranges whose sizes differ by at most one.
int64_t split_point(int64_t count, int64_t parts, int64_t index) {
  return count / parts * index + std::min(index, count % parts);
}

// Columns are split between threads in steps of `column_step` (see grid_partition): one 16-float
// vector, or a whole panel where the panel index must stay global (prepacked B).
int64_t column_step(const GemmUkernel& uk, bool prepacked) {
  return prepacked ? uk.nr : std::min<int64_t>(uk.nr, 16);
}

// One packed element costs roughly as much as 16 multiply-adds (a strided load and a store versus a
// fraction of a vector FMA).
constexpr double kPackedElementCost = 16.0;

// The thread grid tm x tn (tm * tn = threads): each thread owns a rectangle of whole row tiles and
// column steps. Picks the grid with the least work on the busiest thread: its FMAs plus its packing
// (its rows of A once per nc block of its columns, its columns of B once). Only speed depends on this
// choice: every output is summed the same way whichever thread owns it. `a_cost` is what one element
// of A costs a thread in multiply-adds: packed by default; run_gemm_swapped, whose A is read in place,
// passes less.
void choose_grid(const GemmArgs& g, const GemmUkernel& uk, const GemmBlocking& bl, int threads, bool prepacked,
                 int64_t* tm, int64_t* tn, double a_cost = kPackedElementCost) {
  const int64_t step = column_step(uk, prepacked);
  const int64_t m_panels = ceil_div(g.m, uk.mr), n_steps = ceil_div(g.n, step);
  double best = -1;
  for (int64_t a = 1; a <= threads; ++a) {
    if (threads % a != 0) continue;
    const int64_t b = threads / a;
    if (a > m_panels || b > n_steps) continue;
    const double rows = static_cast<double>(ceil_div(m_panels, a) * uk.mr);
    const double cols = static_cast<double>(ceil_div(n_steps, b) * step);
    const double k = static_cast<double>(std::max<int64_t>(g.k, 1));
    // A is read (packed, or in place at a_cost) once per nc block of the thread's columns; B is packed
    // once, unless prepacked.
    const double a_reads = rows * k * std::ceil(cols / static_cast<double>(bl.nc));
    const double b_packed = prepacked ? 0.0 : cols * k;
    const double cost = rows * cols * k + a_cost * a_reads + kPackedElementCost * b_packed;
    if (best < 0 || cost < best) {
      best = cost;
      *tm = a;
      *tn = b;
    }
  }
  if (best < 0) {  // fewer tiles than threads in every grid: split the longer side only
    *tm = std::min<int64_t>(threads, m_panels);
    *tn = 1;
    if (n_steps > m_panels) {
      *tm = 1;
      *tn = std::min<int64_t>(threads, n_steps);
    }
  }
}

// Thread t's rectangle of a tm x tn grid over the output of g: rows [i0, i1) in whole row tiles from
// the matrix origin, columns [j0, j1) in column steps; empty when the grid has more rows or columns than
// tiles. Columns go in steps of one vector rather than one panel because a partial panel costs the
// AVX-512 kernels only the vectors it covers: N = 784 is 24.5 panels of 32, which whole panels split
// 13 / 11.5 between 2 threads, vectors 12.5 / 12. (64,256,784), 1 thread on the first thread's columns:
// 416 of them 89 us, 400 of them 84; at 2 threads the first thread's share went 88.5 -> 86.5 us (best)
// and the call 95.8 -> 93.3 us (median): the rest is both cores running AVX-512 at once.
struct Partition {
  int64_t i0, i1, j0, j1;
  bool empty() const { return i0 >= i1 || j0 >= j1; }
};
Partition grid_partition(const GemmArgs& g, const GemmUkernel& uk, bool prepacked, int64_t tm, int64_t tn, int64_t t) {
  const int64_t step = column_step(uk, prepacked);
  const int64_t m_panels = ceil_div(g.m, uk.mr), n_steps = ceil_div(g.n, step);
  const int64_t ti = t / tn, tj = t % tn;
  return {split_point(m_panels, tm, ti) * uk.mr, std::min(g.m, split_point(m_panels, tm, ti + 1) * uk.mr),
          split_point(n_steps, tn, tj) * step, std::min(g.n, split_point(n_steps, tn, tj + 1) * step)};
}

// Runs one thread's rectangle. One that starts inside a panel (a vector step) runs as a product of its
// own, B, C and bias shifted to its first column, so that its panels count from there. The K blocks and
// every output's chain of FMAs are the same either way, so the results are too.
void run_partition(const GemmArgs& g, const GemmUkernel& uk, const GemmBlocking& bl, const GemmPackedB* prepacked,
                   const Partition& p, bool read_a_in_place = false) {
  if (p.j0 % uk.nr == 0) {
    gemm_partition(g, uk, bl, prepacked, p.i0, p.i1, p.j0, p.j1, read_a_in_place);
    return;
  }
  GemmArgs s = g;
  s.n = g.n - p.j0;
  s.b = g.trans_b ? g.b + p.j0 * g.ldb : g.b + p.j0;
  s.c = g.c + p.j0;
  if (g.bias != nullptr) s.bias = g.bias + p.j0;
  gemm_partition(s, uk, bl, prepacked, p.i0, p.i1, 0, p.j1 - p.j0, read_a_in_place);
}

// --- K split -------------------------------------------------------------------------------------
// A skinny product (few rows, long K: a dense layer's forward on a training batch) splits poorly over
// output tiles: with M = 64 every thread packs all of A and reads B's every row, and in a training step
// those rows were just updated by the other core. Here thread t takes its own run of whole K blocks
// instead (thread 0 the first run, folded into C as usual; each later block into a scratch slab of its
// own, from zero) and the slabs are then added into C in block order, the last with the epilogue.
// That is the serial fold exactly: the micro-kernels sum each block from zero and add it to C
// (t = acc + C, then bias, then activation), so every output rounds as with one thread.
// In the MLP's training step (bench-train-profile, 2 threads) the first layer's forward, (64,784,256)
// relu, went from 175-187 to 128 us and the step from 724-792 to 669-735 us.
bool gemm_k_split_pays(const GemmArgs& g, const GemmBlocking& bl, int threads, bool prepacked) {
  if (threads < 2 || prepacked || g.k <= 0) return false;
  // Only activations whose scalar form rounds as every ISA's vector epilogue does.
  if (g.activation != GemmActivation::none && g.activation != GemmActivation::relu &&
      g.activation != GemmActivation::leaky_relu) {
    return false;
  }
  const int64_t k_blocks = ceil_div(g.k, bl.kc);
  if (g.m > 128 || k_blocks < threads || k_blocks % threads != 0) return false;
  // The slabs (every block after thread 0's run) stay small next to the product.
  return (k_blocks - k_blocks / threads) * g.m * g.n <= (int64_t{1} << 20);
}

AlignedBuffer& k_split_buffer() {
  thread_local AlignedBuffer buffer;
  return buffer;
}

// c[j] = act(s[j] + c[j] + bias[j]) in the order a micro-kernel finishes a tile (t = acc + C, + bias,
// activation); one loop per case so that each vectorizes (a switch per element ran 16 K outputs in
// 14-60 us).
void fold_slab_row(int64_t n, const float* __restrict s, float* __restrict c, const float* __restrict bias,
                   GemmActivation act, float alpha) {
  if (bias == nullptr) {
    if (act == GemmActivation::none) {
      for (int64_t j = 0; j < n; ++j) c[j] = s[j] + c[j];
      return;
    }
    for (int64_t j = 0; j < n; ++j) c[j] = gemm_activate(act, alpha, s[j] + c[j]);
    return;
  }
  switch (act) {
    case GemmActivation::none:
      for (int64_t j = 0; j < n; ++j) c[j] = (s[j] + c[j]) + bias[j];
      return;
    case GemmActivation::relu:
      for (int64_t j = 0; j < n; ++j) {
        const float v = (s[j] + c[j]) + bias[j];
        c[j] = v < 0.0f ? 0.0f : v;
      }
      return;
    default:
      for (int64_t j = 0; j < n; ++j) c[j] = gemm_activate(act, alpha, (s[j] + c[j]) + bias[j]);
      return;
  }
}

void run_gemm_k_split(const GemmArgs& g, const GemmUkernel& uk, const GemmBlocking& bl, int threads) {
  const int64_t k_blocks = ceil_div(g.k, bl.kc);
  const int64_t first_slab = split_point(k_blocks, threads, 1);  // thread 0 folds [0, first_slab) into C
  const int64_t slab = g.m * g.n;
  float* slabs = k_split_buffer().get((k_blocks - first_slab) * slab);
  parallel_for(threads, 1, [&](int64_t begin, int64_t end) {
    for (int64_t t = begin; t < end; ++t) {
      for (int64_t blk = split_point(k_blocks, threads, t); blk < split_point(k_blocks, threads, t + 1); ++blk) {
        const int64_t pc = blk * bl.kc;
        GemmArgs part = g;
        part.k = std::min(bl.kc, g.k - pc);  // one block: blocking_for(part.k) keeps it whole
        part.a = g.trans_a ? g.a + pc * g.lda : g.a + pc;
        part.b = g.trans_b ? g.b + pc : g.b + pc * g.ldb;
        part.bias = nullptr;
        part.activation = GemmActivation::none;
        if (t == 0) {
          part.accumulate = g.accumulate || blk > 0;
        } else {
          part.c = slabs + (blk - first_slab) * slab;
          part.ldc = g.n;
          part.accumulate = false;
        }
        gemm_partition(part, uk, blocking_for(uk, part.k), nullptr, 0, g.m, 0, g.n);
      }
    }
  });

  // C += slab, block by block; the last block as the micro-kernels finish a tile.
  parallel_for(g.m, std::max<int64_t>(1, 4096 / g.n), [&](int64_t r0, int64_t r1) {
    for (int64_t i = r0; i < r1; ++i) {
      for (int64_t blk = first_slab; blk < k_blocks; ++blk) {
        const bool last = blk + 1 == k_blocks;
        fold_slab_row(g.n, slabs + (blk - first_slab) * slab + i * g.n, g.c + i * g.ldc, last ? g.bias : nullptr,
                      last ? g.activation : GemmActivation::none, g.alpha);
      }
    }
  });
}

// --- transposed B with few rows: Cᵀ = B·Aᵀ ----------------------------------------------------------
// C = A·Bᵀ with B stored [n,k] would pack all of B (k*n elements, a transposing copy) for only m
// multiply-adds per element: for a dense layer's input gradient, dz [64,n_out] · wᵀ, that packing is
// 13-16 % of the product. Its transpose Cᵀ = B·Aᵀ reads B in place instead, as the kernel's A operand
// (strided_a: B's rows are contiguous in k), packs only A (m*k elements) as its B operand, and writes
// Cᵀ into a scratch buffer that the kernel's transposer then turns into C (m*n elements). Every output
// is the same chain of FMAs over the same K blocks (fma(a,b,c) = fma(b,a,c) exactly), so the result is
// bit-identical to packing B. Only without an epilogue (bias and activation would apply along Cᵀ's
// rows) and without accumulate: what a backward pass asks for.
AlignedBuffer& transposed_c_buffer() {
  thread_local AlignedBuffer buffer;  // the calling thread's; the partitions fill disjoint rows
  return buffer;
}

// Cᵀ is computed a band of at most this many floats at a time (1 MB; a band of whole tiles), so the
// scratch stays bounded for any n: (64, 784, 256) and the like fit in one band.
constexpr int64_t kTransposedCBandFloats = int64_t{1} << 18;

// What one element of the swapped product's A (the caller's B, read in place) costs a thread in the grid
// choice, in multiply-adds: a read from L2 or L3 once per column block, where a packed element is a
// read and a write (16). At 16 the grid gave every thread all of the packed Aᵀ (m·k elements each)
// rather than all of B's rows read in place; see gemm_choose_ukernel for the column split it now takes.
constexpr double kSwappedInPlaceACost = 6.0;
// Cᵀ rows (C's columns) up to which a threaded swapped product takes the default tile (gemm_choose_ukernel).
constexpr int64_t kSwappedColumnSplitMaxN = 256;

void run_gemm_swapped(const GemmArgs& g, const GemmUkernel& uk) {
  const int64_t ldt = round_up(g.m, 16);  // Cᵀ rows of m floats, 64-byte aligned
  const int64_t band = std::max<int64_t>(1, kTransposedCBandFloats / ldt / uk.mr) * uk.mr;
  float* ct = transposed_c_buffer().get(std::min(g.n, band) * ldt);
  const GemmBlocking bl = blocking_for(uk, g.k);  // the same K blocks as g's
  for (int64_t r0 = 0; r0 < g.n; r0 += band) {
    GemmArgs s;  // Cᵀ rows [r0, r0 + s.m): B [n,k] rows · op(A)ᵀ [k,m]
    s.m = std::min(band, g.n - r0);
    s.n = g.m;
    s.k = g.k;
    s.a = g.b + r0 * g.ldb;
    s.lda = g.ldb;
    s.b = g.a;
    s.ldb = g.lda;
    s.trans_b = !g.trans_a;  // op(A)ᵀ is A [m,k] read transposed, or A stored [k,m] read as it is
    s.c = ct;
    s.ldc = ldt;
    const int threads = gemm_worth_threading(s) ? num_threads() : 1;
    int64_t tm = 1, tn = 1;
    if (threads > 1) choose_grid(s, uk, bl, threads, false, &tm, &tn, kSwappedInPlaceACost);
    auto run = [&](int64_t begin, int64_t end) {
      for (int64_t t = begin; t < end; ++t) {
        const Partition p = grid_partition(s, uk, false, tm, tn, t);
        if (p.empty()) continue;
        run_partition(s, uk, bl, nullptr, p, /*read_a_in_place=*/true);
        // C[j][r0 + i] = Cᵀ[i][j] for this thread's rectangle, while it is still in this core's cache.
        const float* src = ct + p.i0 * ldt + p.j0;
        float* dst = g.c + p.j0 * g.ldc + r0 + p.i0;
        if (uk.transpose != nullptr) {
          uk.transpose(src, ldt, p.i1 - p.i0, p.j1 - p.j0, dst, g.ldc);
        } else {
          pack_portable::transpose(src, ldt, p.i1 - p.i0, p.j1 - p.j0, dst, g.ldc);
        }
      }
    };
    const int64_t parts = tm * tn;
    if (parts > 1) parallel_for(parts, 1, run); else run(0, 1);
  }
}

void run_gemm(const GemmArgs& g, const GemmUkernel& uk, const GemmPackedB* prepacked) {
  check_args(g);
  if (uk.mr < 1 || uk.mr > kMaxMr || uk.nr < 1) throw std::invalid_argument("gemm: micro-kernel tile out of range");
  if (g.m == 0 || g.n == 0) return;
  if (prepacked == nullptr && gemm_swaps_trans_b(g, uk)) {
    run_gemm_swapped(g, uk);
    return;
  }
  const GemmBlocking bl = prepacked != nullptr ? prepacked->blocking : blocking_for(uk, g.k);

  const int threads = gemm_worth_threading(g) ? num_threads() : 1;
  if (gemm_k_split_pays(g, bl, threads, prepacked != nullptr)) {
    run_gemm_k_split(g, uk, bl, threads);
    return;
  }
  int64_t tm = 1, tn = 1;
  if (threads > 1) choose_grid(g, uk, bl, threads, prepacked != nullptr, &tm, &tn);

  auto run = [&](int64_t begin, int64_t end) {
    for (int64_t t = begin; t < end; ++t) {
      const Partition p = grid_partition(g, uk, prepacked != nullptr, tm, tn, t);
      if (!p.empty()) run_partition(g, uk, bl, prepacked, p);
    }
  };
  const int64_t parts = tm * tn;
  if (parts > 1) parallel_for(parts, 1, run); else run(0, 1);
}

}  // namespace

void gemm_with_ukernel(const GemmArgs& g, const GemmUkernel& uk) { run_gemm(g, uk, nullptr); }

// Pays where B's transposing copy (k*n elements) is at least 4 times C's (m*n): K >= 4M. In-process
// A/B, best of 15 alternating rounds, 1 / 2 threads, (M,K,N), GFLOP/s packed -> swapped (14x32):
// (64,784,256) 143 -> 166 / 268 -> 284, (64,256,784) 143 -> 161 / 265 -> 293, (64,256,128) 135 -> 147 /
// 202 -> 208, (32,256,256) 121 -> 158 / 204 -> 246, (256,4096,1024) 146 -> 151 / 292 -> 299; below the
// line it loses: (64,128,256) 141 -> 140 / 220 -> 220, (64,64,784) 137 -> 129 / 256 -> 207. Fewer than
// 16 rows make Cᵀ's tiles mostly padding: (8,784,256) 70 -> 59.
bool gemm_swaps_trans_b(const GemmArgs& g, const GemmUkernel& uk) {
  return g.trans_b && uk.strided_a != nullptr && g.bias == nullptr && g.activation == GemmActivation::none &&
         !g.accumulate && g.m >= 16 && g.m <= 256 && g.k >= 4 * g.m && g.n > 0;
}

int64_t gemm_grid_first_column_end(const GemmArgs& g, const GemmUkernel& uk, int threads) {
  int64_t tm = 1, tn = 1;
  if (threads > 1 && g.m > 0 && g.n > 0) choose_grid(g, uk, blocking_for(uk, g.k), threads, false, &tm, &tn);
  return grid_partition(g, uk, false, tm, tn, 0).j1;
}

bool gemm_splits_k(const GemmArgs& g, const GemmUkernel& uk, int threads) {
  return gemm_worth_threading(g) && g.m > 0 && g.n > 0 && gemm_k_split_pays(g, blocking_for(uk, g.k), threads, false);
}

GemmPackedB gemm_pack_b_with_ukernel(int64_t k, int64_t n, const float* b, int64_t ldb, bool trans_b,
                                     const GemmUkernel& uk) {
  if (k < 1 || n < 1) throw std::invalid_argument("gemm_pack_b: k and n must be >= 1");
  if (b == nullptr || ldb < (trans_b ? k : n)) throw std::invalid_argument("gemm_pack_b: b is null or ldb too small");
  GemmPackedB pb;
  pb.k = k;
  pb.n = n;
  pb.ukernel = uk;
  pb.blocking = blocking_for(uk, k);
  pb.n_panels = ceil_div(n, uk.nr);
  pb.storage = std::shared_ptr<float>(
      static_cast<float*>(::operator new(static_cast<size_t>(k * pb.n_panels * uk.nr) * sizeof(float), std::align_val_t{64})),
      [](float* p) { ::operator delete(p, std::align_val_t{64}); });
  GemmArgs g;
  g.k = k;
  g.n = n;
  g.b = b;
  g.ldb = ldb;
  g.trans_b = trans_b;
  // Every (K block, panel) pair is independent: pack them in parallel.
  const int64_t kc = pb.blocking.kc;
  const int64_t k_blocks = ceil_div(k, kc);
  const int64_t items = k_blocks * pb.n_panels;
  auto pack = [&](int64_t begin, int64_t end) {
    for (int64_t t = begin; t < end; ++t) {
      const int64_t pc = (t / pb.n_panels) * kc, q = t % pb.n_panels;
      const int64_t kcur = std::min(kc, k - pc);
      pack_b(g, uk, q * uk.nr, std::min<int64_t>(uk.nr, n - q * uk.nr), pc, kcur, pb.storage.get() + pb.offset(pc, kcur, q));
    }
  };
  parallel_for(items, std::max<int64_t>(1, 16384 / (kc * uk.nr)), pack);
  return pb;
}

const GemmUkernel& gemm_choose_packed_ukernel(int64_t k, int64_t n, const GemmUkernel& preferred,
                                              const GemmUkernel& alternative) {
  if (alternative.fn == preferred.fn || alternative.strided_a == nullptr || k < 1 || n < 1) return preferred;
  // Outputs must round as gemm() rounds them: only a kernel with the same K blocks will do.
  if (blocking_for(alternative, k).kc != blocking_for(preferred, k).kc) return preferred;
  const int64_t pad_preferred = round_up(n, preferred.nr) - n;
  const int64_t pad_alternative = round_up(n, alternative.nr) - n;
  return pad_alternative <= pad_preferred + n / 32 ? alternative : preferred;
}

GemmPackedB gemm_pack_b(int64_t k, int64_t n, const float* b, int64_t ldb, bool trans_b) {
  const KernelTable& table = kernels();
  return gemm_pack_b_with_ukernel(k, n, b, ldb, trans_b, gemm_choose_packed_ukernel(k, n, table.gemm, table.gemm_alt));
}

void gemm_packed(const GemmArgs& args, const GemmPackedB& b) {
  if (b.storage == nullptr || args.k != b.k || args.n != b.n) {
    throw std::invalid_argument("gemm_packed: k and n must match the packed B");
  }
  GemmArgs g = args;
  g.b = nullptr;
  g.ldb = 0;
  g.trans_b = false;
  // check_args wants a B; the packed one stands in for it.
  g.b = b.storage.get();
  g.ldb = g.n;
  run_gemm(g, b.ukernel, &b);
}

void gemm_small_m_with_ukernel(const GemmArgs& g, const GemmSmallMUkernel& uk) {
  check_args(g);
  if (g.trans_b || g.m > kSmallM) throw std::invalid_argument("gemm: the small-M path needs m <= 8 and B not transposed");
  if (uk.max_m < 1) throw std::invalid_argument("gemm: small-M kernel without rows");
  if (g.m == 0 || g.n == 0) return;
  GemmTileEpilogue ep;
  ep.load_c = g.accumulate;
  ep.finish = true;
  ep.activation = g.activation;
  ep.alpha = g.alpha;
  const int64_t a_rs = g.trans_a ? 1 : g.lda, a_cs = g.trans_a ? g.lda : 1;
  // Split the columns between threads in 64-column chunks; each output is still one sum over the
  // whole K in order, so the split never changes a result.
  const int64_t chunk = 64;
  const int64_t chunks = ceil_div(g.n, chunk);
  const bool parallel = num_threads() > 1 && gemm_worth_threading(g);
  auto run = [&](int64_t begin, int64_t end) {
    const int64_t j0 = begin * chunk, j1 = std::min(g.n, end * chunk);
    GemmTileEpilogue e = ep;
    e.bias = g.bias != nullptr ? g.bias + j0 : nullptr;
    for (int64_t i = 0; i < g.m; i += uk.max_m) {
      const int64_t rows = std::min<int64_t>(uk.max_m, g.m - i);
      const float* a = g.trans_a ? g.a + i : g.a + i * g.lda;
      uk.fn(rows, j1 - j0, g.k, a, a_rs, a_cs, g.b + j0, g.ldb, g.c + i * g.ldc + j0, g.ldc, e);
    }
  };
  if (parallel) parallel_for(chunks, 1, run); else run(0, chunks);
}

void gemm(const GemmArgs& args) {
  const KernelTable& table = kernels();
  // Small M (batch-1 inference): packing would cost as much as the product itself. With k == 0 the
  // operands may be absent; the packed path handles that case.
  if (args.m <= std::min<int64_t>(kSmallM, table.gemm_small_m.use_up_to_m) && !args.trans_b && args.k > 0) {
    gemm_small_m_with_ukernel(args, table.gemm_small_m);
  } else {
    const int threads = gemm_worth_threading(args) ? num_threads() : 1;
    gemm_with_ukernel(args, gemm_choose_ukernel(args, table.gemm, table.gemm_alt, threads));
  }
}

bool gemm_reads_b_in_place(const GemmArgs& args, const GemmUkernel& uk) {
  if (args.trans_b || uk.strided_b == nullptr || args.m * args.k > kGemmInPlaceMaxMK) return false;
  return args.ldb <= kGemmInPlaceMaxLdb || (args.ldb <= kGemmInPlaceMaxLdbOneBlock && args.k <= gemm_blocking(uk).kc);
}

const GemmUkernel& gemm_choose_ukernel(const GemmArgs& args, const GemmUkernel& preferred,
                                       const GemmUkernel& alternative, int threads) {
  // Run as Cᵀ = B·Aᵀ (gemm_swaps_trans_b), the kernel sees a product of m columns with B packed once:
  // chosen as for a prepacked B (the same K blocks, the least column padding). 6x64 over 14x32 there,
  // in-process A/B, 1 / 2 threads, (M,K,N), GFLOP/s: (256,4096,1024) 146 -> 159 / 297 -> 320,
  // (64,256,784) 156 -> 162 / 293 -> 294, (64,784,256) 167 -> 168 / 277 -> 296; m = 32 stays on 14x32
  // (157 against 84).
  if (gemm_swaps_trans_b(args, preferred) && gemm_swaps_trans_b(args, alternative)) {
    // Threaded with few Cᵀ rows (n <= 256), the default tile instead: its 32-column panels let the threads
    // split Cᵀ's m = 64 columns (the grid's cheaper in-place A, kSwappedInPlaceACost), so each packs half
    // of Aᵀ, where 6x64's single panel made each split the rows and pack all of Aᵀ (m·k elements for
    // n/2·m·k multiply-adds: 25 % of the work at n = 128). Both tiles cut K alike, so the bits are the
    // same at any thread count. In-process A/B, 2 threads, (M,K,N), GFLOP/s: (64,256,128) tB 199 -> 271,
    // (64,1024,64) 221 -> 275, (128,512,256) 284 -> 299, (64,784,256) 307 -> 315, (64,512,256) 232 ->
    // 237; within 1 % (the rule leaves them as they were or they take the row split anyway):
    // (64,256,784), (32,256,256), (32,784,128), (256,1024,256), (128,784,512), (128,1024,512),
    // (256,4096,1024). Past n = 256 the column split lost: (128,1024,512) 323 -> 296. At 1 thread 14x32 is
    // mixed, so 6x64 stays: (64,784,256) 175 -> 171, (256,1024,256) 160 -> 156, (64,256,128) 150 -> 155.
    if (threads > 1 && args.n <= kSwappedColumnSplitMaxN &&
        blocking_for(preferred, args.k).kc == blocking_for(alternative, args.k).kc) {
      return preferred;
    }
    return gemm_choose_packed_ukernel(args.k, args.m, preferred, alternative);
  }
  // With A transposed its packing is a plain copy whatever mr is, and 14x32 measured ahead of 6x64.
  if (args.trans_a || alternative.fn == preferred.fn || args.m < 1) return preferred;
  // With B read in place the default (14x32: half the bytes of B per FMA) won even where its rows pad
  // M: (64,784,256) 186 vs 170-173, (64,256,128) 173 vs 161-165 GFLOP/s (1 thread, in-process A/B).
  if (gemm_reads_b_in_place(args, preferred)) return preferred;
  // C rows a multiple of 4 KB apart (ldc a multiple of 1024 floats) put the first line of all 14 rows
  // of a 14x32 tile in one L1 set (12 ways), and its epilogue's loads and stores of C then evict one
  // another; a 6-row tile fits. In-process A/B, best of 5 alternating rounds, (M,K,N), GFLOP/s 14x32
  // -> 6x64, 1 / 2 threads: 2048³ 158 -> 163 / 315 -> 327, 1024³ 166 -> 169 / 318 -> 327,
  // (256,4096,1024) 155 -> 159 / 303 -> 304. Rows 2 KB apart (ldc a multiple of 512) put 7 of the 14 in
  // one set: best of 20-30 alternating rounds, 1 / 2 threads: 512³ 169 -> 174 and 169 -> 168 / 317 ->
  // 341 and 324 -> 338, 512³ tB 172 -> 168 / 315 -> 326, (512,2048,512) 159 -> 167 / 304 -> 330,
  // (1024,512,512) 174 -> 173 / 328 -> 333, (768,768,1536) 2 threads 326 -> 331. Other strides gain
  // nothing: 1536³ 160 -> 159 / 326 -> 323, 1000³ 160 -> 162 / 317 -> 312.
  if (args.ldc > 0 && args.ldc % 512 == 0 && args.m >= 256 && alternative.mr < preferred.mr) return alternative;
  const int64_t pad_preferred = gemm_computed_rows(args.m, preferred.mr) - args.m;
  const int64_t pad_alternative = gemm_computed_rows(args.m, alternative.mr) - args.m;
  return (pad_preferred - pad_alternative) * 50 > args.m ? alternative : preferred;
}

int64_t gemm_computed_rows(int64_t m, int mr) {
  const int64_t last = m % mr;
  return m - last + (last == 0 ? 0 : std::min<int64_t>(mr, round_up(last, 2)));
}

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
