// The one-input-channel, width-vectorized convolution kernels (contract: conv_width_ukernels.h), written
// once over a 16-lane GCC/Clang vector type. Each ISA file (conv_width_f32__<isa>.cc) includes this
// header inside an anonymous namespace so every instantiation stays in its translation unit and is
// compiled with that file's flags: 1 zmm per vector with AVX-512, 2 ymm with AVX2, 4 xmm (or NEON q
// registers) in the portable build. Portable header: no intrinsics.
//
// Register tiles: forward keeps one vector per output channel (<= 8 channels per pass) for 16 pixels
// over all KH*KW taps, loading each input vector once per tap; backward-filter keeps (<= 5 taps of a
// kernel row) x (<= 4 output channels) vector partial sums across all rows of an image, so every x and
// dy vector loaded feeds 4 multiply-adds. The summation order of every output (taps for forward; rows,
// then 16-pixel blocks, for backward-filter) does not depend on these tile sizes.
#pragma once
// The includer provides <cstdint> and <cstring> (this file is included inside a namespace).
// Every function here is internal to its ISA file, so the vector-argument ABI note GCC gives for the
// portable and AVX2 builds (-Wpsabi) concerns no call across files.
#pragma GCC diagnostic ignored "-Wpsabi"

#include "ukernels/vec16_portable.h"

using Vf = TfVec16f;
using Vi = TfVec16i;
constexpr int64_t kLanes = 16;

// Lanes >= valid become +0.0f.
inline Vf keep_lanes(Vf v, int64_t valid) {
  const Vi lane = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
  const Vi keep = lane < static_cast<int32_t>(valid);
  return (Vf)((Vi)v & keep);
}

