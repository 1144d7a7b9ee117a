// The output-gradient-channel-vectorized convolution kernels (contract: conv_ocvec_ukernels.h), written
// once over a 16-lane GCC/Clang vector type. Each ISA file (conv_ocvec_f32__<isa>.cc) includes this header
// inside an anonymous namespace, so every instantiation stays in its translation unit and is compiled with
// that file's flags (1 zmm per vector with AVX-512, 2 ymm with AVX2, 4 xmm / NEON q registers otherwise).
//
// dx_row register tile: P pixels x C channels of 16-lane partial sums (P*C <= 24 vectors), so each
// (row, tap) step loads C filter vectors and P dy vectors for P*C multiply-adds. The lanes are then
// summed by a transposing pairwise tree (16 vectors -> one vector of 16 sums in 15 shuffle-add steps)
// whose order does not depend on P, so every dx element has the same bits for any pixel blocking.
#pragma once
// The includer provides <cstdint> and <cstring> (this file is included inside a namespace).
#pragma GCC diagnostic ignored "-Wpsabi"

#include "ukernels/vec16_portable.h"
using Vf = TfVec16f;

#if defined(__clang__) || (defined(__GNUC__) && __GNUC__ >= 12)
#define TF_OCVEC_SHUFFLE(a, b, ...) __builtin_shufflevector(a, b, __VA_ARGS__)
#else
#define TF_OCVEC_SHUFFLE(a, b, ...) __builtin_shuffle(a, b, TfVec16i{__VA_ARGS__})
#endif


// One level of the transposing tree: each S-lane half-block of a and b is added to its partner S lanes
// on, the results of a and b interleaved block by block (S = 8, 4, 2, 1).
inline Vf fold8(Vf a, Vf b) {
  return TF_OCVEC_SHUFFLE(a, b, 0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23) +
         TF_OCVEC_SHUFFLE(a, b, 8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31);
}
inline Vf fold4(Vf a, Vf b) {
  return TF_OCVEC_SHUFFLE(a, b, 0, 1, 2, 3, 16, 17, 18, 19, 8, 9, 10, 11, 24, 25, 26, 27) +
         TF_OCVEC_SHUFFLE(a, b, 4, 5, 6, 7, 20, 21, 22, 23, 12, 13, 14, 15, 28, 29, 30, 31);
}
inline Vf fold2(Vf a, Vf b) {
  return TF_OCVEC_SHUFFLE(a, b, 0, 1, 16, 17, 4, 5, 20, 21, 8, 9, 24, 25, 12, 13, 28, 29) +
         TF_OCVEC_SHUFFLE(a, b, 2, 3, 18, 19, 6, 7, 22, 23, 10, 11, 26, 27, 14, 15, 30, 31);
}
inline Vf fold1(Vf a, Vf b) {
  return TF_OCVEC_SHUFFLE(a, b, 0, 16, 2, 18, 4, 20, 6, 22, 8, 24, 10, 26, 12, 28, 14, 30) +
         TF_OCVEC_SHUFFLE(a, b, 1, 17, 3, 19, 5, 21, 7, 23, 9, 25, 11, 27, 13, 29, 15, 31);
}

// out[i] = Σ_lanes v[i] for i < n (n <= 16): the tree's input position q holds v[bitrev4(q)], so lane i
// of the result is the sum of v[i]. Missing vectors are zero (their lanes are discarded).
template <int N>
inline void reduce16(const Vf* v, float* out) {
  constexpr int rev[16] = {0, 8, 4, 12, 2, 10, 6, 14, 1, 9, 5, 13, 3, 11, 7, 15};
  Vf t[16];
  for (int q = 0; q < 16; ++q) t[q] = rev[q] < N ? v[rev[q]] : Vf{};
  Vf u[8], e[4], f[2];
  for (int q = 0; q < 8; ++q) u[q] = fold8(t[2 * q], t[2 * q + 1]);
  for (int q = 0; q < 4; ++q) e[q] = fold4(u[2 * q], u[2 * q + 1]);
  for (int q = 0; q < 2; ++q) f[q] = fold2(e[2 * q], e[2 * q + 1]);
  const Vf sums = fold1(f[0], f[1]);
  if (N == 16) {
    store(out, sums);
  } else {
    float tmp[16];
    store(tmp, sums);
    for (int i = 0; i < N; ++i) out[i] = tmp[i];
  }
}

// dx for pixels [iw0, iw0 + P), all C channels.
template <int C, int P>
void dx_block(int64_t rows, const float* const* dyrow, const float* const* wrow, int64_t kw, int64_t ocp,
              int64_t iw0, float* dx) {
  Vf acc[P * C];
  for (int i = 0; i < P * C; ++i) acc[i] = Vf{};
  // Chunks of 16 dy channels outermost, so the (row, tap) loops below step two pointers by constant
  // strides (with the chunk loop inside, GCC kept the tap loop's pointers on the stack).
  for (int64_t o = 0; o < ocp; o += 16) {
    for (int64_t r = 0; r < rows; ++r) {
      const float* d = dyrow[r] + iw0 * ocp + o;
      const float* wp = wrow[r] + o;
      for (int64_t t = 0; t < kw; ++t, d += ocp, wp += C * ocp) {
        Vf wv[C];
        for (int c = 0; c < C; ++c) wv[c] = load(wp + c * ocp);
        for (int p = 0; p < P; ++p) {
          const Vf dv = load(d + p * ocp);
          for (int c = 0; c < C; ++c) acc[p * C + c] += dv * wv[c];
        }
      }
    }
  }
  float* out = dx + iw0 * C;
  if constexpr (P * C <= 16) {
    reduce16<P * C>(acc, out);
  } else {
    reduce16<16>(acc, out);
    reduce16<P * C - 16>(acc + 16, out + 16);
  }
}

