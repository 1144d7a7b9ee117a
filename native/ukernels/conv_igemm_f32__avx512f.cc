// AVX-512 indirect-GEMM convolution micro-kernels (contract: conv_ukernels.h), one template, three
// tiles (see conv_ukernels.inc for the measured choice).
#include <algorithm>

#include "ukernels/x86_intrinsics.h"

#include "ukernels/conv_ukernels.h"

namespace tf {
namespace {

inline __mmask16 column_mask(int nr_valid, int v) {
  const int left = nr_valid - v * 16;
  if (left >= 16) return 0xFFFF;
  if (left <= 0) return 0;
  return static_cast<__mmask16>((1u << left) - 1u);
}

// c = acc + bias, relu, through the column masks; rows i < mr_valid only.
template <int MR, int NV>
inline void store_tile(const __m512 (&acc)[MR][NV], float* c, int64_t ldc, int mr_valid, int nr_valid,
                       const float* bias, bool relu) {
  __mmask16 mask[NV];
  __m512 bv[NV];
  for (int v = 0; v < NV; ++v) {
    mask[v] = column_mask(nr_valid, v);
    bv[v] = bias != nullptr ? _mm512_maskz_loadu_ps(mask[v], bias + v * 16) : _mm512_setzero_ps();
  }
  const __m512 zero = _mm512_setzero_ps();
  for (int i = 0; i < MR && i < mr_valid; ++i) {
    float* ci = c + i * ldc;
    for (int v = 0; v < NV; ++v) {
      __m512 t = _mm512_add_ps(acc[i][v], bv[v]);
      // max(0, t) returns its second operand when either is NaN, so NaN is kept (and -0 stays -0).
      if (relu) t = _mm512_max_ps(zero, t);
      _mm512_mask_storeu_ps(ci + v * 16, mask[v], t);
    }
  }
}

// MR pixels x NV zmm of output channels; the MR row pointers of a tap live in registers for its kc loop,
// unrolled Unroll times (one loop branch per Unroll input channels).
template <int MR, int NV, int Unroll = 1>
inline void igemm_tile(int64_t ks, int64_t kc, const float* const* a, const float* w, float* c, int64_t ldc,
                       int mr_valid, int nr_valid, const float* bias, bool relu) {
  constexpr int NR = NV * 16;
  __m512 acc[MR][NV];
  for (int i = 0; i < MR; ++i)
    for (int v = 0; v < NV; ++v) acc[i][v] = _mm512_setzero_ps();

  for (int64_t s = 0; s < ks; ++s, a += MR) {
    const float* rows[MR];
    for (int i = 0; i < MR; ++i) rows[i] = a[i];
    auto step = [&](int64_t p) {
      __m512 b[NV];
      for (int v = 0; v < NV; ++v) b[v] = _mm512_loadu_ps(w + v * 16);
      for (int i = 0; i < MR; ++i) {
        const __m512 ai = _mm512_set1_ps(rows[i][p]);
        for (int v = 0; v < NV; ++v) acc[i][v] = _mm512_fmadd_ps(ai, b[v], acc[i][v]);
      }
      w += NR;
    };
    int64_t p = 0;
    if constexpr (Unroll > 1) {
      for (; p + Unroll <= kc; p += Unroll) {
        for (int u = 0; u < Unroll; ++u) step(p + u);
      }
    }
    for (; p < kc; ++p) step(p);
  }

  store_tile<MR, NV>(acc, c, ldc, mr_valid, nr_valid, bias, relu);
}

#if defined(__GNUC__)
// The 6x64 tile's K loop in inline assembly (GCC / Clang): accumulators fixed in zmm0..23 (row i,
// vector v in zmm 4i+v), B in zmm24..27, broadcasts rotating through zmm28..31, the six row pointers of
// a tap and one byte index in general registers. GCC's own schedule of the same loop (igemm_tile<6, 4,
// 2>) renames accumulators between the two unrolled steps and pays vector moves for it (4 per 48 FMAs).
// Each iteration also prefetches one line of the next tile's inputs at this tap, which in a stride-1
// output row start 6 pixels (6 kc floats) after row 0's: those 6 kc floats take 3 kc / 8 lines, the kc / 2
// iterations touch 4/3 of that (a prefetch never faults, wherever it points). Measured
// (conv_bench --tiles, 1 thread, alternating): ResNet 3x3 N = 32 forward 168 -> 172 GFLOP/s, strided
// 151 -> 158, 1x1 128 -> 135; one image in cache unchanged; the assembly alone (no prefetch) 1-3 % over
// the intrinsics. Same products in the same order as igemm_tile<6, 4>: identical results.
#define TF_IGEMM_B(woff)                                                                                   \
  "vmovups " woff "+0(%[w]), %%zmm24\n\t"                                                                 \
  "vmovups " woff "+64(%[w]), %%zmm25\n\t"                                                                \
  "vmovups " woff "+128(%[w]), %%zmm26\n\t"                                                               \
  "vmovups " woff "+192(%[w]), %%zmm27\n\t"
#define TF_IGEMM_ROW(aoff, r, bz, c0, c1, c2, c3)                                                          \
  "vbroadcastss " aoff "(%[" r "],%[idx]), %%zmm" bz "\n\t"                                              \
  "vfmadd231ps %%zmm24, %%zmm" bz ", %%zmm" c0 "\n\t"                                                     \
  "vfmadd231ps %%zmm25, %%zmm" bz ", %%zmm" c1 "\n\t"                                                     \
  "vfmadd231ps %%zmm26, %%zmm" bz ", %%zmm" c2 "\n\t"                                                     \
  "vfmadd231ps %%zmm27, %%zmm" bz ", %%zmm" c3 "\n\t"
#define TF_IGEMM_STEP(woff, aoff)                                                                          \
  TF_IGEMM_B(woff)                                                                                         \
  TF_IGEMM_ROW(aoff, "r0", "28", "0", "1", "2", "3")                                                       \
  TF_IGEMM_ROW(aoff, "r1", "29", "4", "5", "6", "7")                                                       \
  TF_IGEMM_ROW(aoff, "r2", "30", "8", "9", "10", "11")                                                     \
  TF_IGEMM_ROW(aoff, "r3", "31", "12", "13", "14", "15")                                                   \
  TF_IGEMM_ROW(aoff, "r4", "28", "16", "17", "18", "19")                                                   \
  TF_IGEMM_ROW(aoff, "r5", "29", "20", "21", "22", "23")

inline void igemm_6x64_asm(int64_t ks, int64_t kc, const float* const* a, const float* w, float* c, int64_t ldc,
                           int mr_valid, int nr_valid, const float* bias, bool relu) {
  alignas(64) __m512 acc[6][4];
  const float *r0, *r1, *r2, *r3, *r4, *r5;
  int64_t idx, cnt, pf;
  // Passed in memory and loaded after the loop into r0: the loop holds 12 general registers already.
  float* const acc_ptr = reinterpret_cast<float*>(&acc[0][0]);
  __asm__ volatile(
      "vpxord %%zmm0, %%zmm0, %%zmm0\n\t"
      "vmovaps %%zmm0, %%zmm1\n\t" "vmovaps %%zmm0, %%zmm2\n\t" "vmovaps %%zmm0, %%zmm3\n\t"
      "vmovaps %%zmm0, %%zmm4\n\t" "vmovaps %%zmm0, %%zmm5\n\t" "vmovaps %%zmm0, %%zmm6\n\t"
      "vmovaps %%zmm0, %%zmm7\n\t" "vmovaps %%zmm0, %%zmm8\n\t" "vmovaps %%zmm0, %%zmm9\n\t"
      "vmovaps %%zmm0, %%zmm10\n\t" "vmovaps %%zmm0, %%zmm11\n\t" "vmovaps %%zmm0, %%zmm12\n\t"
      "vmovaps %%zmm0, %%zmm13\n\t" "vmovaps %%zmm0, %%zmm14\n\t" "vmovaps %%zmm0, %%zmm15\n\t"
      "vmovaps %%zmm0, %%zmm16\n\t" "vmovaps %%zmm0, %%zmm17\n\t" "vmovaps %%zmm0, %%zmm18\n\t"
      "vmovaps %%zmm0, %%zmm19\n\t" "vmovaps %%zmm0, %%zmm20\n\t" "vmovaps %%zmm0, %%zmm21\n\t"
      "vmovaps %%zmm0, %%zmm22\n\t" "vmovaps %%zmm0, %%zmm23\n\t"
      "test %[ks], %[ks]\n\t"
      "jle 9f\n\t"
      "1:\n\t"  // per tap: its six row pointers, idx = byte offset of input channel p
      "mov 0(%[a]), %[r0]\n\t"
      "mov 8(%[a]), %[r1]\n\t"
      "mov 16(%[a]), %[r2]\n\t"
      "mov 24(%[a]), %[r3]\n\t"
      "mov 32(%[a]), %[r4]\n\t"
      "mov 40(%[a]), %[r5]\n\t"
      "add $48, %[a]\n\t"
      "xor %k[idx], %k[idx]\n\t"
      "mov %[kc], %[cnt]\n\t"
      "lea (%[r0],%[cnt],8), %[pf]\n\t"  // pf = r0 + 6 kc floats: the next tile's inputs at this tap
      "lea (%[pf],%[cnt],8), %[pf]\n\t"
      "lea (%[pf],%[cnt],8), %[pf]\n\t"
      "sub $2, %[cnt]\n\t"
      "jl 3f\n\t"
      "2:\n\t"  // two input channels per iteration (by 4: no faster)
      "prefetcht0 (%[pf],%[idx],8)\n\t"  // one line per iteration: 64 bytes per 2 x 4 input bytes
      TF_IGEMM_STEP("0", "0")
      TF_IGEMM_STEP("256", "4")
      "add $512, %[w]\n\t"
      "add $8, %[idx]\n\t"
      "sub $2, %[cnt]\n\t"
      "jge 2b\n\t"
      "3:\n\t"  // cnt = -1: one input channel left; -2: none
      "cmp $-1, %[cnt]\n\t"
      "jne 4f\n\t"
      TF_IGEMM_STEP("0", "0")
      "add $256, %[w]\n\t"
      "4:\n\t"
      "dec %[ks]\n\t"
      "jnz 1b\n\t"
      "9:\n\t"  // r0 is free now: it takes the address of acc
      "mov %[acc_ptr], %[r0]\n\t"
      "vmovaps %%zmm0, 0(%[r0])\n\t" "vmovaps %%zmm1, 64(%[r0])\n\t" "vmovaps %%zmm2, 128(%[r0])\n\t"
      "vmovaps %%zmm3, 192(%[r0])\n\t" "vmovaps %%zmm4, 256(%[r0])\n\t" "vmovaps %%zmm5, 320(%[r0])\n\t"
      "vmovaps %%zmm6, 384(%[r0])\n\t" "vmovaps %%zmm7, 448(%[r0])\n\t" "vmovaps %%zmm8, 512(%[r0])\n\t"
      "vmovaps %%zmm9, 576(%[r0])\n\t" "vmovaps %%zmm10, 640(%[r0])\n\t" "vmovaps %%zmm11, 704(%[r0])\n\t"
      "vmovaps %%zmm12, 768(%[r0])\n\t" "vmovaps %%zmm13, 832(%[r0])\n\t" "vmovaps %%zmm14, 896(%[r0])\n\t"
      "vmovaps %%zmm15, 960(%[r0])\n\t" "vmovaps %%zmm16, 1024(%[r0])\n\t" "vmovaps %%zmm17, 1088(%[r0])\n\t"
      "vmovaps %%zmm18, 1152(%[r0])\n\t" "vmovaps %%zmm19, 1216(%[r0])\n\t" "vmovaps %%zmm20, 1280(%[r0])\n\t"
      "vmovaps %%zmm21, 1344(%[r0])\n\t" "vmovaps %%zmm22, 1408(%[r0])\n\t" "vmovaps %%zmm23, 1472(%[r0])\n\t"
      : [a] "+r"(a), [ks] "+r"(ks), [w] "+r"(w), [r0] "=&r"(r0), [r1] "=&r"(r1), [r2] "=&r"(r2), [r3] "=&r"(r3),
        [r4] "=&r"(r4), [r5] "=&r"(r5), [idx] "=&r"(idx), [cnt] "=&r"(cnt), [pf] "=&r"(pf)
      : [kc] "rm"(kc), [acc_ptr] "m"(acc_ptr)
      : "cc", "memory", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10",
        "xmm11", "xmm12", "xmm13", "xmm14", "xmm15", "xmm16", "xmm17", "xmm18", "xmm19", "xmm20", "xmm21", "xmm22",
        "xmm23", "xmm24", "xmm25", "xmm26", "xmm27", "xmm28", "xmm29", "xmm30", "xmm31");
  store_tile<6, 4>(acc, c, ldc, mr_valid, nr_valid, bias, relu);
}
#undef TF_IGEMM_STEP
#undef TF_IGEMM_ROW
#undef TF_IGEMM_B
#endif

}  // namespace

void conv_igemm_f32_8x32__avx512f(int64_t ks, int64_t kc, const float* const* a, const float* w, float* c,
                                  int64_t ldc, int mr_valid, int nr_valid, const float* bias, bool relu) {
  igemm_tile<8, 2>(ks, kc, a, w, c, ldc, mr_valid, nr_valid, bias, relu);
}

void conv_igemm_f32_16x16__avx512f(int64_t ks, int64_t kc, const float* const* a, const float* w, float* c,
                                   int64_t ldc, int mr_valid, int nr_valid, const float* bias, bool relu) {
  igemm_tile<16, 1>(ks, kc, a, w, c, ldc, mr_valid, nr_valid, bias, relu);
}

void conv_igemm_f32_6x64__avx512f(int64_t ks, int64_t kc, const float* const* a, const float* w, float* c,
                                  int64_t ldc, int mr_valid, int nr_valid, const float* bias, bool relu) {
#if defined(__GNUC__)
  igemm_6x64_asm(ks, kc, a, w, c, ldc, mr_valid, nr_valid, bias, relu);
#else
  igemm_tile<6, 4, 2>(ks, kc, a, w, c, ldc, mr_valid, nr_valid, bias, relu);
#endif
}

namespace {

// r[i] = row i (16 floats) -> r[j] = column j of the 16 x 16 block: 64 shuffles, all in registers.
inline void transpose16(__m512 (&r)[16]) {
  __m512 t[16], u[16];
  for (int k = 0; k < 8; ++k) {
    t[2 * k] = _mm512_unpacklo_ps(r[2 * k], r[2 * k + 1]);
    t[2 * k + 1] = _mm512_unpackhi_ps(r[2 * k], r[2 * k + 1]);
  }
  // u[4m + c], 128-bit lane L: rows 4m..4m+3 of column 4L + c.
  for (int m = 0; m < 4; ++m) {
    u[4 * m + 0] = _mm512_shuffle_ps(t[4 * m], t[4 * m + 2], 0x44);
    u[4 * m + 1] = _mm512_shuffle_ps(t[4 * m], t[4 * m + 2], 0xEE);
    u[4 * m + 2] = _mm512_shuffle_ps(t[4 * m + 1], t[4 * m + 3], 0x44);
    u[4 * m + 3] = _mm512_shuffle_ps(t[4 * m + 1], t[4 * m + 3], 0xEE);
  }
  for (int c = 0; c < 4; ++c) {
    const __m512 even_lo = _mm512_shuffle_f32x4(u[c], u[4 + c], 0x88);
    const __m512 even_hi = _mm512_shuffle_f32x4(u[8 + c], u[12 + c], 0x88);
    const __m512 odd_lo = _mm512_shuffle_f32x4(u[c], u[4 + c], 0xDD);
    const __m512 odd_hi = _mm512_shuffle_f32x4(u[8 + c], u[12 + c], 0xDD);
    r[c] = _mm512_shuffle_f32x4(even_lo, even_hi, 0x88);
    r[8 + c] = _mm512_shuffle_f32x4(even_lo, even_hi, 0xDD);
    r[4 + c] = _mm512_shuffle_f32x4(odd_lo, odd_hi, 0x88);
    r[12 + c] = _mm512_shuffle_f32x4(odd_lo, odd_hi, 0xDD);
  }
}

}  // namespace

// Blocks of 16 pixels x 16 channels transposed in registers (loads and stores of whole rows; a partial
// block of pixels loads zero rows and stores through a lane mask); the channels past the last multiple
// of 16 are gathered, 16 pixels of one channel per instruction. Nothing past count or c is read or
// written. Index overflow (src_stride * 15 >= 2^31) takes the plain loop for those channels.
void conv_planes_f32__avx512f(int64_t count, int64_t c, const float* src, int64_t src_stride, float* dst,
                              int64_t dst_stride) {
  const int64_t c16 = c / 16 * 16;
  const bool gather = src_stride <= (int64_t{1} << 27);
  const __m512i idx = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                         _mm512_set1_epi32(static_cast<int>(gather ? src_stride : 0)));
  for (int64_t p0 = 0; p0 < count; p0 += 16) {
    const int64_t np = std::min<int64_t>(16, count - p0);
    const __mmask16 mask = static_cast<__mmask16>(np >= 16 ? 0xFFFFu : (1u << np) - 1u);
    const float* sp = src + p0 * src_stride;
    float* dp = dst + p0;
    for (int64_t c0 = 0; c0 < c16; c0 += 16) {
      __m512 r[16];
      for (int i = 0; i < 16; ++i) r[i] = i < np ? _mm512_loadu_ps(sp + i * src_stride + c0) : _mm512_setzero_ps();
      transpose16(r);
      for (int j = 0; j < 16; ++j) _mm512_mask_storeu_ps(dp + (c0 + j) * dst_stride, mask, r[j]);
    }
    for (int64_t ci = c16; ci < c; ++ci) {
      if (!gather) {
        for (int64_t i = 0; i < np; ++i) dp[ci * dst_stride + i] = sp[i * src_stride + ci];
        continue;
      }
      const __m512 v = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), mask, idx, sp + ci, 4);
      _mm512_mask_storeu_ps(dp + ci * dst_stride, mask, v);
    }
  }
}

}  // namespace tf