// ---- 16-pixel transposes between channel planes and NHWC, in registers (AVX-512 only) --------------
// With AVX-512 a two-source shuffle of 16 floats is one instruction (vpermt2ps); on narrower levels the
// 64-byte vector is split and GCC's shuffle sequences measured no better than the scalar loops, which
// those levels keep. Each output vector draws on every source vector (OC <= 16), merged one source per
// shuffle: lanes already placed keep their index, the next source's lanes are taken in.
#if defined(__AVX512F__) && (defined(__clang__) || (defined(__GNUC__) && __GNUC__ >= 12))
#define TF_WIDTH_TRANSPOSE 1
// planar -> NHWC: out[v] lane e holds a[j][p] with 16v + e = p*OC + j.
constexpr int p2n_idx(int oc, int v, int k, int e) {
  const int q = 16 * v + e, j = q % oc, p = q / oc;
  if (k == 1) return j == 0 ? p : j == 1 ? 16 + p : 0;
  return j == k ? 16 + p : e;
}
// NHWC -> planar: out[j] lane l holds in[s][e] with 16s + e = l*OC + j.
constexpr int n2p_idx(int oc, int j, int k, int l) {
  const int q = l * oc + j, s = q / 16, e = q % 16;
  if (k == 1) return s == 0 ? e : s == 1 ? 16 + e : 0;
  return s == k ? 16 + e : l;
}
template <int OC, int V, int K, size_t... E>
inline Vf p2n_step(Vf t, Vf a, std::index_sequence<E...>) {
  return __builtin_shufflevector(t, a, p2n_idx(OC, V, K, static_cast<int>(E))...);
}
template <int OC, int J, int K, size_t... E>
inline Vf n2p_step(Vf t, Vf a, std::index_sequence<E...>) {
  return __builtin_shufflevector(t, a, n2p_idx(OC, J, K, static_cast<int>(E))...);
}
template <int OC, int V, int K>
inline Vf p2n_chain(const Vf* a, Vf t) {
  if constexpr (K >= OC) {
    return t;
  } else {
    return p2n_chain<OC, V, K + 1>(a, p2n_step<OC, V, K>(t, a[K], std::make_index_sequence<16>{}));
  }
}
template <int OC, int J, int K>
inline Vf n2p_chain(const Vf* in, Vf t) {
  if constexpr (K >= OC) {
    return t;
  } else {
    return n2p_chain<OC, J, K + 1>(in, n2p_step<OC, J, K>(t, in[K], std::make_index_sequence<16>{}));
  }
}
template <int OC, int V>
inline void planar_to_nhwc_from(const Vf* a, Vf* out) {
  if constexpr (V < OC) {
    out[V] = p2n_chain<OC, V, 2>(a, p2n_step<OC, V, 1>(a[0], a[1], std::make_index_sequence<16>{}));
    planar_to_nhwc_from<OC, V + 1>(a, out);
  }
}
template <int OC, int J>
inline void nhwc_to_planar_from(const Vf* in, Vf* out) {
  if constexpr (J < OC) {
    out[J] = n2p_chain<OC, J, 2>(in, n2p_step<OC, J, 1>(in[0], in[1], std::make_index_sequence<16>{}));
    nhwc_to_planar_from<OC, J + 1>(in, out);
  }
}
// The first n (< 16 * V) floats of p as V vectors (zeros after), and back: masked loads and stores, so a
// partial block never touches memory past its n floats. The AVX-512 ISA file includes the intrinsics
// (this block is AVX-512 only).
template <int V>
inline void load_first(const float* p, int64_t n, Vf* v) {
  for (int i = 0; i < V; ++i) {
    const int64_t m = n - 16 * i;
    const __mmask16 k = m >= 16 ? __mmask16(0xffff) : m <= 0 ? __mmask16(0) : __mmask16((1u << m) - 1u);
    v[i] = (Vf)_mm512_maskz_loadu_ps(k, p + 16 * i);
  }
}
template <int V>
inline void store_first(float* p, int64_t n, const Vf* v) {
  for (int i = 0; i < V; ++i) {
    const int64_t m = n - 16 * i;
    if (m <= 0) break;
    const __mmask16 k = m >= 16 ? __mmask16(0xffff) : __mmask16((1u << m) - 1u);
    _mm512_mask_storeu_ps(p + 16 * i, k, (__m512)v[i]);
  }
}
// a[j] = channel j of 16 pixels -> out[v] = floats [16v, 16v + 16) of those pixels in NHWC (2 <= OC <= 8).
template <int OC>
inline void planar_to_nhwc(const Vf* a, Vf* out) { planar_to_nhwc_from<OC, 0>(a, out); }
// The inverse: in[v] = floats [16v, 16v + 16) of 16 NHWC pixels -> out[j] = channel j of those pixels.
template <int OC>
inline void nhwc_to_planar(const Vf* in, Vf* out) { nhwc_to_planar_from<OC, 0>(in, out); }
#endif

// Output channels [o0, o0 + OB) of pixels [p0, p0 + 16): tmp[j*16 + l] = Σ_{ky,kx} rows[ky][p0+l+kx] · w[...].
template <int OB>
void fwd_block(int64_t kh, int64_t kw, const float* const* rows, const float* w, int64_t oc, int64_t o0, int64_t p0,
               float* tmp) {
  Vf acc[OB];
  for (int j = 0; j < OB; ++j) acc[j] = Vf{};
  for (int64_t ky = 0; ky < kh; ++ky) {
    const float* r = rows[ky] + p0;
    const float* wk = w + ky * kw * oc + o0;
    for (int64_t kx = 0; kx < kw; ++kx, wk += oc) {
      const Vf xv = load(r + kx);
      for (int j = 0; j < OB; ++j) acc[j] += xv * wk[j];
    }
  }
  for (int j = 0; j < OB; ++j) store(tmp + j * kLanes, acc[j]);
}

using FwdBlockFn = void (*)(int64_t, int64_t, const float* const*, const float*, int64_t, int64_t, int64_t, float*);
constexpr int kFwdMaxOb = 8;
inline FwdBlockFn fwd_block_for(int64_t ob) {
  switch (ob) {
    case 1: return &fwd_block<1>;
    case 2: return &fwd_block<2>;
    case 3: return &fwd_block<3>;
    case 4: return &fwd_block<4>;
    case 5: return &fwd_block<5>;
    case 6: return &fwd_block<6>;
    case 7: return &fwd_block<7>;
    default: return &fwd_block<8>;
  }
}

