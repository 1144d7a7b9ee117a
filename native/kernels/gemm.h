// Single-precision GEMM with a fused epilogue: the kernel behind matmul, dense layers and (through
// im2col / 1x1 convolutions) most of convolution. No N-API here: plain pointers, sizes and strides.
//
//   C[m,n] = act( op(A)·op(B) + bias + (accumulate ? C : 0) )
//
//   op(A) [m,k]: A is row-major [m,k] with row stride lda (lda >= k), or, when trans_a, [k,m] (lda >= m)
//   op(B) [k,n]: B is row-major [k,n] with row stride ldb (ldb >= n), or, when trans_b, [n,k] (ldb >= k)
//   C [m,n] row-major with row stride ldc (ldc >= n); bias [n] (one per column) or nullptr
//
// Strides let callers run on sub-matrices in place (e.g. one group's channels of an NHWC tensor).
// Transposes are handled while packing; no transposed copy is ever made.
//
// Guarantees:
//   - Only the m x n window of C (with stride ldc) is written; A, B and bias are only read inside their
//     windows. C must not overlap A, B or bias.
//   - The epilogue (bias, activation) is applied once, after the last K block; accumulate adds the C
//     held on entry (beta = 1). k == 0 is allowed: C = act(bias + (accumulate ? C : 0)).
//   - Deterministic and bit-identical for any thread count: every output is summed over k in the same
//     order (K blocks in order, each block in order) by whichever thread owns its tile. Results differ
//     between ISA levels (different tile shapes and FMA vs mul+add), within float rounding.
//   - Threaded over the shared pool (tf::parallel_for) by M and N blocks of the output. When called from
//     inside a pool task, runs on the calling thread.
//   - May throw std::bad_alloc (packing buffers); throws std::invalid_argument for sizes/strides that
//     break the rules above (callers validate first; this is a second line of defence).
#pragma once

#include <cstdint>
#include <memory>

#include "ukernels/gemm_ukernels.h"

