// The depthwise row kernels (fwd_row, fwd_row2, grad_row; contract: dwconv_ukernels.h), written once over a small
// vector interface that each ISA file defines with its own intrinsics (or plain vector extensions for
// the portable build) before including this header inside its anonymous namespace, so every
// instantiation stays in its translation unit and is compiled with that file's flags. Portable header:
// no intrinsics here. The includer provides <cstdint>.
//
//   struct Ops {
//     static constexpr int64_t L;             // lanes (channels) per vector
//     using V; using M;                       // a vector, a lane mask for the channel tail
//     static M mask(int64_t n);               // lanes [0, n), 0 < n < L
//     static V zero();
//     static V load(const float* p);          static V load(const float* p, M m);   // masked-off lanes: 0,
//     static void store(float* p, V v);       static void store(float* p, V v, M m); // memory untouched
//     static V fma(V a, V b, V acc);          static V add(V a, V b);
//     static V pin(V v);                      // v, kept in a register (not re-loaded per use)
//     static constexpr int kFwdTile, kFwd2Tile, kGradTile;  // register tile widths, in pixels
//     static constexpr bool kAlign;           // shift vectors onto aligned addresses (needs mask_from)
//     static M mask_from(int64_t n);          // lanes [n, L), 0 < n < L
//   };
//
// Forward: T consecutive interior output pixels of one channel vector per register tile: per filter row
// the KW filter vectors are loaded once and each of the T+KW-1 input vectors feeds up to KW outputs
// (fwd_row2: and both output rows). Pixels whose window crosses the left or right padding run one at a
// time, their padding taps skipped. Backward-filter: the KW x (up to 3) accumulators of one channel
// vector stay in registers across a chunk of pixels (plus the bias-gradient sum), T pixels' dy vectors
// in registers so each input vector feeds up to KW accumulators. Loads bound these kernels (measured
// ~1 vector load per cycle on the AVX-512 test machine), hence the register reuse; tiles of 4 measured
// faster than 8 there (fewer live registers). Neither tile sizes nor row grouping change any sum's
// order: each forward output adds its taps row by row, left to right; each accumulator adds pixels left
// to right.
#pragma once
#pragma GCC diagnostic ignored "-Wpsabi"

template <int N>
struct IntConst {
  static constexpr int value = N;
};

// A channel vector: full (plain loads and stores) or the masked tail of the channel axis.
template <bool kFull>
struct Lanes {
  Ops::M m;
  Ops::V ld(const float* p) const {
    if constexpr (kFull) {
      return Ops::load(p);
    } else {
      return Ops::load(p, m);
    }
  }
  void st(float* p, Ops::V v) const {
    if constexpr (kFull) {
      Ops::store(p, v);
    } else {
      Ops::store(p, v, m);
    }
  }
};

// Calls fn(lanes, j) for every channel vector [j, j + L) of [0, c), the last one masked when c % L != 0.
template <typename Fn>
inline void for_each_channel_vector(int64_t c, Fn&& fn) {
  int64_t j = 0;
  for (; j + Ops::L <= c; j += Ops::L) fn(Lanes<true>{}, j);
  if (j < c) fn(Lanes<false>{Ops::mask(c - j)}, j);
}

// Prefetches the floats [p, p + n) of the row the next call will read (the caller names it), so its memory
// traffic overlaps this row's arithmetic: without it the passes ran about as long as the in-cache
// arithmetic plus a whole memory pass. A hint only (never faults).
inline void prefetch_floats(const float* p, int64_t n) {
#if defined(__GNUC__)
  for (int64_t k = 0; k < n; k += 16) __builtin_prefetch(p + k);
#else
  (void)p, (void)n;
#endif
}

// The output pixels [p0, min(p1, end)) about to be written (write intent: fetched for ownership ahead).
inline void prefetch_out(float* row, int64_t p0, int64_t p1, int64_t end, int64_t c) {
#if defined(__GNUC__)
  const int64_t stop = p1 < end ? p1 : end;
  for (int64_t k = p0 * c; k < stop * c; k += 16) __builtin_prefetch(row + k, 1);
#else
  (void)row, (void)p0, (void)p1, (void)end, (void)c;
#endif
}