#if defined(TF_WIDTH_TRANSPOSE)
// fwd_block<OC> for pixels [p0, p0 + 16) and [p0 + 16, p0 + 32): tmp[(b*OC + j)*16 + l].
template <int OC>
void fwd_block2(int64_t kh, int64_t kw, const float* const* rows, const float* w, int64_t p0, float* tmp) {
  Vf acc0[OC], acc1[OC];
  for (int j = 0; j < OC; ++j) acc0[j] = acc1[j] = Vf{};
  for (int64_t ky = 0; ky < kh; ++ky) {
    const float* r = rows[ky] + p0;
    const float* wk = w + ky * kw * OC;
    for (int64_t kx = 0; kx < kw; ++kx, wk += OC) {
      const Vf x0 = load(r + kx), x1 = load(r + kLanes + kx);
      for (int j = 0; j < OC; ++j) {
        acc0[j] += x0 * wk[j];
        acc1[j] += x1 * wk[j];
      }
    }
  }
  for (int j = 0; j < OC; ++j) {
    store(tmp + j * kLanes, acc0[j]);
    store(tmp + (OC + j) * kLanes, acc1[j]);
  }
}

// All OC (2..8) channels in one block: bias added per lane (tmp + b[j], the same sums as the scalar
// store below), transposed in registers and stored as whole NHWC vectors.
template <int OC>
void fwd_nhwc(int64_t kh, int64_t kw, const float* const* rows, const float* w, const float* bias, float* y,
              int64_t ow) {
  alignas(64) float tmp2[2 * OC * kLanes];
  Vf b[OC];
  for (int j = 0; j < OC; ++j) b[j] = Vf{} + (bias != nullptr ? bias[j] : 0.0f);
  for (int64_t p0 = 0; p0 < ow; p0 += kLanes) {
    if ((p0 / kLanes) % 2 == 0) {
      // Two blocks per pass over the taps where there are two: 2*OC independent sums (OC alone leaves
      // the FMA pipes waiting on their latency); same per-output order.
      if (p0 + kLanes < ow) {
        fwd_block2<OC>(kh, kw, rows, w, p0, tmp2);
      } else {
        fwd_block<OC>(kh, kw, rows, w, OC, 0, p0, tmp2);
      }
    }
    const float* tmp = tmp2 + ((p0 / kLanes) % 2) * OC * kLanes;
    Vf a[OC], o[OC];
    for (int j = 0; j < OC; ++j) a[j] = load(tmp + j * kLanes) + b[j];
    planar_to_nhwc<OC>(a, o);
    float* yp = y + p0 * OC;
    if (ow - p0 >= kLanes) {
      for (int v = 0; v < OC; ++v) store(yp + v * kLanes, o[v]);
    } else {
      store_first<OC>(yp, (ow - p0) * OC, o);
    }
  }
}
#endif