namespace tf {

struct GemmArgs {
  int64_t m = 0, n = 0, k = 0;
  const float* a = nullptr;
  int64_t lda = 0;
  bool trans_a = false;
  const float* b = nullptr;
  int64_t ldb = 0;
  bool trans_b = false;
  float* c = nullptr;
  int64_t ldc = 0;
  // Epilogue.
  const float* bias = nullptr;  // [n] or nullptr
  bool accumulate = false;      // C += ... (beta = 1) instead of C = ...
  GemmActivation activation = GemmActivation::none;
  float alpha = 0.0f;  // leaky_relu negative slope (>= 0) / elu alpha (> 0); ignored otherwise
};

// Fills lda/ldb/ldc with the dense strides for the given shapes and transposes.
GemmArgs gemm_dense_args(int64_t m, int64_t n, int64_t k, const float* a, bool trans_a, const float* b,
                         bool trans_b, float* c);

// Runs the GEMM with the micro-kernel of the active ISA (runtime/dispatch.h).
void gemm(const GemmArgs& args);

// The packed path's micro-kernel for one problem: `alternative` when A is not transposed, B is not
// read in place by `preferred` (gemm_reads_b_in_place) and the rows `preferred` computes
// (gemm_computed_rows) pad M by more than 2% of M beyond those of `alternative`; otherwise
// `preferred`. Measured in ukernels/ukernels.inc.
// Since the AVX-512 tiles run a partial last row tile with only its rows (rounded up to even), their
// padding is at most one row and the default wins every shape (it measured ahead once M=64 no
// longer padded 70 rows: (M,K,N) (64,256,784) tB 137 vs 128, (64,256,128) tB 141 vs 134 GFLOP/s, 1 thread).
// Also `alternative` (the shorter tile) where C's rows are a multiple of 2 KB apart and m >= 256, and
// for the swapped transposed-B product (gemm.cc has the measurements) unless it runs on `threads` > 1
// with n <= 256: the only case where the thread count matters, and only between tiles that cut K alike,
// so the result's bits never depend on it.
const GemmUkernel& gemm_choose_ukernel(const GemmArgs& args, const GemmUkernel& preferred,
                                       const GemmUkernel& alternative, int threads = 1);
// The micro-kernel gemm_pack_b packs for (the weights of inference: M unknown, A read in place):
// `alternative` when it reads A in place, cuts K into the same blocks as `preferred` (so gemm_packed
// rounds every output as gemm() does) and pads N by at most n/32 more columns; else `preferred`.
// AVX-512, 1 thread, prepacked B, A streaming from memory, 14x32 vs 6x64 (M,K,N): (256,784,256)
// 606-634 vs 591-599 us, (256,256,128) 108 vs 100, (256,400,120) 160 vs 150, (16,784,256) 45 vs 37;
// with N = 10 the 64-wide panel loses (10 vs 23 us) and the padding rule keeps 14x32.
const GemmUkernel& gemm_choose_packed_ukernel(int64_t k, int64_t n, const GemmUkernel& preferred,
                                              const GemmUkernel& alternative);
// Rows of FMAs a kernel with mr-row tiles runs for m rows: whole tiles, then the last partial tile's
// rows rounded up to even (what avx512::gemm_tile_rows does; the only level with an alternative).
int64_t gemm_computed_rows(int64_t m, int mr);

// Row-major B (not transposed) with rows of at most this many floats is read in place by kernels with a
// strided_b entry (no B packing). Wider rows are packed. Measured with 14x32, 1 thread, in place vs
// packed: 1 KB rows won or tied ((64,784,256) 165-186 vs 149-168, (784,64,256) tA += 174 vs 163,
// 256^3 178 vs 176); 2 KB rows lost (512^3 163 vs 180) and 4 KB rows badly (1024^3 117 vs 181: every B
// row of a K block on its own page and in the same L1 sets).
constexpr int64_t kGemmInPlaceMaxLdb = 256;
// ... or of at most this many when K fits in one K block (k <= kc): then a B row is read once per row
// tile and the strided rows of one block do not evict each other before their reuse. GFLOP/s, 1
// thread, packed vs in place (M,K,N): (64,256,784) 137 vs 163-167, (64,256,1024) 141 vs 165, (64,256,
// 512) 151 vs 176; with several K blocks in place lost or tied: (64,1000,1024) 128 vs 114, (64,1000,
// 768) 131 vs 131.
constexpr int64_t kGemmInPlaceMaxLdbOneBlock = 1024;
// ... and only while op(A) holds at most this many floats: a bigger A reuses each packed B panel over
// more row tiles (the copy pays for itself) and a longer K block keeps more strided B rows in flight,
// which alias in a few L1 sets (1 KB apart). GFLOP/s, 1 thread, N = 256, (M,K), packed vs in place:
// (25088,128) 181 vs 162, (128,25088) tA 160 vs 137, (64,4096) 142-157 vs 132-143, (256,1536) 186 vs
// 167. In place vs packed where it is kept: (64,784) 174-186 vs 172-174, (64,1024) 163-173 vs 154,
// N = 128 (64,256) 170 vs 167; other shapes with M*K <= 64K within 2 %.
constexpr int64_t kGemmInPlaceMaxMK = 64 * 1024;
bool gemm_reads_b_in_place(const GemmArgs& args, const GemmUkernel& ukernel);

// Same with an explicit micro-kernel, always through the packed path (tests and benchmarks run every
// registered variant).
void gemm_with_ukernel(const GemmArgs& args, const GemmUkernel& ukernel);
// Whether gemm_with_ukernel(args, ukernel) at `threads` threads splits K across the threads instead of
// the output tiles (gemm.cc, "K split"): a speed choice only, every output rounds as with one thread.
bool gemm_splits_k(const GemmArgs& args, const GemmUkernel& ukernel, int threads);
// Whether gemm_with_ukernel(args, ukernel) runs a transposed-B product as Cᵀ = B·Aᵀ, reading B in place
// (gemm.cc, "transposed B with few rows"): a speed choice only, every output rounds as when B is packed.
bool gemm_swaps_trans_b(const GemmArgs& args, const GemmUkernel& ukernel);
// Where the first thread's columns end when gemm_with_ukernel(args, ukernel) runs its grid of output
// rectangles at `threads` threads (n when the grid does not split columns). Threads split columns in
// 16-column vectors, so a boundary may fall inside a kernel's panel (gemm.cc, grid_partition). For
// tests; the K split and the swapped transposed-B product choose their work otherwise.
int64_t gemm_grid_first_column_end(const GemmArgs& args, const GemmUkernel& ukernel, int threads);
// The small-M direct path with an explicit kernel: m <= 8 and !trans_b, else std::invalid_argument.
void gemm_small_m_with_ukernel(const GemmArgs& args, const GemmSmallMUkernel& ukernel);

// Cache blocking used for a micro-kernel: K block, rows of A packed per block (L1/L2 side), columns of
// B packed per block (the L2-resident panel). Multiples of mr / nr. Chosen from the cache sizes.
// A given k is then cut into equal K blocks of at most kc (rounded up to 8), so the blocks (and the
// rounding of every output) depend only on k and the kernel.
struct GemmBlocking {
  int64_t kc, mc, nc;
};
GemmBlocking gemm_blocking(const GemmUkernel& ukernel);

// B [k,n] (or [n,k] when trans_b) packed once into micro-panels for one micro-kernel, to be reused by
// gemm_packed across calls (inference: the weights never change). Layout: K blocks of kc rows in
// order; inside one, the nr-wide panels of all n columns, each [kc_block x nr], zero-padded.
// Owns its storage (copies share it); immutable after packing, so concurrent calls may share it.
struct GemmPackedB {
  int64_t k = 0, n = 0;
  GemmUkernel ukernel;    // the kernel (and so the ISA) it was packed for; gemm_packed runs it
  GemmBlocking blocking{};
  int64_t n_panels = 0;   // ceil(n / nr)
  std::shared_ptr<float> storage;