// Pixels [p0, min(p1, end)) of row `row` (c floats each), when row is set.
inline void prefetch_pixels(const float* row, int64_t p0, int64_t p1, int64_t end, int64_t c) {
  const int64_t stop = p1 < end ? p1 : end;
  if (row != nullptr && p0 < stop) prefetch_floats(row + p0 * c, (stop - p0) * c);
}

// Outputs o in [lo, hi) of a row have every one of their kw taps inside [0, width).
struct Interior {
  int64_t lo, hi;
};
inline Interior row_interior(int64_t kw, int64_t count, int64_t pad, int64_t width) {
  const int64_t lo = pad < 0 ? 0 : pad > count ? count : pad;
  int64_t hi = width - kw + 1 + pad;
  hi = hi > count ? count : hi;
  return {lo, hi < lo ? lo : hi};
}

// ---- aligned interior ------------------------------------------------------------------------------
// A vector load from a row that starts s floats short of an (L*4)-byte boundary (0 < s < L) straddles two
// cache lines (with AVX-512, every load when a Float32Array starts 16 bytes into a line, as large malloc'd
// buffers do), measured ~1.35x slower in these load-bound kernels. When c % L == 0 every pixel starts at
// the same offset, so the interior outputs [lo, hi) are covered by vectors that start s floats into a
// pixel instead: the last vector of a pixel runs on into the next pixel's first s channels, whose taps are
// the same (both pixels interior), so the filter taps and bias come laid out twice ([KW][2c], the
// contract's layout; a vector at channel j reads them at j). Every output's sum is unchanged (bias, then rows,
// then taps, in order), only the vector holding it differs, so results are identical. The head (channels
// [0, s) of pixel lo) and the last vector of pixel hi - 1 (which must not run into pixel hi) are masked.
inline int64_t align_shift(const float* p, int64_t c) {
  if constexpr (!Ops::kAlign) {
    (void)p, (void)c;
    return 0;
  } else {
    const uintptr_t a = reinterpret_cast<uintptr_t>(p);
    constexpr uintptr_t kBytes = static_cast<uintptr_t>(Ops::L) * 4;
    if (c % Ops::L != 0 || a % 4 != 0) return 0;
    return static_cast<int64_t>(((kBytes - a % kBytes) % kBytes) / 4);
  }
}

// Covers outputs [lo, hi) with shifted vectors: tile(IntConst<T>, o0, lanes, j) computes T outputs from
// o0 for the vector at channel j (j < 0: the head; j + L > c: runs into the next pixel); before(o0, T)
// runs ahead of each tile's vectors.
template <int T0, typename Tile, typename Before>
inline void aligned_interior(int64_t c, int64_t lo, int64_t hi, int64_t s, Tile&& tile, Before&& before) {
  constexpr int64_t L = Ops::L;
  if (hi <= lo) return;
  tile(IntConst<1>{}, lo, Lanes<false>{Ops::mask_from(L - s)}, s - L);
  int64_t o = lo;
  const auto body = [&](auto t_const) {
    constexpr int T = decltype(t_const)::value;
    for (; o + T <= hi - 1; o += T) {
      before(o, T);
      for (int64_t j = s; j + L <= s + c; j += L) tile(t_const, o, Lanes<true>{}, j);
    }
  };
  body(IntConst<T0>{});
  if constexpr (T0 > 4) body(IntConst<4>{});
  if constexpr (T0 > 2) body(IntConst<2>{});
  body(IntConst<1>{});
  for (int64_t j = s; j + L < s + c; j += L) tile(IntConst<1>{}, hi - 1, Lanes<true>{}, j);
  tile(IntConst<1>{}, hi - 1, Lanes<false>{Ops::mask(L - s)}, s + c - L);
}

// ---- forward ---------------------------------------------------------------------------------------