// The last w % kP pixels of a row in one block (two single-pixel blocks would be bound by the FMA latency).
template <int C, int P>
void dx_tail(int64_t count, int64_t rows, const float* const* dyrow, const float* const* wrow, int64_t kw,
             int64_t ocp, int64_t iw0, float* dx) {
  if constexpr (P >= 1) {
    if (count == P) return dx_block<C, P>(rows, dyrow, wrow, kw, ocp, iw0, dx);
    dx_tail<C, P - 1>(count, rows, dyrow, wrow, kw, ocp, iw0, dx);
  }
}

template <int C>
void dx_row_c(int64_t rows, const float* const* dyrow, const float* const* wrow, int64_t kw, int64_t ocp, int64_t w,
              float* dx) {
  constexpr int kP = 24 / C < 8 ? 24 / C : 8;
  int64_t iw = 0;
  for (; iw + kP <= w; iw += kP) dx_block<C, kP>(rows, dyrow, wrow, kw, ocp, iw, dx);
  dx_tail<C, kP - 1>(w - iw, rows, dyrow, wrow, kw, ocp, iw, dx);
}

void dx_row(int64_t rows, const float* const* dyrow, const float* const* wrow, int64_t kw, int64_t c, int64_t ocp,
            int64_t w, float* dx) {
  switch (c) {
    case 1: return dx_row_c<1>(rows, dyrow, wrow, kw, ocp, w, dx);
    case 2: return dx_row_c<2>(rows, dyrow, wrow, kw, ocp, w, dx);
    case 3: return dx_row_c<3>(rows, dyrow, wrow, kw, ocp, w, dx);
    case 4: return dx_row_c<4>(rows, dyrow, wrow, kw, ocp, w, dx);
    case 5: return dx_row_c<5>(rows, dyrow, wrow, kw, ocp, w, dx);
    case 6: return dx_row_c<6>(rows, dyrow, wrow, kw, ocp, w, dx);
    case 7: return dx_row_c<7>(rows, dyrow, wrow, kw, ocp, w, dx);
    default: return dx_row_c<8>(rows, dyrow, wrow, kw, ocp, w, dx);
  }
}

// ---- forward and backward-filter with the output channels in the vector (fwd_row, dw_rows) ----------
// One kernel row of a few-channel layer reads KW*C adjacent floats per pixel (kwc), so a pixel's whole
// reduction is rows x kwc scalars of x, each broadcast against 16 output channels of the filter.

// y for pixels [p0, p0 + P), NC chunks of 16 output channels: P*NC vector accumulators over (r, k).
template <int NC, int P>
void fwd_block(int64_t rows, const float* const* xrow, const float* const* wrow, int64_t kwc, int64_t sx,
               int64_t ocp, int64_t oc, int64_t p0, const float* bias, float* y) {
  Vf acc[P * NC];
  for (int i = 0; i < P * NC; ++i) acc[i] = Vf{};
  for (int64_t r = 0; r < rows; ++r) {
    const float* xp = xrow[r] + p0 * sx;
    const float* wp = wrow[r];
    for (int64_t k = 0; k < kwc; ++k, wp += ocp) {
      Vf wv[NC];
      for (int c = 0; c < NC; ++c) wv[c] = load(wp + 16 * c);
      for (int p = 0; p < P; ++p) {
        const float xv = xp[p * sx + k];
        for (int c = 0; c < NC; ++c) acc[p * NC + c] += wv[c] * xv;
      }
    }
  }
  for (int c = 0; c < NC; ++c) {
    const Vf b = bias != nullptr ? load(bias + 16 * c) : Vf{};
    for (int p = 0; p < P; ++p) acc[p * NC + c] += b;
  }
  float* yp = y + p0 * oc;
  if (oc == ocp) {
    for (int p = 0; p < P; ++p)
      for (int c = 0; c < NC; ++c) store(yp + p * oc + 16 * c, acc[p * NC + c]);
    return;
  }
  for (int p = 0; p < P; ++p) {
    float tmp[16 * NC];
    for (int c = 0; c < NC; ++c) store(tmp + 16 * c, acc[p * NC + c]);
    std::memcpy(yp + p * oc, tmp, sizeof(float) * static_cast<size_t>(oc));
  }
}