  int64_t offset(int64_t pc, int64_t kc, int64_t q) const { return pc * n_panels * ukernel.nr + q * kc * ukernel.nr; }
  const float* panel(int64_t pc, int64_t kc, int64_t q) const { return storage.get() + offset(pc, kc, q); }
  int64_t size() const { return k * n_panels * ukernel.nr; }  // floats held
};

// Packs op(B) [k,n] with the active ISA's micro-kernel (or an explicit one). k, n >= 1; throws
// std::invalid_argument on a bad size or stride and std::bad_alloc when out of memory.
// gemm_pack_b packs for gemm_choose_packed_ukernel(k, n, level's default, level's alternative).
GemmPackedB gemm_pack_b(int64_t k, int64_t n, const float* b, int64_t ldb, bool trans_b);
GemmPackedB gemm_pack_b_with_ukernel(int64_t k, int64_t n, const float* b, int64_t ldb, bool trans_b,
                                     const GemmUkernel& ukernel);

// gemm with B taken from `b` (args.b, ldb and trans_b are ignored; args.k and args.n must equal b.k and
// b.n). Runs b.ukernel whatever ISA is active now, so the result is bit-identical to gemm_with_ukernel
// with that kernel on the unpacked B (the small-M direct path is not used here).
void gemm_packed(const GemmArgs& args, const GemmPackedB& b);

// "none" | "relu" | "leakyRelu" | "elu" | "sigmoid" | "tanh" (the JS names). False if unknown.
bool parse_gemm_activation(const char* name, GemmActivation* out);
// The alpha rule per activation: leakyRelu >= 0, elu > 0 (both finite); others ignore alpha.
bool gemm_alpha_valid(GemmActivation act, double alpha);

}  // namespace tf