// T interior outputs o0.. of channel vector j.
// Filter taps ws = 2c floats apart (doubled, see aligned_interior), read at offset jw (= j, or j + c for
// the head vector at j < 0).
template <int KW, int T, bool kFull>
inline void fwd_tile(const Lanes<kFull>& ln, int64_t c, int64_t rows, const float* const* in,
                     const float* const* w, const float* bias, float* out, int64_t o0, int64_t pad, int64_t j,
                     int64_t ws, int64_t jw) {
  using V = Ops::V;
  V acc[T];
  const V b = bias != nullptr ? ln.ld(bias + jw) : Ops::zero();
  for (int o = 0; o < T; ++o) acc[o] = b;
  for (int64_t r = 0; r < rows; ++r) {
    V wv[KW];
    for (int t = 0; t < KW; ++t) wv[t] = ln.ld(w[r] + t * ws + jw);
    const float* x = in[r] + (o0 - pad) * c + j;
    // Input column q feeds output o = q - t with tap t (t ascending for each o as q advances).
    for (int q = 0; q < T + KW - 1; ++q) {
      const V xv = Ops::pin(ln.ld(x + q * c));
      for (int t = 0; t < KW; ++t) {
        const int o = q - t;
        if (o >= 0 && o < T) acc[o] = Ops::fma(xv, wv[t], acc[o]);
      }
    }
  }
  for (int o = 0; o < T; ++o) ln.st(out + (o0 + o) * c + j, acc[o]);
}

// One output o whose window may cross the padding: taps outside [0, width) skipped.
template <bool kFull>
inline void fwd_pixel(const Lanes<kFull>& ln, int64_t c, int64_t kw, int64_t rows, const float* const* in,
                      const float* const* w, const float* bias, float* out, int64_t o, int64_t pad, int64_t width,
                      int64_t j) {
  Ops::V acc = bias != nullptr ? ln.ld(bias + j) : Ops::zero();
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t t = 0; t < kw; ++t) {
      const int64_t col = o - pad + t;
      if (col < 0 || col >= width) continue;
      acc = Ops::fma(ln.ld(in[r] + col * c + j), ln.ld(w[r] + t * 2 * c + j), acc);
    }
  }
  ln.st(out + o * c + j, acc);
}

template <int KW>
void fwd_row_kw(int64_t c, int64_t rows, const float* const* in, const float* const* w, const float* bias,
                float* out, int64_t count, int64_t pad, int64_t width, const float* next) {
  constexpr int kTile = Ops::kFwdTile;
  const Interior in_row = row_interior(KW, count, pad, width);
  const auto edge = [&](int64_t o) {
    for_each_channel_vector(c, [&](auto ln, int64_t j) { fwd_pixel(ln, c, KW, rows, in, w, bias, out, o, pad, width, j); });
  };
  for (int64_t o = 0; o < in_row.lo; ++o) edge(o);
  int64_t o = in_row.lo;
  // Input columns [0, in_end) are read; the same columns of `next` are prefetched tile by tile.
  const int64_t in_end = count - pad + KW - 1 < width ? count - pad + KW - 1 : width;
  prefetch_pixels(next, 0, in_row.lo + kTile, in_end, c);
  const int64_t s = rows > 0 ? align_shift(in[0], c) : 0;
  if (s != 0) {
    aligned_interior<kTile>(
        c, in_row.lo, in_row.hi, s,
        [&](auto t_const, int64_t o0, auto ln, int64_t j) {
          fwd_tile<KW, decltype(t_const)::value>(ln, c, rows, in, w, bias, out, o0, pad, j, 2 * c, j < 0 ? j + c : j);
        },
        [&](int64_t o0, int64_t t) {
          prefetch_pixels(next, o0 + t, o0 + 2 * t, in_end, c);
          prefetch_out(out, o0 + 2 * t, o0 + 3 * t, count, c);
        });
    for (o = in_row.hi; o < count; ++o) edge(o);
    return;
  }
  for (; o + kTile <= in_row.hi; o += kTile) {
    prefetch_pixels(next, o + kTile, o + 2 * kTile, in_end, c);
    prefetch_out(out, o + 2 * kTile, o + 3 * kTile, count, c);
    for_each_channel_vector(c, [&](auto ln, int64_t j) { fwd_tile<KW, kTile>(ln, c, rows, in, w, bias, out, o, pad, j, 2 * c, j); });
  }
  prefetch_pixels(next, o, in_end, in_end, c);
  if constexpr (kTile > 8) {
    if (o + 8 <= in_row.hi) {
      for_each_channel_vector(c, [&](auto ln, int64_t j) { fwd_tile<KW, 8>(ln, c, rows, in, w, bias, out, o, pad, j, 2 * c, j); });
      o += 8;
    }
  }
  if (o + 4 <= in_row.hi) {
    for_each_channel_vector(c, [&](auto ln, int64_t j) { fwd_tile<KW, 4>(ln, c, rows, in, w, bias, out, o, pad, j, 2 * c, j); });
    o += 4;
  }
  if (o + 2 <= in_row.hi) {
    for_each_channel_vector(c, [&](auto ln, int64_t j) { fwd_tile<KW, 2>(ln, c, rows, in, w, bias, out, o, pad, j, 2 * c, j); });
    o += 2;
  }
  if (o < in_row.hi) {
    for_each_channel_vector(c, [&](auto ln, int64_t j) { fwd_tile<KW, 1>(ln, c, rows, in, w, bias, out, o, pad, j, 2 * c, j); });
    ++o;
  }
  for (o = in_row.hi; o < count; ++o) edge(o);
}