void fwd(int64_t kh, int64_t kw, const float* const* rows, const float* w, int64_t oc, const float* bias, float* y,
         int64_t ow) {
#if defined(TF_WIDTH_TRANSPOSE)
  switch (oc) {
    case 2: return fwd_nhwc<2>(kh, kw, rows, w, bias, y, ow);
    case 3: return fwd_nhwc<3>(kh, kw, rows, w, bias, y, ow);
    case 4: return fwd_nhwc<4>(kh, kw, rows, w, bias, y, ow);
    case 5: return fwd_nhwc<5>(kh, kw, rows, w, bias, y, ow);
    case 6: return fwd_nhwc<6>(kh, kw, rows, w, bias, y, ow);
    case 7: return fwd_nhwc<7>(kh, kw, rows, w, bias, y, ow);
    case 8: return fwd_nhwc<8>(kh, kw, rows, w, bias, y, ow);
    default: break;
  }
#endif
  alignas(64) float tmp[kFwdMaxOb * kLanes];
  for (int64_t o0 = 0; o0 < oc; o0 += kFwdMaxOb) {
    const int64_t ob = oc - o0 < kFwdMaxOb ? oc - o0 : kFwdMaxOb;
    const FwdBlockFn block = fwd_block_for(ob);
    float b[kFwdMaxOb];
    for (int64_t j = 0; j < ob; ++j) b[j] = bias != nullptr ? bias[o0 + j] : 0.0f;
    for (int64_t p0 = 0; p0 < ow; p0 += kLanes) {
      block(kh, kw, rows, w, oc, o0, p0, tmp);
      // Transpose the OB x 16 block into NHWC (pixel-major) order.
      const int64_t pv = ow - p0 < kLanes ? ow - p0 : kLanes;
      float* yp = y + p0 * oc + o0;
      for (int64_t l = 0; l < pv; ++l, yp += oc) {
        for (int64_t j = 0; j < ob; ++j) yp[j] = tmp[j * kLanes + l] + b[j];
      }
    }
  }
}

// Taps kx0..kx0+KB-1 of kernel row ky, output channels o0..o0+OB-1, over every row of the image.
template <int KB, int OB>
void grad_block(int64_t ky, int64_t kx0, int64_t kw, const float* x, int64_t xs, int64_t sh, int64_t dh,
                const float* dyt, int64_t oc, int64_t o0, int64_t oh, int64_t ow, float* acc) {
  const int64_t owp = (ow + kLanes - 1) / kLanes * kLanes;
  const int64_t full = ow / kLanes, tail = ow % kLanes;
  Vf a[KB][OB];
  for (int k = 0; k < KB; ++k)
    for (int j = 0; j < OB; ++j) a[k][j] = load(acc + (((ky * kw + kx0 + k) * oc) + o0 + j) * kLanes);
  for (int64_t r = 0; r < oh; ++r) {
    const float* xr = x + (r * sh + ky * dh) * xs + kx0;
    const float* d = dyt + (o0 * oh + r) * owp;
    for (int64_t b = 0; b < full; ++b) {
      Vf dv[OB];
      for (int j = 0; j < OB; ++j) dv[j] = load(d + j * oh * owp + b * kLanes);
      for (int k = 0; k < KB; ++k) {
        const Vf xv = load(xr + b * kLanes + k);
        for (int j = 0; j < OB; ++j) a[k][j] += xv * dv[j];
      }
    }
    if (tail != 0) {
      Vf dv[OB];
      for (int j = 0; j < OB; ++j) dv[j] = load(d + j * oh * owp + full * kLanes);
      for (int k = 0; k < KB; ++k) {
        const Vf xv = keep_lanes(load(xr + full * kLanes + k), tail);
        for (int j = 0; j < OB; ++j) a[k][j] += xv * dv[j];
      }
    }
  }
  for (int k = 0; k < KB; ++k)
    for (int j = 0; j < OB; ++j) store(acc + (((ky * kw + kx0 + k) * oc) + o0 + j) * kLanes, a[k][j]);
}

using GradBlockFn = void (*)(int64_t, int64_t, int64_t, const float*, int64_t, int64_t, int64_t, const float*, int64_t,
                             int64_t, int64_t, int64_t, float*);
constexpr int kGradMaxKb = 5, kGradMaxOb = 4;
template <int KB>
GradBlockFn grad_block_for_ob(int64_t ob) {
  switch (ob) {
    case 1: return &grad_block<KB, 1>;
    case 2: return &grad_block<KB, 2>;
    case 3: return &grad_block<KB, 3>;
    default: return &grad_block<KB, 4>;
  }
}
inline GradBlockFn grad_block_for(int64_t kb, int64_t ob) {
  switch (kb) {
    case 1: return grad_block_for_ob<1>(ob);
    case 2: return grad_block_for_ob<2>(ob);
    case 3: return grad_block_for_ob<3>(ob);
    case 4: return grad_block_for_ob<4>(ob);
    default: return grad_block_for_ob<5>(ob);
  }
}

