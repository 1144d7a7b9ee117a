// The GEMM micro-kernel contract: what every register-blocked kernel in native/ukernels/ computes,
// on which packed layouts, and how it finishes a tile (the fused epilogue). Portable header: no
// intrinsics here (they live only in the files named for their ISA).
//
// Packed layouts (made by each kernel's pack_a / pack_b, see gemm_pack.h; zero-padded to full tiles, 64-byte aligned):
//   a: one micro-panel of A, kc x MR, element (i, p) at a[p*MR + i]   (MR rows of C, broadcast)
//   b: one micro-panel of B, kc x NR, element (p, j) at b[p*NR + j]   (NR columns of C, vector loads)
// Padding rows/columns are zeros, so a kernel always runs the full MR x NR tile and only its loads and
// stores of C (and of bias) are limited to the valid mr x nr corner.
#pragma once

#include <cmath>
#include <cstdint>

namespace tf {

// Activations that can be fused into the GEMM epilogue (the convolution family reuses them).
enum class GemmActivation : int { none = 0, relu, leaky_relu, elu, sigmoid, tanh };

// How a micro-kernel finishes its tile after the FMA loop over kc.
struct GemmTileEpilogue {
  // true: add the tile already in C (accumulate, or any K block after the first).
  bool load_c = false;
  // true only on the last K block: then add bias (when non-null) and apply the activation.
  bool finish = false;
  // bias of the tile's first column (nr readable floats) or nullptr; read only when finish.
  const float* bias = nullptr;
  GemmActivation activation = GemmActivation::none;
  // leaky_relu negative slope / elu alpha.
  float alpha = 0.0f;
};

// c [mr, nr] (row stride ldc), 1 <= mr <= MR, 1 <= nr <= NR:
//   t[i][j] = sum_{p < kc} a[p*MR + i] * b[p*NR + j]      (in order p = 0, 1, ..., kc-1; kc may be 0)
//   if (ep.load_c) t += c
//   if (ep.finish) t = act(t + bias[j])
//   c[i*ldc + j] = t
// Nothing outside the mr x nr corner of c, or past bias[nr-1], is read or written.
using GemmUkernelFn = void (*)(int64_t kc, const float* a, const float* b, float* c, int64_t ldc, int mr, int nr,
                               const GemmTileEpilogue& ep);

// The same tile with B read in place: element (p, j) at b[p*ldb + j], all NR columns readable (the
// driver calls it on whole NR-column panels of a row-major B, which then needs no packing).
using GemmUkernelStridedBFn = void (*)(int64_t kc, const float* a, const float* b, int64_t ldb, float* c, int64_t ldc,
                                       int mr, int nr, const GemmTileEpilogue& ep);

// The same tile with A read in place: element (i, p) at a[i*lda + p] (rows of a row-major A), B packed.
// Rows past mr, up to mr rounded up to even, may be read: the driver calls it only where they exist.
// Bit-identical to the packed entry on the same values.
using GemmUkernelStridedAFn = void (*)(int64_t kc, const float* a, int64_t lda, const float* b, float* c, int64_t ldc,
                                       int mr, int nr, const GemmTileEpilogue& ep);

// The same tile with both operands read in place: A's element (i, p) at a[i*lda + p] as strided_a, B's
// (p, j) at b[p*ldb + j] as strided_b (all NR columns readable). Bit-identical to the packed entry.
using GemmUkernelStridedABFn = void (*)(int64_t kc, const float* a, int64_t lda, const float* b, int64_t ldb, float* c,
                                        int64_t ldc, int mr, int nr, const GemmTileEpilogue& ep);

// dst[j*ldd + i] = src[i*lds + j] for i < rows, j < cols: the driver's transposed-B path (gemm.cc)
// writes C from the Cᵀ it computed. Nothing outside those rows and columns is read or written.
using GemmTransposeFn = void (*)(const float* src, int64_t lds, int64_t rows, int64_t cols, float* dst, int64_t ldd);

// The kernel's packers (layouts and contract: ukernels/gemm_pack.h), compiled for the kernel's ISA
// in its own file: pack_a fills ceil(rows/MR) A micro-panels, pack_b ceil(cols/NR) B micro-panels.
using GemmPackAFn = void (*)(const float* a, int64_t lda, bool trans, int64_t rows, int64_t kc, float* dst);
using GemmPackBFn = void (*)(const float* b, int64_t ldb, bool trans, int64_t cols, int64_t kc, float* dst);

struct GemmUkernel {
  GemmUkernelFn fn = nullptr;
  int mr = 0;
  int nr = 0;
  const char* name = "";
  // nullptr: the driver packs with the portable loops (gemm_pack.h).
  GemmPackAFn pack_a = nullptr;
  GemmPackBFn pack_b = nullptr;
  GemmUkernelStridedBFn strided_b = nullptr;  // nullptr: B is always packed
  // nullptr: A is always packed. Registered (TF_GEMM_STRIDED_A) where reading A in place runs as fast
  // as the packed panel when A is in cache, so the driver may skip packing A (gemm.cc).
  GemmUkernelStridedAFn strided_a = nullptr;
  // Registered with strided_a (a kernel that reads A in place can run Cᵀ = B·Aᵀ for gemm.cc's
  // transposed-B path); nullptr: the portable loop (gemm_pack.h).
  GemmTransposeFn transpose = nullptr;
  // Registered with strided_a: both operands in place, for narrow products whose B is read in place.
  GemmUkernelStridedABFn strided_ab = nullptr;
  // A stored transposed ([k, m]: a weight gradient's xᵀ) read in place, B packed / B in place: the
  // strided_a / strided_ab contracts with element (i, p) at a[p*lda + i] (TF_GEMM_STRIDED_AT). nullptr:
  // the driver packs such an A.
  GemmUkernelStridedAFn strided_at = nullptr;
  GemmUkernelStridedABFn strided_atb = nullptr;
};

// Small-M direct kernel (batch-1 inference, GEMV-like): no packing at all, A and B read in place.
//   c [m, n] (row stride ldc), 1 <= m <= max_m, n >= 1, k >= 0, B row-major [k, n] (row stride ldb):
//   t[i][j] = sum_{p < k} a[i*a_rs + p*a_cs] * b[p*ldb + j]     (in order p = 0, 1, ..., k-1)
//   then the epilogue as for GemmUkernelFn with ep.bias = bias of column 0 (n readable floats).
// (a_rs, a_cs) = (lda, 1) reads A [m,k]; (1, lda) reads A stored [k,m] (transposed) in place.
// The whole K is summed in registers (no K blocks), so ep.load_c only reflects accumulate.
using GemmSmallMFn = void (*)(int64_t m, int64_t n, int64_t k, const float* a, int64_t a_rs, int64_t a_cs,
                              const float* b, int64_t ldb, float* c, int64_t ldc, const GemmTileEpilogue& ep);

struct GemmSmallMUkernel {
  GemmSmallMFn fn = nullptr;
  int max_m = 0;        // rows per call
  int use_up_to_m = 0;  // gemm() takes this path for m <= use_up_to_m (measured, see ukernels.inc)
  const char* name = "";
};

// The scalar form of the epilogue activation (the oracle the SIMD versions follow).
inline float gemm_activate(GemmActivation act, float alpha, float x) {
  switch (act) {
    case GemmActivation::none: return x;
    case GemmActivation::relu: return x < 0.0f ? 0.0f : x;  // keeps NaN (PyTorch, reference backend)
    case GemmActivation::leaky_relu: return x > 0.0f ? x : alpha * x;
    case GemmActivation::elu: return x > 0.0f ? x : alpha * std::expm1(x);
    case GemmActivation::sigmoid: return 1.0f / (1.0f + std::exp(-x));
    case GemmActivation::tanh: return std::tanh(x);
  }
  return x;
}

// Declarations of every kernel in the list.
#define TF_GEMM_UKERNEL(isa, name, mr, nr, role)                                                      \
  void name(int64_t kc, const float* a, const float* b, float* c, int64_t ldc, int mr_valid, int nr_valid, \
            const GemmTileEpilogue& ep);                                                                      \
  void name##_pack_a(const float* a, int64_t lda, bool trans, int64_t rows, int64_t kc, float* dst);       \
  void name##_pack_b(const float* b, int64_t ldb, bool trans, int64_t cols, int64_t kc, float* dst);       \
  void name##_strided_b(int64_t kc, const float* a, const float* b, int64_t ldb, float* c, int64_t ldc, int mr_valid, \
                        int nr_valid, const GemmTileEpilogue& ep);