// ---- forward, two output rows ----------------------------------------------------------------------

#if defined(__GNUC__)
#define TF_DW_INLINE inline __attribute__((always_inline))
#else
#define TF_DW_INLINE inline
#endif

// Input row i of a pair tile: feeds row 0 with filter row i (kA: i < rows) and row 1 with filter row i-1
// (kB: i >= 1). Forced inline: the accumulators must stay in registers.
template <int T, bool kA, bool kB, bool kFull>
TF_DW_INLINE void fwd2_step(const Lanes<kFull>& ln, int64_t c, const float* x, const float* wa, const float* wb,
                            Ops::V (&a0)[T], Ops::V (&a1)[T], int64_t ws, int64_t jw) {
  using V = Ops::V;
  V va[3], vb[3];
  for (int t = 0; t < 3; ++t) {
    if (kA) va[t] = ln.ld(wa + t * ws + jw);
    if (kB) vb[t] = ln.ld(wb + t * ws + jw);
  }
  for (int q = 0; q < T + 2; ++q) {
    const V xv = Ops::pin(ln.ld(x + q * c));
    for (int t = 0; t < 3; ++t) {
      const int o = q - t;
      if (o < 0 || o >= T) continue;
      if (kA) a0[o] = Ops::fma(xv, va[t], a0[o]);
      if (kB) a1[o] = Ops::fma(xv, vb[t], a1[o]);
    }
  }
}

// T interior outputs o0.. of channel vector j in both rows.
template <int T, bool kFull>
inline void fwd2_tile(const Lanes<kFull>& ln, int64_t c, int64_t rows, const float* const* in, const float* const* w,
                      const float* bias, float* out0, float* out1, int64_t o0, int64_t pad, int64_t j, int64_t ws,
                      int64_t jw) {
  using V = Ops::V;
  V a0[T], a1[T];
  const V b = bias != nullptr ? ln.ld(bias + jw) : Ops::zero();
  for (int o = 0; o < T; ++o) a0[o] = a1[o] = b;
  const int64_t off = (o0 - pad) * c + j;
  fwd2_step<T, true, false>(ln, c, in[0] + off, w[0], nullptr, a0, a1, ws, jw);
  for (int64_t i = 1; i < rows; ++i) fwd2_step<T, true, true>(ln, c, in[i] + off, w[i], w[i - 1], a0, a1, ws, jw);
  fwd2_step<T, false, true>(ln, c, in[rows] + off, nullptr, w[rows - 1], a0, a1, ws, jw);
  for (int o = 0; o < T; ++o) {
    ln.st(out0 + (o0 + o) * c + j, a0[o]);
    ln.st(out1 + (o0 + o) * c + j, a1[o]);
  }
}

