// Convolution backward-filter (see conv2d_paths.h): the GEMM micro-kernel of the dispatch table on
// operands packed straight from x and dy, or, for filters whose rows are short runs of x, tf::gemm over
// bounded im2col tiles. Both reduce over pixels in parts fixed by the shape, added in part order, so
// results are bit-identical for any thread count.
#include <algorithm>
#include <cstdint>
#include <vector>

#include "kernels/conv2d_paths.h"
#include "kernels/conv2d_tiles.h"
#include "kernels/gemm.h"
#include "runtime/dispatch.h"
#include "runtime/thread_pool.h"

namespace tf::conv_detail {

void add_parts_in_order(float* acc, int64_t parts, int64_t size) {
  if (parts <= 1) return;
  parallel_for(size, grain_for(static_cast<double>(parts)), [&](int64_t begin, int64_t end) {
    for (int64_t part = 1; part < parts; ++part) {
      const float* p = acc + part * size;
      for (int64_t i = begin; i < end; ++i) acc[i] += p[i];
    }
  });
}
namespace {

// Backward-filter reductions over pixels are cut into at most this many parts, fixed by the shape; the
// parts run in parallel and their partial sums are added in part order.
constexpr int64_t kFilterParts = 16;
// Backward-filter im2col tile: at most this many floats (1 MiB), or one GEMM K block if a single pixel
// row of the tile is wider. This is the only workspace that grows with the layer, and it never grows
// with the batch.
constexpr int64_t kFilterTileFloats = int64_t{1} << 18;

}  // namespace

// --- backward-filter ------------------------------------------------------------------------------

// dw [KH,KW,Cg,OC], dbias [OC] <- dy [N,OH,OW,OC], x [N,H,W,C]
// Per group: [dw_g ; dbias_g] [K+1, OCg] = Σ over pixel tiles of colᵀ · dy_tile, where
//   col [P, K+1]: col[p, tap*Cg + ci] = x[pixel of p at tap, g*Cg + ci] (0 in the padding), col[p, K] = 1
//   dy_tile [P, OCg]: rows of dy read in place (row stride OC).
// Tiles of P pixels (P a multiple of the GEMM's K block, the im2col tile <= kFilterTileFloats floats,
// one per task) are accumulated in order into a [K+1, OCg] buffer (or its transpose, when that fits the
// GEMM micro-kernel's tile better) per part of consecutive tiles; parts (<= kFilterParts, fixed by the
// shape) run in parallel and are added in part order, so every dw and dbias element is summed in the
// same order for any thread count. Pointwise layers skip im2col: x itself is colᵀ's storage, and dbias
// is then a column sum of dy in the same fixed order.
void backward_filter_gemm(const Conv2dShape& s, float* dw, float* dbias, const float* dy, const float* x) {
  const int64_t cg = s.c_per_group(), ocg = s.oc_per_group(), taps = s.kh * s.kw;
  const int64_t k_rows = taps * cg;
  const int64_t pixels = s.n * s.oh * s.ow;
  const bool pointwise = is_pointwise(s);
  const int64_t rows = k_rows + (dbias != nullptr && !pointwise ? 1 : 0);
  const int64_t kc = gemm_blocking(kernels().gemm).kc;
  const int64_t tile = pointwise ? pixels : kc * std::max<int64_t>(1, kFilterTileFloats / (rows * kc));
  std::vector<float> acc;
  // Orientation: [rows, OCg] or its transpose, whichever wastes less of the micro-kernel's register tile
  // on padding (e.g. LeNet's 6 output channels would fill 6 of 32 columns). Depends on the shape only.
  const GemmUkernel& uk = kernels().gemm;
  auto fill = [](int64_t m, int64_t n, int64_t mr, int64_t nr) {
    return static_cast<double>(m) / static_cast<double>(ceil_div(m, mr) * mr) * static_cast<double>(n) /
           static_cast<double>(ceil_div(n, nr) * nr);
  };
  const bool transposed = fill(ocg, rows, uk.mr, uk.nr) > fill(rows, ocg, uk.mr, uk.nr);

  // Tiles are grouped into <= kFilterParts parts fixed by the shape; a part accumulates its tiles in
  // order on one thread (tf::gemm runs inline inside a pool task), parts are added in part order.
  const int64_t tiles = ceil_div(pixels, tile);
  const int64_t tiles_per_part = ceil_div(tiles, kFilterParts);
  const int64_t parts = ceil_div(tiles, tiles_per_part);
  const int64_t acc_size = rows * ocg;
  acc.resize(static_cast<size_t>(parts * acc_size));
  for (int64_t g = 0; g < s.groups; ++g) {
    parallel_for(parts, 1, [&](int64_t begin, int64_t end) {
      std::vector<float> col(pointwise ? 0 : static_cast<size_t>(std::min(tile, pixels) * rows));
      for (int64_t part = begin; part < end; ++part) {
        float* part_acc = acc.data() + part * acc_size;
        const int64_t first = part * tiles_per_part * tile;
        const int64_t last = std::min(pixels, (part + 1) * tiles_per_part * tile);
        for (int64_t p0 = first; p0 < last; p0 += tile) {
          const int64_t pt = std::min(tile, last - p0);
          GemmArgs a;
          a.m = rows;
          a.n = ocg;
          a.k = pt;
          a.trans_a = true;
          if (pointwise) {
            a.a = x + p0 * s.c + g * cg;
            a.lda = s.c;
          } else {
            gather_tile(s, x + g * cg, p0, pt, pt, rows, col.data());
            if (rows > k_rows) {
              for (int64_t p = 0; p < pt; ++p) col[p * rows + k_rows] = 1.0f;
            }
            a.a = col.data();
            a.lda = rows;
          }
          a.b = dy + p0 * s.oc + g * ocg;
          a.ldb = s.oc;
          a.c = part_acc;
          a.ldc = ocg;
          a.accumulate = p0 > first;
          if (transposed) {
            // accᵀ [OCg, rows] = dy_tileᵀ · col: the same products, tiles that fit OCg better.
            GemmArgs t;
            t.m = ocg;
            t.n = rows;
            t.k = pt;
            t.a = a.b;
            t.lda = a.ldb;
            t.trans_a = true;
            t.b = a.a;
            t.ldb = a.lda;
            t.c = part_acc;
            t.ldc = rows;
            t.accumulate = a.accumulate;
            gemm(t);
          } else {
            gemm(a);
          }
        }
      }
    });
    add_parts_in_order(acc.data(), parts, acc_size);
    for (int64_t k = 0; k < rows; ++k) {
      float* dst = k < k_rows ? dw + k * s.oc + g * ocg : dbias + g * ocg;
      if (transposed) {
        for (int64_t o = 0; o < ocg; ++o) dst[o] = acc[o * rows + k];
      } else {
        std::copy_n(acc.data() + k * ocg, ocg, dst);
      }
    }
  }
  if (dbias == nullptr || !pointwise) return;
  // Pointwise dbias: column sums of dy, each owned by one task and summed over pixels in order.
  constexpr int64_t kBlock = 16;
  parallel_for(ceil_div(s.oc, kBlock), grain_for(static_cast<double>(pixels) * kBlock), [&](int64_t begin, int64_t end) {
    for (int64_t b = begin; b < end; ++b) {
      const int64_t o0 = b * kBlock, o1 = std::min(s.oc, o0 + kBlock);
      std::fill(dbias + o0, dbias + o1, 0.0f);
      for (int64_t p = 0; p < pixels; ++p) {
        const float* dyp = dy + p * s.oc;
        for (int64_t o = o0; o < o1; ++o) dbias[o] += dyp[o];
      }
    }
  });
}

// 1x1, stride 1, no padding: per group, dw_gᵀ [OCg, Cg] = dy_gᵀ · x_g over all N*H*W pixels on tf::gemm
// (strided views, no copy). The pixels are cut into kFilterParts equal parts (fixed by the size); a part
// runs its pixels through the GEMM in chunks of at most kPointwiseChunk, each chunk accumulating onto the
// part's own sums, on one thread (tf::gemm runs inline inside a pool task), and the parts are added in
// part order: bit-identical for any thread count, with no barrier between chunks. dbias: each chunk's dy
// rows are summed first (add_column_sums, inline), which also brings them into cache for the GEMM's
// packing. This orientation (dy as the transposed A, M = OCg) measured 3-4 % faster than x as A (M = Cg)
// on the 1x1 128 -> 256 layer, 1 thread; the small result is transposed into dw at the end.
void backward_filter_pointwise(const Conv2dShape& s, float* dw, float* dbias, const float* dy, const float* x) {
  // Pixels per GEMM call. Measured on 1x1 128 -> 256, N = 32, AVX-512, 1 thread (ms, best of 8
  // interleaved, one part): 512 18.4, 1024 15.5, 2048 15.6, one call for all pixels with a separate dbias
  // pass 17.7; the in-place micro-kernel path (conv2d_filter_inplace.cc) took 18.2-18.9.
  constexpr int64_t kPointwiseChunk = 1024;
  const int64_t cg = s.c_per_group(), ocg = s.oc_per_group();
  const int64_t pixels = s.n * s.h * s.w;
  const int64_t per_part = ceil_div(pixels, kFilterParts), parts = ceil_div(pixels, per_part);
  const int64_t acc_size = s.groups * ocg * cg;  // [g][o][ci]
  std::vector<float> acc(static_cast<size_t>(parts * acc_size));
  std::vector<float> bias_acc(dbias != nullptr ? static_cast<size_t>(parts * s.oc) : 0, 0.0f);
  parallel_for(parts, 1, [&](int64_t begin, int64_t end) {
    for (int64_t part = begin; part < end; ++part) {
      const int64_t first = part * per_part, last = std::min(pixels, first + per_part);
      for (int64_t p0 = first; p0 < last; p0 += kPointwiseChunk) {
        const int64_t count = std::min(kPointwiseChunk, last - p0);
        if (dbias != nullptr) add_column_sums(dy + p0 * s.oc, count, s.oc, bias_acc.data() + part * s.oc);
        for (int64_t g = 0; g < s.groups; ++g) {
          GemmArgs a;
          a.m = ocg;
          a.n = cg;
          a.k = count;
          a.a = dy + p0 * s.oc + g * ocg;  // op(A)[o, p] = dy[p, g*OCg + o]: A stored [k, m] with row stride OC
          a.lda = s.oc;
          a.trans_a = true;
          a.b = x + p0 * s.c + g * cg;
          a.ldb = s.c;
          a.c = acc.data() + part * acc_size + g * ocg * cg;
          a.ldc = cg;
          a.accumulate = p0 > first;
          gemm(a);
        }
      }
    }
  });
  add_parts_in_order(acc.data(), parts, acc_size);
  if (dbias != nullptr) add_parts_in_order(bias_acc.data(), parts, s.oc);
  for (int64_t g = 0; g < s.groups; ++g) {
    const float* ag = acc.data() + g * ocg * cg;
    for (int64_t o = 0; o < ocg; ++o) {
      for (int64_t ci = 0; ci < cg; ++ci) dw[ci * s.oc + g * ocg + o] = ag[o * cg + ci];
    }
  }
  if (dbias != nullptr) std::copy_n(bias_acc.data(), s.oc, dbias);
}

// sums[j] += Σ_{p < rows} m[p*cols + j]: the rows are cut into parts of kSumRows (fixed by the size), each
// summed in row order by one task (a row at a time into an L1-resident row of sums: m is read front to back), and the
// parts are added to sums in part order: the same bits for any thread count.
void add_column_sums(const float* m, int64_t rows, int64_t cols, float* sums) {
  constexpr int64_t kSumRows = 256;
  // The active ISA's run adder (conv_width_ukernels.h: dst_stride 0 adds every row into one), or null.
  const ConvWidthUkernel* width = width_ukernel();
  const ConvAddRunsFn runs = width != nullptr ? width->add_runs : nullptr;
  const int64_t parts = ceil_div(rows, kSumRows);
  std::vector<float> partial(static_cast<size_t>(parts * cols));
  parallel_for(parts, 1, [&](int64_t begin, int64_t end) {
    for (int64_t part = begin; part < end; ++part) {
      const float* mp = m + part * kSumRows * cols;
      const int64_t count = std::min(kSumRows, rows - part * kSumRows);
      float* acc = partial.data() + part * cols;
      std::copy_n(mp, cols, acc);
      if (runs != nullptr) {
        runs(count - 1, cols, mp + cols, cols, acc, 0);
        continue;
      }
      for (int64_t p = 1; p < count; ++p) {
        const float* __restrict row = mp + p * cols;
        for (int64_t j = 0; j < cols; ++j) acc[j] += row[j];
      }
    }
  });
  for (int64_t part = 0; part < parts; ++part) {
    const float* p = partial.data() + part * cols;
    for (int64_t j = 0; j < cols; ++j) sums[j] += p[j];
  }
}

// Backward-filter on the GEMM micro-kernel of the dispatch table (kernels().gemm), without im2col. It
// computes the transpose of the product above, accᵀ [OCg, K+1] = Σ_blocks dy_blockᵀ · col_block, because
// then both packed operands are long contiguous copies: B panels (NR columns of col) are runs of x's
// channels for one tap (zeros in the padding, ones for the dbias column), A panels (MR rows) are runs of
// dy's channels. Each K block of kc pixels is packed once and fed straight to the micro-kernel, so the
// input is read once per block instead of being written to an im2col tile and re-packed by tf::gemm.
//
// Threading: the output is small and the reduction long, so the pixels are cut into at most
// kFilterParts parts fixed by the shape (never by the thread count); each part accumulates its own
// accᵀ over its K blocks in order on one thread, and the parts are added in part order at the end.
// One parallel_for per call (a barrier per K block costs more than the block on a busy machine).
// Workspace per part: the [OCg, K+1] accumulator, a packed B block (kc x round_up(K+1, NR)), an A panel
// (kc x MR) and the block's pointer offsets (KH*KW*kc).
void backward_filter_packed(const Conv2dShape& s, float* dw, float* dbias, const float* dy, const float* x) {
  const GemmUkernel& uk = kernels().gemm;
  const int mr = uk.mr, nr = uk.nr;
  const int64_t cg = s.c_per_group(), ocg = s.oc_per_group(), taps = s.kh * s.kw;
  const int64_t k_rows = taps * cg;
  const int64_t cols = k_rows + (dbias != nullptr ? 1 : 0);
  const int64_t pixels = s.n * s.oh * s.ow;
  const int64_t kc = gemm_blocking(uk).kc;
  const int64_t m_panels = ceil_div(ocg, mr), n_panels = ceil_div(cols, nr);
  const int64_t blocks = ceil_div(pixels, kc);
  const int64_t blocks_per_part = ceil_div(blocks, kFilterParts);
  const int64_t parts = ceil_div(blocks, blocks_per_part);
  const int64_t acc_size = ocg * cols;
  std::vector<float> acc(static_cast<size_t>(parts * acc_size));

  // The columns of B panel q as runs of x: channels ci.. of taps tap..last of one kernel row (a run spans
  // several taps when their channels are adjacent in x: one group, no horizontal dilation), or a constant
  // (tap < 0: ones for dbias, zeros for padding columns).
  struct Run {
    int64_t tap, last, ci, j, len;
    float fill;
  };
  const bool adjacent_taps = s.groups == 1 && s.dilation_w == 1;
  std::vector<std::vector<Run>> panel_runs(static_cast<size_t>(n_panels));
  for (int64_t q = 0; q < n_panels; ++q) {
    for (int64_t j = 0; j < nr;) {
      const int64_t col = q * nr + j;
      Run run{-1, -1, 0, j, 1, 0.0f};
      if (col < k_rows) {
        run.tap = col / cg;
        run.ci = col % cg;
        const int64_t row_left = adjacent_taps ? (s.kw - run.tap % s.kw) * cg - run.ci : cg - run.ci;
        run.len = std::min<int64_t>(nr - j, row_left);
        run.last = (col + run.len - 1) / cg;
      } else {
        run.fill = col == k_rows && dbias != nullptr ? 1.0f : 0.0f;
      }
      panel_runs[q].push_back(run);
      j += run.len;
    }
  }

  for (int64_t g = 0; g < s.groups; ++g) {
    const float* xg = x + g * cg;
    const float* dyg = dy + g * ocg;
    parallel_for(parts, 1, [&](int64_t begin, int64_t end) {
      AlignedFloats packed_b(n_panels * kc * nr), packed_a(kc * mr);
      float* bp = packed_b.get();
      float* ap = packed_a.get();
      std::vector<int64_t> base(static_cast<size_t>(taps * kc));
      for (int64_t part = begin; part < end; ++part) {
        float* part_acc = acc.data() + part * acc_size;
        const int64_t first = part * blocks_per_part * kc;
        const int64_t last = std::min(pixels, (part + 1) * blocks_per_part * kc);
        for (int64_t p0 = first; p0 < last; p0 += kc) {
          const int64_t kb = std::min(kc, last - p0);
          input_offsets(s, p0, static_cast<int>(kb), static_cast<int>(kb), base.data());  // base[t*kb + p]
          for (int64_t q = 0; q < n_panels; ++q) {
            for (const Run& run : panel_runs[q]) {
              float* d = bp + q * kb * nr + run.j;
              if (run.tap < 0) {
                for (int64_t p = 0; p < kb; ++p) std::fill_n(d + p * nr, run.len, run.fill);
                continue;
              }
              const int64_t* b = base.data() + run.tap * kb;
              const int64_t* b_last = base.data() + run.last * kb;
              const float* src = xg + run.ci;
              for (int64_t p = 0; p < kb; ++p) {
                if (b[p] >= 0 && b_last[p] >= 0) {
                  // First and last tap inside the row: so is every tap between, all adjacent in x.
                  copy_short(src + b[p], run.len, d + p * nr);
                  continue;
                }
                // Some taps of the run fall into the padding: tap by tap.
                for (int64_t u = run.tap, jj = 0; u <= run.last; ++u) {
                  const int64_t c0 = u == run.tap ? run.ci : 0;
                  const int64_t n = std::min(cg - c0, run.len - jj);
                  const int64_t bu = base[u * kb + p];
                  if (bu >= 0) {
                    copy_short(xg + bu + c0, n, d + p * nr + jj);
                  } else {
                    std::fill_n(d + p * nr + jj, n, 0.0f);
                  }
                  jj += n;
                }
              }
            }
          }
          GemmTileEpilogue ep;
          ep.load_c = p0 > first;
          for (int64_t m0 = 0; m0 < m_panels; ++m0) {
            const int64_t o0 = m0 * mr;
            const int mv = static_cast<int>(std::min<int64_t>(mr, ocg - o0));
            if (mv < mr) std::fill(ap, ap + kb * mr, 0.0f);
            for (int64_t p = 0; p < kb; ++p) copy_short(dyg + (p0 + p) * s.oc + o0, mv, ap + p * mr);
            for (int64_t q = 0; q < n_panels; ++q) {
              const int nv = static_cast<int>(std::min<int64_t>(nr, cols - q * nr));
              uk.fn(kb, ap, bp + q * kb * nr, part_acc + o0 * cols + q * nr, cols, mv, nv, ep);
            }
          }
        }
      }
    });
    add_parts_in_order(acc.data(), parts, acc_size);
    for (int64_t o = 0; o < ocg; ++o) {
      const float* a = acc.data() + o * cols;
      for (int64_t k = 0; k < k_rows; ++k) dw[k * s.oc + g * ocg + o] = a[k];
      if (dbias != nullptr) dbias[g * ocg + o] = a[k_rows];
    }
  }
}


const ConvPlanesUkernel& planes_ukernel() {
  static const ConvPlanesUkernel scalar{&conv_planes_f32__scalar, "conv_planes_f32__scalar"};
#if defined(TF_HAVE_AVX2)
  static const ConvPlanesUkernel avx2{&conv_planes_f32__avx2, "conv_planes_f32__avx2"};
  const ConvPlanesUkernel* avx2_entry = &avx2;
#else
  const ConvPlanesUkernel* avx2_entry = nullptr;
#endif
#if defined(TF_HAVE_AVX512)
  static const ConvPlanesUkernel avx512{&conv_planes_f32__avx512f, "conv_planes_f32__avx512f"};
  const ConvPlanesUkernel* avx512_entry = &avx512;
#else
  const ConvPlanesUkernel* avx512_entry = nullptr;
#endif
  return *entry_for_active_isa(&scalar, avx2_entry, avx512_entry);
}

// dw [KH,KW,C,OC], dbias [OC] <- dy [N,OH,OW,OC], x [N,H,W,C]   (one group)
// With x copied per image into zero-bordered channel planes, split by column phase (column c of the
// padded row goes to phase plane c % sw at c / sw), xt[ci][phase][pt+H+pb][ceil((pl+W+pr)/sw)], the
// inputs that one kernel tap (kh, kw, ci) meets along an output row are OW adjacent floats of one phase
// plane (ow*sw + kw*dw lands at column ow + (kw*dw)/sw of phase (kw*dw) % sw), so
//   dw[k = (kh*KW + kw)*C + ci, o] = Σ_n Σ_oh Σ_ow xt[ci][phase][oh*sh + kh*dh][ow + (kw*dw)/sw] · dy[n,oh,ow,o]
// is the convolution igemm with the roles swapped: rows = taps (a pointer per (output row, tap), kc = OW),
// columns = output channels (dy packed once per image into [pixel][NR] panels, or read in place when it
// has exactly NR channels and is 64-byte aligned), ks = OH; a row of ones gives dbias in the same
// product. No im2col, no per-pixel gather (which dominated LeNet conv1); every MR x NR tile sums a whole
// image in registers. Used for few channels (LeNet) and for larger ones (ResNet 3x3 64 -> 64, the
// strided 3x3), see conv2d.cc.
// Determinism: images are cut into <= kFilterParts parts fixed by N; a part sums its images' products in
// image order on one thread; parts are added in part order. Where dy is read from (in place or packed)
// does not change any value or order.
// Workspace per task: C*sw*(pt+H+pb)*ceil((pl+W+pr)/sw) + round_up(OC, NR)*OH*OW + (K+1)*OC floats,
// OH*MR*ceil((K+1)/MR) pointers.
void backward_filter_rows(const Conv2dShape& s, float* dw, float* dbias, const float* dy, const float* x,
                          const ConvIgemmUkernel& uk) {
  const int mr = uk.mr, nr = uk.nr;
  const int64_t k_rows = s.kh * s.kw * s.c;
  const int64_t rows = k_rows + (dbias != nullptr ? 1 : 0);
  const int64_t m_tiles = ceil_div(rows, mr), panels = ceil_div(s.oc, nr);
  const int64_t sw = s.stride_w;
  const int64_t hp = s.pad_top + s.h + s.pad_bottom, wq = ceil_div(s.pad_left + s.w + s.pad_right, sw);
  const int64_t plane = hp * wq, pixels = s.oh * s.ow;
  const int64_t images_per_part = ceil_div(s.n, kFilterParts), parts = ceil_div(s.n, images_per_part);
  const int64_t acc_size = rows * s.oc;
  std::vector<float> acc(static_cast<size_t>(parts * acc_size), 0.0f);
  const std::vector<float> zero(static_cast<size_t>(s.ow), 0.0f), ones(static_cast<size_t>(s.ow), 1.0f);

  const ConvPlanesFn planes = planes_ukernel().fn;
  parallel_for(parts, 1, [&](int64_t begin, int64_t end) {
    // Borders (and any column past the padded row in the last phase) stay zero; interiors are rewritten.
    std::vector<float> xt(static_cast<size_t>(s.c * sw * plane), 0.0f);
    const bool dy_in_place = s.oc == nr;  // and aligned: checked per image below
    AlignedFloats packed(panels * pixels * nr);
    float* dyp = packed.get();
    std::fill(dyp, dyp + panels * pixels * nr, 0.0f);  // padding columns stay zero; valid ones rewritten
    std::vector<float> t(static_cast<size_t>(acc_size));
    // ptr[m][oh][i]: the same for every image (they point into xt).
    std::vector<const float*> ptr(static_cast<size_t>(m_tiles * s.oh * mr));
    for (int64_t m = 0; m < m_tiles; ++m) {
      for (int i = 0; i < mr; ++i) {
        const int64_t k = m * mr + i;
        const int64_t kh = k / (s.kw * s.c), kw = k / s.c % s.kw, ci = k % s.c;
        const int64_t col = kw * s.dilation_w;
        for (int64_t oh = 0; oh < s.oh; ++oh) {
          const float* row = k >= rows ? zero.data() : k == k_rows ? ones.data()
                             : xt.data() + (ci * sw + col % sw) * plane + (oh * s.stride_h + kh * s.dilation_h) * wq + col / sw;
          ptr[(m * s.oh + oh) * mr + i] = row;
        }
      }
    }
    for (int64_t part = begin; part < end; ++part) {
      float* part_acc = acc.data() + part * acc_size;
      for (int64_t n = part * images_per_part; n < std::min(s.n, (part + 1) * images_per_part); ++n) {
        // One input row at a time per phase, by the active ISA's gathering transposer (conv_ukernels.h).
        const float* xn = x + n * s.h * s.w * s.c;
        for (int64_t ih = 0; ih < s.h; ++ih) {
          for (int64_t ph = 0; ph < sw; ++ph) {
            // The input columns iw of phase ph: (pl + iw) % sw == ph.
            const int64_t iw0 = ((ph - s.pad_left) % sw + sw) % sw;
            if (iw0 >= s.w) continue;
            planes(ceil_div(s.w - iw0, sw), s.c, xn + (ih * s.w + iw0) * s.c, sw * s.c,
                   xt.data() + ph * plane + (s.pad_top + ih) * wq + (s.pad_left + iw0) / sw, sw * plane);
          }
        }
        const float* dyn = dy + n * pixels * s.oc;
        const float* panel0 = dyp;
        if (dy_in_place && reinterpret_cast<uintptr_t>(dyn) % 64 == 0) {
          panel0 = dyn;  // dy's rows already are the one panel [pixel][NR]
        } else {
          for (int64_t q = 0; q < panels; ++q) {
            const int64_t valid = std::min<int64_t>(nr, s.oc - q * nr);
            float* dst = dyp + q * pixels * nr;
            for (int64_t p = 0; p < pixels; ++p, dst += nr) copy_short(dyn + p * s.oc + q * nr, valid, dst);
          }
        }
        for (int64_t m = 0; m < m_tiles; ++m) {
          const int mv = static_cast<int>(std::min<int64_t>(mr, rows - m * mr));
          for (int64_t q = 0; q < panels; ++q) {
            const int nv = static_cast<int>(std::min<int64_t>(nr, s.oc - q * nr));
            uk.fn(s.oh, s.ow, ptr.data() + m * s.oh * mr, panel0 + q * pixels * nr, t.data() + m * mr * s.oc + q * nr,
                  s.oc, mv, nv, nullptr, false);
          }
        }
        for (int64_t i = 0; i < acc_size; ++i) part_acc[i] += t[i];
      }
    }
  });
  add_parts_in_order(acc.data(), parts, acc_size);
  std::copy_n(acc.data(), k_rows * s.oc, dw);
  if (dbias != nullptr) std::copy_n(acc.data() + k_rows * s.oc, s.oc, dbias);
}

}  // namespace tf::conv_detail