// Splits n into the fewest blocks of at most m, as even as possible (6 channels -> 3 + 3, not 4 + 2).
inline int64_t even_block(int64_t n, int64_t m) {
  const int64_t blocks = (n + m - 1) / m;
  return (n + blocks - 1) / blocks;
}

void grad(int64_t kh, int64_t kw, const float* x, int64_t xs, int64_t sh, int64_t dh, const float* dyt, int64_t oc,
          int64_t oh, int64_t ow, float* acc, float* bias_acc) {
  const int64_t kb_max = even_block(kw, kGradMaxKb), ob_max = even_block(oc, kGradMaxOb);
  for (int64_t ky = 0; ky < kh; ++ky) {
    for (int64_t kx0 = 0; kx0 < kw; kx0 += kb_max) {
      const int64_t kb = kw - kx0 < kb_max ? kw - kx0 : kb_max;
      for (int64_t o0 = 0; o0 < oc; o0 += ob_max) {
        const int64_t ob = oc - o0 < ob_max ? oc - o0 : ob_max;
        grad_block_for(kb, ob)(ky, kx0, kw, x, xs, sh, dh, dyt, oc, o0, oh, ow, acc);
      }
    }
  }
  if (bias_acc == nullptr) return;
  const int64_t owp = (ow + kLanes - 1) / kLanes * kLanes;
  for (int64_t j = 0; j < oc; ++j) {
    Vf s = load(bias_acc + j * kLanes);
    const float* d = dyt + j * oh * owp;
    for (int64_t i = 0; i < oh * owp; i += kLanes) s += load(d + i);  // (r, b) order; padded lanes are 0
    store(bias_acc + j * kLanes, s);
  }
}

// Flat form (stride_h = 1): with the image's zero-bordered rows and dy's rows laid out at the same row
// stride, tap t's input for flat position q is x[off[t] + q], so each (tap, channel) is one dot product
// over q < len (a multiple of 16): no row loop, no tail. Lanes where dyt is zero still read real x values,
// so the caller uses this form only when the image's x is finite (0 * inf would make NaN).
template <int KB, int OB>
void grad_flat_block(const int64_t* off, const float* x, const float* dyt, int64_t len, int64_t o0, int64_t oc,
                     float* acc) {
  Vf a[KB][OB];
  const float* xp[KB];
  for (int k = 0; k < KB; ++k) {
    xp[k] = x + off[k];
    for (int j = 0; j < OB; ++j) a[k][j] = load(acc + (k * oc + o0 + j) * kLanes);
  }
  const float* d = dyt + o0 * len;
  for (int64_t q = 0; q < len; q += kLanes) {
    Vf dv[OB];
    for (int j = 0; j < OB; ++j) dv[j] = load(d + j * len + q);
    for (int k = 0; k < KB; ++k) {
      Vf xv = load(xp[k] + q);
#if defined(__AVX512F__)
      // One load per x vector: left alone, GCC folds it into each of the OB multiply-adds, and these
      // unaligned loads (half of them cross a cache line) then bound the loop at about half the FMA rate.
      __asm__("" : "+v"(xv));
#endif
      for (int j = 0; j < OB; ++j) a[k][j] += xv * dv[j];
    }
  }
  for (int k = 0; k < KB; ++k)
    for (int j = 0; j < OB; ++j) store(acc + (k * oc + o0 + j) * kLanes, a[k][j]);
}