template <int T>
inline int64_t fwd2_tiles(int64_t c, int64_t rows, const float* const* in, const float* const* w, const float* bias,
                          float* out0, float* out1, int64_t o, int64_t hi, int64_t pad, const float* next,
                          int64_t in_end) {
  for (; o + T <= hi; o += T) {
    prefetch_pixels(next, o + T, o + 2 * T, in_end, c);
    prefetch_out(out0, o + 2 * T, o + 3 * T, hi, c);
    prefetch_out(out1, o + 2 * T, o + 3 * T, hi, c);
    for_each_channel_vector(
        c, [&](auto ln, int64_t j) { fwd2_tile<T>(ln, c, rows, in, w, bias, out0, out1, o, pad, j, 2 * c, j); });
  }
  return o;
}

// rows >= 1 filter rows, rows + 1 input rows: out0 from in[0..rows), out1 from in[1..rows].
inline void fwd_row2(int64_t c, int64_t rows, const float* const* in, const float* const* w, const float* bias,
                     float* out0, float* out1, int64_t count, int64_t pad, int64_t width, const float* next) {
  const Interior in_row = row_interior(3, count, pad, width);
  const auto edge = [&](int64_t o) {
    for_each_channel_vector(c, [&](auto ln, int64_t j) {
      fwd_pixel(ln, c, 3, rows, in, w, bias, out0, o, pad, width, j);
      fwd_pixel(ln, c, 3, rows, in + 1, w, bias, out1, o, pad, width, j);
    });
  };
  for (int64_t o = 0; o < in_row.lo; ++o) edge(o);
  const int64_t in_end = count - pad + 2 < width ? count - pad + 2 : width;
  prefetch_pixels(next, 0, in_row.lo + Ops::kFwd2Tile, in_end, c);
  const int64_t s = align_shift(in[0], c);
  if (s != 0) {
    aligned_interior<Ops::kFwd2Tile>(
        c, in_row.lo, in_row.hi, s,
        [&](auto t_const, int64_t o0, auto ln, int64_t j) {
          fwd2_tile<decltype(t_const)::value>(ln, c, rows, in, w, bias, out0, out1, o0, pad, j, 2 * c, j < 0 ? j + c : j);
        },
        [&](int64_t o0, int64_t t) {
          prefetch_pixels(next, o0 + t, o0 + 2 * t, in_end, c);
          prefetch_out(out0, o0 + 2 * t, o0 + 3 * t, count, c);
          prefetch_out(out1, o0 + 2 * t, o0 + 3 * t, count, c);
        });
    for (int64_t o = in_row.hi; o < count; ++o) edge(o);
    return;
  }
  int64_t o = fwd2_tiles<Ops::kFwd2Tile>(c, rows, in, w, bias, out0, out1, in_row.lo, in_row.hi, pad, next, in_end);
  prefetch_pixels(next, o, in_end, in_end, c);
  if constexpr (Ops::kFwd2Tile > 4) o = fwd2_tiles<4>(c, rows, in, w, bias, out0, out1, o, in_row.hi, pad, nullptr, 0);
  o = fwd2_tiles<2>(c, rows, in, w, bias, out0, out1, o, in_row.hi, pad, nullptr, 0);
  fwd2_tiles<1>(c, rows, in, w, bias, out0, out1, o, in_row.hi, pad, nullptr, 0);
  for (o = in_row.hi; o < count; ++o) edge(o);
}

inline void fwd_row(int64_t c, int64_t kw, int64_t rows, const float* const* in, const float* const* w,
                    const float* bias, float* out, int64_t count, int64_t pad, int64_t width, const float* next) {
  if (kw == 3) return fwd_row_kw<3>(c, rows, in, w, bias, out, count, pad, width, next);
  if (kw == 5) return fwd_row_kw<5>(c, rows, in, w, bias, out, count, pad, width, next);
}