template <int NC, int P>
void fwd_tail(int64_t count, int64_t rows, const float* const* xrow, const float* const* wrow, int64_t kwc,
              int64_t sx, int64_t ocp, int64_t oc, int64_t p0, const float* bias, float* y) {
  if constexpr (P >= 1) {
    if (count == P) return fwd_block<NC, P>(rows, xrow, wrow, kwc, sx, ocp, oc, p0, bias, y);
    fwd_tail<NC, P - 1>(count, rows, xrow, wrow, kwc, sx, ocp, oc, p0, bias, y);
  }
}

template <int NC>
void fwd_row_nc(int64_t rows, const float* const* xrow, const float* const* wrow, int64_t kwc, int64_t sx,
                int64_t ocp, int64_t oc, int64_t ow, const float* bias, float* y) {
  constexpr int kP = NC == 1 ? 12 : 24 / NC;
  int64_t p = 0;
  for (; p + kP <= ow; p += kP) fwd_block<NC, kP>(rows, xrow, wrow, kwc, sx, ocp, oc, p, bias, y);
  fwd_tail<NC, kP - 1>(ow - p, rows, xrow, wrow, kwc, sx, ocp, oc, p, bias, y);
}

void fwd_row(int64_t rows, const float* const* xrow, const float* const* wrow, int64_t kwc, int64_t sx, int64_t ocp,
             int64_t oc, int64_t ow, const float* bias, float* y) {
  switch (ocp / 16) {
    case 1: return fwd_row_nc<1>(rows, xrow, wrow, kwc, sx, ocp, oc, ow, bias, y);
    case 2: return fwd_row_nc<2>(rows, xrow, wrow, kwc, sx, ocp, oc, ow, bias, y);
    case 3: return fwd_row_nc<3>(rows, xrow, wrow, kwc, sx, ocp, oc, ow, bias, y);
    default: return fwd_row_nc<4>(rows, xrow, wrow, kwc, sx, ocp, oc, ow, bias, y);
  }
}

// dw for k in [k0, k0 + KB), NC chunks: KB*NC vector accumulators loaded from acc, summed over (r, p).
template <int NC, int KB>
void dw_block(int64_t rows, const float* const* xrow, const float* const* dyrow, int64_t ow, int64_t sx, int64_t ocp,
              int64_t k0, float* acc) {
  Vf a[KB * NC];
  for (int k = 0; k < KB; ++k)
    for (int c = 0; c < NC; ++c) a[k * NC + c] = load(acc + (k0 + k) * ocp + 16 * c);
  for (int64_t r = 0; r < rows; ++r) {
    const float* xp = xrow[r] + k0;
    const float* d = dyrow[r];
    for (int64_t p = 0; p < ow; ++p, xp += sx, d += ocp) {
      Vf dv[NC];
      for (int c = 0; c < NC; ++c) dv[c] = load(d + 16 * c);
      for (int k = 0; k < KB; ++k) {
        const float xv = xp[k];
        for (int c = 0; c < NC; ++c) a[k * NC + c] += dv[c] * xv;
      }
    }
  }
  for (int k = 0; k < KB; ++k)
    for (int c = 0; c < NC; ++c) store(acc + (k0 + k) * ocp + 16 * c, a[k * NC + c]);
}

template <int NC, int KB>
void dw_tail(int64_t count, int64_t rows, const float* const* xrow, const float* const* dyrow, int64_t ow, int64_t sx,
             int64_t ocp, int64_t k0, float* acc) {
  if constexpr (KB >= 1) {
    if (count == KB) return dw_block<NC, KB>(rows, xrow, dyrow, ow, sx, ocp, k0, acc);
    dw_tail<NC, KB - 1>(count, rows, xrow, dyrow, ow, sx, ocp, k0, acc);
  }
}

template <int NC>
void dw_rows_nc(int64_t rows, const float* const* xrow, const float* const* dyrow, int64_t ow, int64_t sx,
                int64_t kwc, int64_t ocp, float* acc) {
  constexpr int kMaxKb = 24 / NC;
  // The fewest blocks of at most kMaxKb, as even as possible (30 -> 15 + 15).
  const int64_t blocks = (kwc + kMaxKb - 1) / kMaxKb;
  const int64_t kb = (kwc + blocks - 1) / blocks;
  for (int64_t k0 = 0; k0 < kwc; k0 += kb) {
    dw_tail<NC, kMaxKb>(kwc - k0 < kb ? kwc - k0 : kb, rows, xrow, dyrow, ow, sx, ocp, k0, acc);
  }
}

void dw_rows(int64_t rows, const float* const* xrow, const float* const* dyrow, int64_t ow, int64_t sx, int64_t kwc,
             int64_t ocp, float* acc) {
  switch (ocp / 16) {
    case 1: return dw_rows_nc<1>(rows, xrow, dyrow, ow, sx, kwc, ocp, acc);
    case 2: return dw_rows_nc<2>(rows, xrow, dyrow, ow, sx, kwc, ocp, acc);
    case 3: return dw_rows_nc<3>(rows, xrow, dyrow, ow, sx, kwc, ocp, acc);
    default: return dw_rows_nc<4>(rows, xrow, dyrow, ow, sx, kwc, ocp, acc);
  }
}