using GradFlatBlockFn = void (*)(const int64_t*, const float*, const float*, int64_t, int64_t, int64_t, float*);
template <int KB>
GradFlatBlockFn grad_flat_for_ob(int64_t ob) {
  switch (ob) {
    case 1: return &grad_flat_block<KB, 1>;
    case 2: return &grad_flat_block<KB, 2>;
    case 3: return &grad_flat_block<KB, 3>;
    default: return &grad_flat_block<KB, 4>;
  }
}
inline GradFlatBlockFn grad_flat_for(int64_t kb, int64_t ob) {
  switch (kb) {
    case 1: return grad_flat_for_ob<1>(ob);
    case 2: return grad_flat_for_ob<2>(ob);
    case 3: return grad_flat_for_ob<3>(ob);
    case 4: return grad_flat_for_ob<4>(ob);
    default: return grad_flat_for_ob<5>(ob);
  }
}

void grad_flat(int64_t taps, const int64_t* off, const float* x, const float* dyt, int64_t oc, int64_t len,
               float* acc, float* bias_acc) {
  const int64_t kb_max = even_block(taps, kGradMaxKb);
  const int64_t ob_max = even_block(oc, kGradMaxOb);
  for (int64_t t0 = 0; t0 < taps; t0 += kb_max) {
    const int64_t kb = taps - t0 < kb_max ? taps - t0 : kb_max;
    for (int64_t o0 = 0; o0 < oc; o0 += ob_max) {
      const int64_t ob = oc - o0 < ob_max ? oc - o0 : ob_max;
      grad_flat_for(kb, ob)(off + t0, x, dyt, len, o0, oc, acc + t0 * oc * kLanes);
    }
  }
  if (bias_acc == nullptr) return;
  for (int64_t j = 0; j < oc; ++j) {
    Vf s = load(bias_acc + j * kLanes);
    for (int64_t q = 0; q < len; q += kLanes) s += load(dyt + j * len + q);
    store(bias_acc + j * kLanes, s);
  }
}

#if defined(TF_WIDTH_TRANSPOSE)
template <int OC>
void planes_oc(int64_t count, const float* src, float* dst, int64_t dst_stride) {
  int64_t p0 = 0;
  Vf in[OC], out[OC];
  for (; p0 + kLanes <= count; p0 += kLanes) {
    for (int v = 0; v < OC; ++v) in[v] = load(src + p0 * OC + v * kLanes);
    nhwc_to_planar<OC>(in, out);
    for (int j = 0; j < OC; ++j) store(dst + j * dst_stride + p0, out[j]);
  }
  if (p0 == count) return;
  // The last count % 16 pixels: masked loads and stores (nothing read or written past count).
  const int64_t tail = count - p0;
  load_first<OC>(src + p0 * OC, tail * OC, in);
  nhwc_to_planar<OC>(in, out);
  for (int j = 0; j < OC; ++j) store_first<1>(dst + j * dst_stride + p0, tail, out + j);
}
#endif

void planes(int64_t count, int64_t oc, const float* src, float* dst, int64_t dst_stride) {
#if defined(TF_WIDTH_TRANSPOSE)
  switch (oc) {
    case 2: return planes_oc<2>(count, src, dst, dst_stride);
    case 3: return planes_oc<3>(count, src, dst, dst_stride);
    case 4: return planes_oc<4>(count, src, dst, dst_stride);
    case 5: return planes_oc<5>(count, src, dst, dst_stride);
    case 6: return planes_oc<6>(count, src, dst, dst_stride);
    case 7: return planes_oc<7>(count, src, dst, dst_stride);
    case 8: return planes_oc<8>(count, src, dst, dst_stride);
    default: break;
  }
#endif
  for (int64_t j = 0; j < oc; ++j) {
    for (int64_t p = 0; p < count; ++p) dst[j * dst_stride + p] = src[p * oc + j];
  }
}

// The plain loop: compiled per ISA file, so it auto-vectorizes at that file's width (the AVX-512 file
// has its own masked version instead, see there).
[[maybe_unused]] void add_runs(int64_t count, int64_t len, const float* src, int64_t src_stride, float* dst, int64_t dst_stride) {
  for (int64_t i = 0; i < count; ++i, src += src_stride, dst += dst_stride) {
    float* __restrict d = dst;
    const float* __restrict v = src;
    for (int64_t k = 0; k < len; ++k) d[k] += v[k];
  }
}