// ---- backward-filter -------------------------------------------------------------------------------

// R (<= 3) filter rows of channel vector j over the whole row of outputs; the bias sum too when kBias.
// Pixels [o_begin, o_end) of the row for R (<= 3) filter rows of channel vector j, and the bias sum when
// kBias: the accumulators are loaded, kept in registers over the pixels, and stored back. next_x,
// next_dy: rows to prefetch alongside (null: none).
template <int KW, int R, bool kBias, bool kFull>
inline void grad_rows(const Lanes<kFull>& ln, int64_t c, const float* const* in, const float* dy, float* const* acc,
                      float* acc_bias, int64_t o_begin, int64_t o_end, int64_t pad, int64_t width,
                      Interior in_row, int64_t j, const float* next_x, const float* next_dy) {
  using V = Ops::V;
  V a[R > 0 ? R : 1][KW];
  for (int r = 0; r < R; ++r) {
    for (int t = 0; t < KW; ++t) a[r][t] = ln.ld(acc[r] + t * c + j);
  }
  V ab = kBias ? ln.ld(acc_bias + j) : Ops::zero();
  const int64_t lo = in_row.lo > o_end ? o_end : in_row.lo < o_begin ? o_begin : in_row.lo;
  const int64_t hi = in_row.hi > o_end ? o_end : in_row.hi < lo ? lo : in_row.hi;
  prefetch_pixels(next_x, o_begin, o_end, width, c);
  prefetch_pixels(next_dy, o_begin, o_end, o_end, c);
  // Plain loops (a helper taking the accumulators by reference would keep them in memory). Pixels
  // whose window crosses the padding skip the taps outside [0, width).
  int64_t o = o_begin;
  for (; o < lo; ++o) {
    const V d = ln.ld(dy + o * c + j);
    for (int r = 0; r < R; ++r) {
      for (int t = 0; t < KW; ++t) {
        const int64_t col = o - pad + t;
        if (col >= 0 && col < width) a[r][t] = Ops::fma(ln.ld(in[r] + col * c + j), d, a[r][t]);
      }
    }
    if (kBias) ab = Ops::add(ab, d);
  }
  // Interior: T pixels at a time; per filter row each of the T+KW-1 input vectors feeds up to KW
  // accumulators (o = q - t ascending for each accumulator, so every sum stays in pixel order).
  constexpr int T = Ops::kGradTile;
  for (; o + T <= hi; o += T) {
    V d[T];
    for (int p = 0; p < T; ++p) d[p] = Ops::pin(ln.ld(dy + (o + p) * c + j));
    for (int r = 0; r < R; ++r) {
      const float* x = in[r] + (o - pad) * c + j;
      for (int q = 0; q < T + KW - 1; ++q) {
        const V xv = Ops::pin(ln.ld(x + q * c));
        for (int t = 0; t < KW; ++t) {
          const int p = q - t;
          if (p >= 0 && p < T) a[r][t] = Ops::fma(xv, d[p], a[r][t]);
        }
      }
    }
    if (kBias) {
      for (int p = 0; p < T; ++p) ab = Ops::add(ab, d[p]);
    }
  }
  for (; o < hi; ++o) {
    const V d = ln.ld(dy + o * c + j);
    for (int r = 0; r < R; ++r) {
      const float* x = in[r] + (o - pad) * c + j;
      for (int t = 0; t < KW; ++t) a[r][t] = Ops::fma(ln.ld(x + t * c), d, a[r][t]);
    }
    if (kBias) ab = Ops::add(ab, d);
  }
  for (; o < o_end; ++o) {
    const V d = ln.ld(dy + o * c + j);
    for (int r = 0; r < R; ++r) {
      for (int t = 0; t < KW; ++t) {
        const int64_t col = o - pad + t;
        if (col >= 0 && col < width) a[r][t] = Ops::fma(ln.ld(in[r] + col * c + j), d, a[r][t]);
      }
    }
    if (kBias) ab = Ops::add(ab, d);
  }
  for (int r = 0; r < R; ++r) {
    for (int t = 0; t < KW; ++t) ln.st(acc[r] + t * c + j, a[r][t]);
  }
  if (kBias) ln.st(acc_bias + j, ab);
}