#define TF_GEMM_STRIDED_A(name)                                                                        \
  void name##_strided_a(int64_t kc, const float* a, int64_t lda, const float* b, float* c, int64_t ldc, int mr_valid, \
                        int nr_valid, const GemmTileEpilogue& ep);                                               \
  void name##_transpose(const float* src, int64_t lds, int64_t rows, int64_t cols, float* dst, int64_t ldd); \
  void name##_strided_ab(int64_t kc, const float* a, int64_t lda, const float* b, int64_t ldb, float* c,     \
                         int64_t ldc, int mr_valid, int nr_valid, const GemmTileEpilogue& ep);
#define TF_GEMM_STRIDED_AT(name)                                                                       \
  void name##_strided_at(int64_t kc, const float* a, int64_t lda, const float* b, float* c, int64_t ldc, int mr_valid, \
                         int nr_valid, const GemmTileEpilogue& ep);                                              \
  void name##_strided_atb(int64_t kc, const float* a, int64_t lda, const float* b, int64_t ldb, float* c,    \
                          int64_t ldc, int mr_valid, int nr_valid, const GemmTileEpilogue& ep);
#define TF_GEMM_SMALLM_UKERNEL(isa, name, max_m, use_up_to_m)                                                     \
  void name(int64_t m, int64_t n, int64_t k, const float* a, int64_t a_rs, int64_t a_cs, const float* b, \
            int64_t ldb, float* c, int64_t ldc, const GemmTileEpilogue& ep);
#include "ukernels/ukernels.inc"
#undef TF_GEMM_UKERNEL
#undef TF_GEMM_STRIDED_A
#undef TF_GEMM_STRIDED_AT
#undef TF_GEMM_SMALLM_UKERNEL

}  // namespace tf