// The row in chunks of pixels, every channel vector of a chunk before the next chunk: a chunk's x and dy
// vectors stay in L1 across the channel passes (whole rows, 256 bytes apart per pixel at C = 64, mapped
// onto a quarter of L1's sets and were evicted between passes). Chunks start at the interior's start, so
// register tiles line up. The first channel pass of a chunk prefetches next_x and next_dy (when set).
template <int KW, int R, bool kBias>
inline void grad_rows_all_channels(int64_t c, const float* const* in, const float* dy, float* const* acc,
                                   float* acc_bias, int64_t count, int64_t pad, int64_t width, const float* next_x,
                                   const float* next_dy) {
  constexpr int64_t kChunk = 4 * Ops::kGradTile;
  const Interior in_row = row_interior(KW, count, pad, width);
  int64_t begin = 0;
  while (begin < count) {
    int64_t end = begin < in_row.lo ? in_row.lo + kChunk : begin + kChunk;
    end = end > count ? count : end;
    for_each_channel_vector(c, [&](auto ln, int64_t j) {
      grad_rows<KW, R, kBias>(ln, c, in, dy, acc, acc_bias, begin, end, pad, width, in_row, j,
                              j == 0 ? next_x : nullptr, j == 0 ? next_dy : nullptr);
    });
    begin = end;
  }
}

// Filter rows in groups of up to 3 (KW = 3: 9 accumulators) or 2 (KW = 5: 10), so the accumulators fit
// the 16 registers of AVX2; the bias sum rides with the first group.
template <int KW>
void grad_row_kw(int64_t c, int64_t rows, const float* const* in, const float* dy, float* const* acc,
                 float* acc_bias, int64_t count, int64_t pad, int64_t width, const float* next_x,
                 const float* next_dy) {
  constexpr int64_t kGroup = KW == 3 ? 3 : 2;
  if (rows == 0) {
    if (acc_bias != nullptr) {
      grad_rows_all_channels<KW, 0, true>(c, in, dy, acc, acc_bias, count, pad, width, nullptr, next_dy);
    }
    return;
  }
  for (int64_t r0 = 0; r0 < rows; r0 += kGroup) {
    const int64_t n = rows - r0 < kGroup ? rows - r0 : kGroup;
    float* bias = r0 == 0 ? acc_bias : nullptr;
    const auto run = [&](auto r_const) {
      constexpr int R = decltype(r_const)::value;
      if (bias != nullptr) {
        grad_rows_all_channels<KW, R, true>(c, in + r0, dy, acc + r0, bias, count, pad, width,
                                            r0 == 0 ? next_x : nullptr, r0 == 0 ? next_dy : nullptr);
      } else {
        grad_rows_all_channels<KW, R, false>(c, in + r0, dy, acc + r0, nullptr, count, pad, width,
                                             r0 == 0 ? next_x : nullptr, r0 == 0 ? next_dy : nullptr);
      }
    };
    if (n == 1) run(IntConst<1>{});
    if (n == 2) run(IntConst<2>{});
    if constexpr (kGroup >= 3) {
      if (n == 3) run(IntConst<3>{});
    }
  }
}

inline void grad_row(int64_t c, int64_t kw, int64_t rows, const float* const* in, const float* dy, float* const* acc,
                     float* acc_bias, int64_t count, int64_t pad, int64_t width, const float* next_x,
                     const float* next_dy) {
  if (kw == 3) return grad_row_kw<3>(c, rows, in, dy, acc, acc_bias, count, pad, width, next_x, next_dy);
  if (kw == 5) return grad_row_kw<5>(c, rows, in, dy, acc, acc_bias, count, pad, width, next_x, next_dy);
}
