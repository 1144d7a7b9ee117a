// GEMM tests against a naive triple loop (double accumulation). Every buffer is a GuardedBuffer that
// ends at a PROT_NONE page, so any read or write past a matrix faults. Sweeps K around the K block
// (k < kc, k = kc, k > kc), M and N around every tile size (mr±1, nr±1), all transposes, every
// epilogue, accumulate on/off, bias on/off, strided sub-matrices, 1 and 2 threads, every ISA level and
// every registered micro-kernel (ukernels.inc), also called directly.
#include <cmath>
#include <cstring>
#include <functional>
#include <new>
#include <stdexcept>
#include <string>
#include <vector>

#include "kernels/gemm.h"
#include "runtime/dispatch.h"
#include "runtime/thread_pool.h"
#include "tests/testing.h"
#include "ukernels/gemm_pack.h"

using namespace tf;
using namespace tf::testing;

namespace {

const GemmActivation kActivations[] = {GemmActivation::none, GemmActivation::relu, GemmActivation::leaky_relu,
                                       GemmActivation::elu, GemmActivation::sigmoid, GemmActivation::tanh};

const char* act_name(GemmActivation a) {
  switch (a) {
    case GemmActivation::none: return "none";
    case GemmActivation::relu: return "relu";
    case GemmActivation::leaky_relu: return "leakyRelu";
    case GemmActivation::elu: return "elu";
    case GemmActivation::sigmoid: return "sigmoid";
    case GemmActivation::tanh: return "tanh";
  }
  return "?";
}

double activate_ref(GemmActivation act, double alpha, double x) {
  switch (act) {
    case GemmActivation::none: return x;
    case GemmActivation::relu: return x > 0 ? x : 0;
    case GemmActivation::leaky_relu: return x > 0 ? x : alpha * x;
    case GemmActivation::elu: return x > 0 ? x : alpha * (std::exp(x) - 1);
    case GemmActivation::sigmoid: return 1 / (1 + std::exp(-x));
    case GemmActivation::tanh: return std::tanh(x);
  }
  return x;
}

struct Case {
  int64_t m, n, k;
  bool trans_a = false, trans_b = false, accumulate = false, bias = false;
  GemmActivation act = GemmActivation::none;
  float alpha = 0.1f;
  int64_t pad_a = 0, pad_b = 0, pad_c = 0;  // extra row stride (sub-matrix views)
  const float* fixed_b = nullptr;            // B's values (same layout and stride) instead of random ones

  std::string str(const std::string& who) const {
    return std::string(who) + " m=" + std::to_string(m) + " n=" + std::to_string(n) + " k=" + std::to_string(k) +
           (trans_a ? " transA" : "") + (trans_b ? " transB" : "") + (accumulate ? " accumulate" : "") +
           (bias ? " bias" : "") + " act=" + act_name(act) + " pads=" + std::to_string(pad_a) + "," +
           std::to_string(pad_b) + "," + std::to_string(pad_c) + " threads=" + std::to_string(num_threads());
  }
};

// Elements spanned by `rows` rows of `cols` with row stride ld: the last row ends at the guard page.
size_t span(int64_t rows, int64_t cols, int64_t ld) { return static_cast<size_t>((rows - 1) * ld + cols); }

const float kGapSentinel = 12345.0f;

using GemmCall = std::function<void(const GemmArgs&)>;

// Runs one case through `call`; checks against the naive loop and that the gaps between C rows
// (ldc > n) are untouched. Returns C (densely) for identity checks.
std::vector<float> run_case_with(const Case& cs, const GemmCall& call, uint64_t seed, const std::string& who) {
  const int64_t a_rows = cs.trans_a ? cs.k : cs.m, a_cols = cs.trans_a ? cs.m : cs.k;
  const int64_t b_rows = cs.trans_b ? cs.n : cs.k, b_cols = cs.trans_b ? cs.k : cs.n;
  const int64_t lda = a_cols + cs.pad_a, ldb = b_cols + cs.pad_b, ldc = cs.n + cs.pad_c;
  Rng rng(seed);
  // k == 0 still needs a valid pointer for a and b: give them one element.
  GuardedBuffer a(cs.k > 0 ? span(a_rows, a_cols, lda) : 1), b(cs.k > 0 ? span(b_rows, b_cols, ldb) : 1);
  GuardedBuffer bias(static_cast<size_t>(cs.n)), c(span(cs.m, cs.n, ldc));
  rng.fill(a.data(), a.size());
  rng.fill(b.data(), b.size());
  if (cs.fixed_b != nullptr) std::memcpy(b.data(), cs.fixed_b, b.size() * sizeof(float));
  rng.fill(bias.data(), bias.size());
  // Without accumulate C starts as the NaN pattern: reading it would poison the result.
  if (cs.accumulate) rng.fill(c.data(), c.size());
  for (int64_t i = 0; i < cs.m; ++i)
    for (int64_t j = cs.n; j < ldc && i < cs.m - 1; ++j) c[static_cast<size_t>(i * ldc + j)] = kGapSentinel;

  std::vector<float> expected(static_cast<size_t>(cs.m * cs.n));
  for (int64_t i = 0; i < cs.m; ++i) {
    for (int64_t j = 0; j < cs.n; ++j) {
      double s = 0;
      for (int64_t p = 0; p < cs.k; ++p) {
        const double av = cs.trans_a ? a[static_cast<size_t>(p * lda + i)] : a[static_cast<size_t>(i * lda + p)];
        const double bv = cs.trans_b ? b[static_cast<size_t>(j * ldb + p)] : b[static_cast<size_t>(p * ldb + j)];
        s += av * bv;
      }
      if (cs.bias) s += bias[static_cast<size_t>(j)];
      if (cs.accumulate) s += c[static_cast<size_t>(i * ldc + j)];
      expected[static_cast<size_t>(i * cs.n + j)] = static_cast<float>(activate_ref(cs.act, cs.alpha, s));
    }
  }

  GemmArgs g;
  g.m = cs.m;
  g.n = cs.n;
  g.k = cs.k;
  g.a = a.data();
  g.lda = lda;
  g.trans_a = cs.trans_a;
  g.b = b.data();
  g.ldb = ldb;
  g.trans_b = cs.trans_b;
  g.c = c.data();
  g.ldc = ldc;
  g.bias = cs.bias ? bias.data() : nullptr;
  g.accumulate = cs.accumulate;
  g.activation = cs.act;
  g.alpha = cs.alpha;
  call(g);

  std::vector<float> actual(expected.size());
  for (int64_t i = 0; i < cs.m; ++i) {
    std::memcpy(&actual[static_cast<size_t>(i * cs.n)], &c[static_cast<size_t>(i * ldc)],
                static_cast<size_t>(cs.n) * sizeof(float));
    for (int64_t j = cs.n; j < ldc && i < cs.m - 1; ++j) {
      if (c[static_cast<size_t>(i * ldc + j)] != kGapSentinel) {
        fail("wrote between rows at row " + std::to_string(i) + " col " + std::to_string(j) + " | " + cs.str(who));
        break;
      }
    }
  }
  const float atol = 1e-5f + 2e-7f * static_cast<float>(cs.k);
  expect_close(actual.data(), expected.data(), expected.size(), atol, 1e-5f, cs.str(who));
  return actual;
}

// Runs one case with `uk` (or gemm() with the active table when null).
std::vector<float> run_case(const Case& cs, const GemmUkernel* uk, uint64_t seed, const std::string& who) {
  return run_case_with(
      cs,
      [&](const GemmArgs& g) {
        if (uk != nullptr) {
          gemm_with_ukernel(g, *uk);
        } else {
          gemm(g);
        }
      },
      seed, who);
}

std::vector<const GemmSmallMUkernelEntry*> all_small_m_ukernels() {
  int count = 0;
  const GemmSmallMUkernelEntry* e = gemm_small_m_ukernel_entries(&count);
  std::vector<const GemmSmallMUkernelEntry*> out;
  for (int i = 0; i < count; ++i) {
    if (kernel_table_for(e[i].isa) != nullptr) out.push_back(&e[i]);
  }
  return out;
}

std::vector<const GemmUkernelEntry*> all_ukernels() {
  int count = 0;
  const GemmUkernelEntry* e = gemm_ukernel_entries(&count);
  std::vector<const GemmUkernelEntry*> out;
  for (int i = 0; i < count; ++i) {
    // Only kernels this CPU can run (e.g. no AVX-512 kernels on an AVX2 machine).
    if (kernel_table_for(e[i].isa) != nullptr) out.push_back(&e[i]);
  }
  return out;
}

}  // namespace

TF_TEST(gemm_ukernel_list_has_one_default_per_isa) {
  int count = 0;
  const GemmUkernelEntry* e = gemm_ukernel_entries(&count);
  TF_CHECK(count >= 1 && std::string(e[0].ukernel.name) == "gemm_f32_4x16__scalar", "scalar kernel must come first");
  for (Isa isa : {Isa::scalar, Isa::avx2, Isa::avx512}) {
    int defaults = 0, any = 0;
    for (int i = 0; i < count; ++i) {
      if (e[i].isa != isa) continue;
      ++any;
      defaults += e[i].is_default ? 1 : 0;
    }
    TF_CHECK(any == 0 || defaults == 1, std::string("isa ") + isa_name(isa) + " needs exactly one default kernel");
  }
  for_each_isa([&](Isa isa) {
    const GemmUkernel& uk = kernels().gemm;
    TF_CHECK(uk.fn != nullptr && uk.mr >= 1 && uk.nr >= 1, std::string("no gemm kernel for ") + isa_name(isa));
  });
}

// Each micro-kernel alone: every valid corner (mr x nr) of its tile, C and bias sized exactly to that
// corner (ldc = nr), all load_c / finish / activation combinations.
TF_TEST(gemm_ukernels_direct) {
  for (const GemmUkernelEntry* e : all_ukernels()) {
    const GemmUkernel& uk = e->ukernel;
    for (int64_t kc : {0, 1, 5, 64}) {
      Rng rng(static_cast<uint64_t>(kc) * 7 + 1);
      std::vector<float> ap(static_cast<size_t>(std::max<int64_t>(kc, 1) * uk.mr));
      std::vector<float> bp(static_cast<size_t>(std::max<int64_t>(kc, 1) * uk.nr));
      rng.fill(ap.data(), ap.size());
      rng.fill(bp.data(), bp.size());
      // The packed panels must be 64-byte aligned: copy into aligned storage.
      float* a_al = static_cast<float*>(::operator new(ap.size() * sizeof(float), std::align_val_t{64}));
      float* b_al = static_cast<float*>(::operator new(bp.size() * sizeof(float), std::align_val_t{64}));
      std::memcpy(a_al, ap.data(), ap.size() * sizeof(float));
      std::memcpy(b_al, bp.data(), bp.size() * sizeof(float));
      for (int mv = 1; mv <= uk.mr; ++mv) {
        for (int nv : {1, uk.nr / 2 + 1, uk.nr - 1, uk.nr}) {
          if (nv < 1) continue;
          for (int mode = 0; mode < 8; ++mode) {
            const bool load_c = mode & 1, finish = mode & 2, with_bias = mode & 4;
            const GemmActivation act = kActivations[(mv + nv + mode) % 6];
            GuardedBuffer c(static_cast<size_t>(mv * nv)), bias(static_cast<size_t>(nv));
            rng.fill(c.data(), c.size());
            rng.fill(bias.data(), bias.size());
            std::vector<float> expected(c.size());
            for (int i = 0; i < mv; ++i) {
              for (int j = 0; j < nv; ++j) {
                double t = 0;
                for (int64_t p = 0; p < kc; ++p) t += double(a_al[p * uk.mr + i]) * b_al[p * uk.nr + j];
                if (load_c) t += c[static_cast<size_t>(i * nv + j)];
                if (finish) t = activate_ref(act, 0.2, t + (with_bias ? bias[static_cast<size_t>(j)] : 0.0));
                expected[static_cast<size_t>(i * nv + j)] = static_cast<float>(t);
              }
            }
            GemmTileEpilogue ep;
            ep.load_c = load_c;
            ep.finish = finish;
            ep.bias = with_bias ? bias.data() : nullptr;
            ep.activation = act;
            ep.alpha = 0.2f;
            uk.fn(kc, a_al, b_al, c.data(), nv, mv, nv, ep);
            expect_close(c.data(), expected.data(), expected.size(), 1e-5f + 2e-7f * kc, 1e-5f,
                         std::string(uk.name) + " kc=" + std::to_string(kc) + " mr=" + std::to_string(mv) +
                             " nr=" + std::to_string(nv) + " mode=" + std::to_string(mode) + " act=" + act_name(act));
          }
        }
      }
      ::operator delete(a_al, std::align_val_t{64});
      ::operator delete(b_al, std::align_val_t{64});
    }
  }
}

// One mv-row tile through a kernel's packed entry and through another of its entries on the same
// values (`packed` and `other` run the tile into c), for each epilogue mode (load_c x finish, relu) with
// columns(mode) valid columns, from the same random C: the bits must be identical.
template <typename Columns, typename Packed, typename Other>
void expect_entries_agree(const GemmUkernel& uk, int mv, Rng& rng, const std::string& what, Columns columns,
                          Packed packed, Other other) {
  for (int mode = 0; mode < 4; ++mode) {
    GemmTileEpilogue ep;
    ep.load_c = mode & 1;
    ep.finish = mode & 2;
    ep.activation = GemmActivation::relu;
    GuardedBuffer c1(static_cast<size_t>(mv * uk.nr)), c2(static_cast<size_t>(mv * uk.nr));
    rng.fill(c1.data(), c1.size());
    std::memcpy(c2.data(), c1.data(), c1.size() * sizeof(float));
    packed(c1.data(), columns(mode), ep);
    other(c2.data(), columns(mode), ep);
    expect_identical(c2.data(), c1.data(), c1.size(), what + " mr=" + std::to_string(mv) + " mode=" + std::to_string(mode));
  }
}

// Every kernel's strided-B entry (B read in place, row stride ldb > NR, unaligned) against its packed
// entry on the same values: bit-identical, as the driver relies on when it mixes in-place whole panels
// with a packed partial last panel. The B window ends at a guard page.
TF_TEST(gemm_ukernels_strided_b_match_packed) {
  for (const GemmUkernelEntry* e : all_ukernels()) {
    const GemmUkernel& uk = e->ukernel;
    TF_CHECK(uk.strided_b != nullptr, std::string(uk.name) + " registers its strided-B entry");
    for (int64_t kc : {1, 7, 64}) {
      const int64_t ldb = uk.nr + 5;
      Rng rng(static_cast<uint64_t>(kc) * 13 + 5);
      GuardedBuffer b(span(kc, uk.nr, ldb) + 1);  // +1: start one float in, so rows are unaligned
      rng.fill(b.data(), b.size());
      const float* b0 = b.data() + 1;
      float* a_al = static_cast<float*>(::operator new(static_cast<size_t>(kc * uk.mr) * sizeof(float), std::align_val_t{64}));
      float* bp = static_cast<float*>(::operator new(static_cast<size_t>(kc * uk.nr) * sizeof(float), std::align_val_t{64}));
      rng.fill(a_al, static_cast<size_t>(kc * uk.mr));
      for (int64_t p = 0; p < kc; ++p) std::memcpy(bp + p * uk.nr, b0 + p * ldb, sizeof(float) * static_cast<size_t>(uk.nr));
      for (int mv : {1, uk.mr / 2 + 1, uk.mr - 1, uk.mr}) {
        expect_entries_agree(
            uk, mv, rng, std::string(uk.name) + " strided_b kc=" + std::to_string(kc), [&](int) { return uk.nr; },
            [&](float* c, int nv, const GemmTileEpilogue& ep) { uk.fn(kc, a_al, bp, c, uk.nr, mv, nv, ep); },
            [&](float* c, int nv, const GemmTileEpilogue& ep) { uk.strided_b(kc, a_al, b0, ldb, c, uk.nr, mv, nv, ep); });
      }
      ::operator delete(a_al, std::align_val_t{64});
      ::operator delete(bp, std::align_val_t{64});
    }
  }
}

// Every kernel's strided-A entry (A read in place from rows lda floats apart, unaligned) and strided-AB
// entry (B in place too, rows ldb floats apart) against its packed entry on the same values:
// bit-identical. The A window holds mr rows rounded up to even (what the entries may read), the B
// window kc rows of nr columns; each ends at a guard page. Strided-AB and the transposer are registered
// exactly with strided-A (TF_GEMM_STRIDED_A). Where a kernel has them (TF_GEMM_STRIDED_AT), the
// strided-AT and strided-ATB entries read the same A stored transposed, also up to a guard page.
TF_TEST(gemm_ukernels_strided_a_and_ab_match_packed) {
  int with_entry = 0, with_at = 0;
  for (const GemmUkernelEntry* e : all_ukernels()) {
    const GemmUkernel& uk = e->ukernel;
    TF_CHECK((uk.strided_ab != nullptr) == (uk.strided_a != nullptr),
             std::string(uk.name) + " registers a strided-AB entry exactly when it reads A in place");
    TF_CHECK((uk.transpose != nullptr) == (uk.strided_a != nullptr),
             std::string(uk.name) + " registers a transposer exactly when it reads A in place");
    TF_CHECK((uk.strided_at != nullptr) == (uk.strided_atb != nullptr),
             std::string(uk.name) + " registers strided-AT and strided-ATB together");
    TF_CHECK(uk.strided_at == nullptr || uk.strided_a != nullptr,
             std::string(uk.name) + " reads a transposed A in place only with the strided-A entries");
    if (uk.strided_a == nullptr) continue;
    ++with_entry;
    for (int64_t kc : {1, 7, 64}) {
      const int64_t lda = kc + 3, ldb = uk.nr + 5;
      Rng rng(static_cast<uint64_t>(kc) * 17 + 3);
      GuardedBuffer b(span(kc, uk.nr, ldb) + 1);  // +1: start one float in, so rows are unaligned
      rng.fill(b.data(), b.size());
      const float* b0 = b.data() + 1;
      float* bp = static_cast<float*>(::operator new(static_cast<size_t>(kc * uk.nr) * sizeof(float), std::align_val_t{64}));
      for (int64_t p = 0; p < kc; ++p) std::memcpy(bp + p * uk.nr, b0 + p * ldb, sizeof(float) * static_cast<size_t>(uk.nr));
      for (int mv : {1, 2, uk.mr / 2 + 1, uk.mr - 1, uk.mr}) {
        const int64_t rows = (mv + 1) / 2 * 2;
        GuardedBuffer a(span(rows, kc, lda) + 1);
        rng.fill(a.data(), a.size());
        const float* a0 = a.data() + 1;
        float* ap = static_cast<float*>(::operator new(static_cast<size_t>(kc * uk.mr) * sizeof(float), std::align_val_t{64}));
        std::fill(ap, ap + kc * uk.mr, 0.0f);
        for (int64_t i = 0; i < mv; ++i) {
          for (int64_t p = 0; p < kc; ++p) ap[p * uk.mr + i] = a0[i * lda + p];
        }
        const auto packed = [&](float* c, int nv, const GemmTileEpilogue& ep) { uk.fn(kc, ap, bp, c, uk.nr, mv, nv, ep); };
        // 10 columns: a one-vector tile where the kernel has one.
        const auto columns = [&](int mode) { return mode < 2 ? uk.nr - 3 : 10; };
        const std::string what = std::string(uk.name) + " kc=" + std::to_string(kc);
        // The same A stored transposed (for strided_at / strided_atb): kc rows of `rows` values, ldat
        // apart, ending at a guard page.
        const int64_t ldat = rows + 5;
        GuardedBuffer at(span(kc, rows, ldat) + 1);
        const float* at0 = at.data() + 1;
        for (int64_t p = 0; p < kc; ++p) {
          for (int64_t i = 0; i < rows; ++i) at[static_cast<size_t>(1 + p * ldat + i)] = a0[i * lda + p];
        }
        using Entry = std::function<void(float*, int, const GemmTileEpilogue&)>;
        std::vector<std::pair<std::string, Entry>> entries = {
            {"strided_a", [&](float* c, int nv, const GemmTileEpilogue& ep) { uk.strided_a(kc, a0, lda, bp, c, uk.nr, mv, nv, ep); }},
            {"strided_ab",
             [&](float* c, int nv, const GemmTileEpilogue& ep) { uk.strided_ab(kc, a0, lda, b0, ldb, c, uk.nr, mv, nv, ep); }},
        };
        if (uk.strided_at != nullptr) {
          entries.push_back({"strided_at", [&](float* c, int nv, const GemmTileEpilogue& ep) {
                               uk.strided_at(kc, at0, ldat, bp, c, uk.nr, mv, nv, ep);
                             }});
          entries.push_back({"strided_atb", [&](float* c, int nv, const GemmTileEpilogue& ep) {
                               uk.strided_atb(kc, at0, ldat, b0, ldb, c, uk.nr, mv, nv, ep);
                             }});
          ++with_at;
        }
        for (const auto& [name, entry] : entries) expect_entries_agree(uk, mv, rng, what + " " + name, columns, packed, entry);
        ::operator delete(ap, std::align_val_t{64});
      }
      ::operator delete(bp, std::align_val_t{64});
    }
  }
#if defined(TF_HAVE_AVX512)
  if (kernel_table_for(Isa::avx512) != nullptr) {
    TF_CHECK(with_entry >= 1, "the AVX-512 kernels register strided-A entries");
    TF_CHECK(with_at >= 1, "the AVX-512 kernels register strided-AT entries");
  }
#endif
}

// Every kernel's packers (SIMD on the AVX levels) against the portable loops (ukernels/gemm_pack.h):
// odd row / column counts around the tile and the 8-wide transpose blocks, kc around 8 and 16, both
// transposes, strided sources. The source window ends at a guard page and the destination is a
// guarded buffer of exactly the packed size, so any read past the window or write past the panels
// faults; the packed bytes must match exactly (packing is a copy).
TF_TEST(gemm_packers_every_ukernel_match_portable) {
  for (const GemmUkernelEntry* e : all_ukernels()) {
    const GemmUkernel& uk = e->ukernel;
    TF_CHECK(uk.pack_a != nullptr && uk.pack_b != nullptr, std::string(uk.name) + " registers its packers");
    for (int64_t kc : {1, 3, 7, 8, 9, 15, 16, 17, 32, 33}) {
      for (int64_t count : std::vector<int64_t>{1, 2, 5, 7, 8, 9, 15, 16, 17, int64_t{uk.mr} - 1, int64_t{uk.mr}, int64_t{uk.mr} + 1,
                            int64_t{uk.nr} - 1, int64_t{uk.nr}, int64_t{uk.nr} + 1, 2 * int64_t{uk.nr} + 3}) {
        if (count < 1) continue;
        for (int trans = 0; trans < 2; ++trans) {
          for (int64_t pad : {0, 3}) {
            for (int side = 0; side < 2; ++side) {  // 0: A (count rows), 1: B (count columns)
              const int tile = side == 0 ? uk.mr : uk.nr;
              // Source: not transposed A is [count, kc] (B: [kc, count]); transposed the other way round.
              const bool rows_are_count = (side == 0) != (trans == 1);
              const int64_t src_rows = rows_are_count ? count : kc, src_cols = rows_are_count ? kc : count;
              const int64_t ld = src_cols + pad;
              GuardedBuffer src(span(src_rows, src_cols, ld));
              Rng rng(static_cast<uint64_t>(kc * 1000 + count * 10 + trans * 2 + side));
              rng.fill(src.data(), src.size());
              const size_t packed = static_cast<size_t>((count + tile - 1) / tile * tile * kc);
              GuardedBuffer got(packed);
              std::vector<float> want(packed, -1.0f);
              for (size_t i = 0; i < packed; ++i) got[i] = -1.0f;
              if (side == 0) {
                uk.pack_a(src.data(), ld, trans == 1, count, kc, got.data());
                pack_portable::pack_a(src.data(), ld, trans == 1, count, kc, uk.mr, want.data());
              } else {
                uk.pack_b(src.data(), ld, trans == 1, count, kc, got.data());
                pack_portable::pack_b(src.data(), ld, trans == 1, count, kc, uk.nr, want.data());
              }
              expect_identical(got.data(), want.data(), packed,
                               std::string(uk.name) + (side == 0 ? " pack_a" : " pack_b") + " kc=" + std::to_string(kc) +
                                   " count=" + std::to_string(count) + (trans ? " trans" : "") + " pad=" +
                                   std::to_string(pad));
            }
          }
        }
      }
    }
  }
}

// Every kernel's transposer (registered with its strided-A entry, checked above) against the portable
// loop: rows and columns around the 8x8 blocks, strided source and destination. The source window ends
// at a guard page, the destination is guarded and its gaps (ldd > rows) hold a sentinel that must survive.
TF_TEST(gemm_transposers_match_portable) {
  for (const GemmUkernelEntry* e : all_ukernels()) {
    const GemmUkernel& uk = e->ukernel;
    if (uk.transpose == nullptr) continue;
    for (int64_t rows : {1, 3, 7, 8, 9, 15, 16, 17, 33}) {
      for (int64_t cols : {1, 2, 7, 8, 9, 16, 17, 40}) {
        for (int64_t pad : {0, 5}) {
          const int64_t lds = cols + pad, ldd = rows + pad;
          GuardedBuffer src(span(rows, cols, lds));
          Rng rng(static_cast<uint64_t>(rows * 100 + cols * 2 + pad));
          rng.fill(src.data(), src.size());
          const size_t out = span(cols, rows, ldd);
          GuardedBuffer got(out);
          std::vector<float> want(out, kGapSentinel);
          for (size_t i = 0; i < out; ++i) got[i] = kGapSentinel;
          uk.transpose(src.data(), lds, rows, cols, got.data(), ldd);
          pack_portable::transpose(src.data(), lds, rows, cols, want.data(), ldd);
          expect_identical(got.data(), want.data(), out,
                           std::string(uk.name) + " transpose rows=" + std::to_string(rows) + " cols=" +
                               std::to_string(cols) + " pad=" + std::to_string(pad));
        }
      }
    }
  }
}

// Every registered micro-kernel through the full driver: K around kc, M around mr, N around nr, all
// transposes; epilogue / accumulate / bias / thread count vary with the case.
TF_TEST(gemm_edges_every_ukernel) {
  for (const GemmUkernelEntry* e : all_ukernels()) {
    const GemmUkernel& uk = e->ukernel;
    const int64_t kc = gemm_blocking(uk).kc;
    uint64_t seed = 1;
    int variant = 0;
    for (int64_t k : {int64_t{1}, kc - 1, kc, kc + 1, 2 * kc + 5}) {
      for (int64_t m : {int64_t{1}, int64_t{uk.mr} - 1, int64_t{uk.mr}, int64_t{uk.mr} + 1, 2 * int64_t{uk.mr} + 1}) {
        // 16, 17 and 40: the AVX-512 kernels run only the vectors a partial panel covers (one, two, and
        // for 6x64 three).
        for (int64_t n : {int64_t{1}, int64_t{16}, int64_t{17}, int64_t{40}, int64_t{uk.nr} - 1, int64_t{uk.nr}, int64_t{uk.nr} + 1, 2 * int64_t{uk.nr} + 3}) {
          if (m < 1 || n < 1) continue;
          for (int t = 0; t < 4; ++t) {
            Case cs{m, n, k};
            cs.trans_a = t & 1;
            cs.trans_b = t & 2;
            cs.act = kActivations[variant % 6];
            cs.accumulate = (variant / 6) % 2;
            cs.bias = (variant / 3) % 2;
            cs.alpha = cs.act == GemmActivation::elu ? 0.7f : 0.05f;
            ++variant;
            set_num_threads(1 + variant % 2);
            run_case(cs, &uk, seed++, uk.name);
          }
        }
      }
    }
  }
  set_num_threads(2);
}

// Every epilogue x accumulate x bias x transpose, on a shape with two K blocks and edge tiles, through
// the dispatch table at every ISA level and 1 and 2 threads.
TF_TEST(gemm_every_epilogue_every_isa) {
  for_each_isa([](Isa isa) {
    for_each_thread_count([&](int) {
      const int64_t kc = gemm_blocking(kernels().gemm).kc;
      uint64_t seed = 100;
      for (GemmActivation act : kActivations) {
        for (int mode = 0; mode < 16; ++mode) {
          Case cs{kernels().gemm.mr * 2 + 3, kernels().gemm.nr + 5, kc + 9};
          cs.accumulate = mode & 1;
          cs.bias = mode & 2;
          cs.trans_a = mode & 4;
          cs.trans_b = mode & 8;
          cs.act = act;
          cs.alpha = act == GemmActivation::elu ? 1.0f : 0.01f;
          run_case(cs, nullptr, seed++, isa_name(isa));
        }
      }
    });
  });
}

// Runs cs through gemm() at 1 and then 2 threads (checked against the naive loop each time); the two
// results must be bit-identical.
void expect_one_and_two_threads_agree(const Case& cs, uint64_t seed, const std::string& who) {
  set_num_threads(1);
  const std::vector<float> one = run_case(cs, nullptr, seed, who);
  set_num_threads(2);
  const std::vector<float> two = run_case(cs, nullptr, seed, who);
  expect_identical(two.data(), one.data(), one.size(), cs.str(who) + " (1 vs 2 threads)");
}

// Larger shapes that cross the N block (nc), use several M blocks and split across threads; 1 and 2
// threads must be bit-identical at every ISA level.
TF_TEST(gemm_blocks_and_threads_bit_identical) {
  for_each_isa([](Isa isa) {
    const GemmBlocking bl = gemm_blocking(kernels().gemm);
    const int64_t nr = kernels().gemm.nr;
    const Case shapes[] = {
        {bl.mc * 2 + 7, bl.nc + nr + 3, bl.kc + 17, false, false, false, true, GemmActivation::relu},
        {61, 257, 2 * bl.kc + 1, true, true, true, false, GemmActivation::tanh},
        {3, 4000, 300, false, true, false, true, GemmActivation::none},     // skinny: split over N
        {1031, 5, 257, true, false, true, true, GemmActivation::sigmoid},   // tall: split over M
    };
    uint64_t seed = 7;
    for (const Case& cs : shapes) {
      // gemm() stays on one thread below 2^20 multiply-adds (gemm.cc): smaller shapes would not split.
      TF_CHECK(cs.m * cs.n * cs.k >= (int64_t{1} << 20), cs.str(isa_name(isa)) + " is too small to run on 2 threads");
      expect_one_and_two_threads_agree(cs, seed, isa_name(isa));
      ++seed;
    }
  });
}

// Skinny products with an even number of K blocks split K across 2 threads (gemm.cc, "K split"): the
// blocks after thread 0's are summed into slabs and added in order. Each must round as on one thread
// (transposes, accumulate, bias, the activations the fold supports, two slabs), and a product whose
// activation the fold does not support must stay on the tile split.
TF_TEST(gemm_k_split_bit_identical) {
  for_each_isa([](Isa isa) {
    const int64_t kc = gemm_blocking(kernels().gemm).kc;
    struct Split {
      Case cs;
      bool splits;
    };
    Split cases[] = {
        {{64, 256, 2 * kc - 16, false, false, false, true, GemmActivation::relu}, true},   // a dense forward
        {{37, 150, 2 * kc, true, false, true, false, GemmActivation::none}, true},         // Aᵀ·B, C +=
        {{128, 97, 4 * kc - 3, false, true, false, true, GemmActivation::leaky_relu}, true},  // 2 slabs
        {{21, 301, 2 * kc - 40, true, true, true, true, GemmActivation::relu}, true},
        {{64, 256, 2 * kc - 16, false, false, false, true, GemmActivation::sigmoid}, false},
        {{64, 256, 3 * kc - 16, false, false, false, true, GemmActivation::relu}, false},  // 3 blocks
    };
    cases[3].cs.pad_a = 3;
    cases[3].cs.pad_c = 5;
    uint64_t seed = 31;
    for (const Split& sp : cases) {
      const Case& cs = sp.cs;
      GemmArgs args = gemm_dense_args(cs.m, cs.n, cs.k, nullptr, cs.trans_a, nullptr, cs.trans_b, nullptr);
      args.lda += cs.pad_a;
      args.activation = cs.act;
      const GemmUkernel& uk = gemm_choose_ukernel(args, kernels().gemm, kernels().gemm_alt);
      TF_CHECK(gemm_splits_k(args, uk, 2) == sp.splits,
               cs.str(isa_name(isa)) + (sp.splits ? " should split K" : " should not split K") + " at 2 threads");
      TF_CHECK(!gemm_splits_k(args, uk, 1), cs.str(isa_name(isa)) + " split K on 1 thread");
      expect_one_and_two_threads_agree(cs, seed, isa_name(isa));
      ++seed;
    }
  });
}

// Threads split C's columns in 16-column vectors (gemm.cc, grid_partition), so with a 32- or 64-column
// panel the second thread's rectangle can start inside one: it then runs as a product shifted to its
// first column (B, C and bias). Every kernel, 1 and 2 threads, against the naive loop (guard pages, the
// gaps between C rows) and bit-identical: B read in place, A and B in place (a narrow product), B
// packed, A or B transposed, bias and activation, accumulate, strided views.
TF_TEST(gemm_column_split_inside_panel_bit_identical) {
  for (const GemmUkernelEntry* e : all_ukernels()) {
    const GemmUkernel& uk = e->ukernel;
    Case cases[] = {
        {64, 784, 256, false, false, false, true, GemmActivation::relu},       // B in place
        {64, 144, 256, false, false, true, true, GemmActivation::leaky_relu},  // A and B in place
        {70, 800, 1000, false, false, false, true, GemmActivation::tanh},      // B packed
        {64, 784, 256, true, false, true, false, GemmActivation::none},        // Aᵀ·B, C +=
        {64, 784, 256, false, true, false, true, GemmActivation::elu},         // A·Bᵀ with bias: not swapped
    };
    cases[1].pad_a = 5;
    cases[1].pad_c = 3;
    cases[3].pad_b = 16;
    uint64_t seed = 71;
    for (Case cs : cases) {
      cs.alpha = cs.act == GemmActivation::elu ? 0.8f : 0.05f;
      GemmArgs args = gemm_dense_args(cs.m, cs.n, cs.k, nullptr, cs.trans_a, nullptr, cs.trans_b, nullptr);
      args.lda += cs.pad_a;
      args.ldb += cs.pad_b;
      args.ldc += cs.pad_c;
      args.activation = cs.act;
      args.accumulate = cs.accumulate;
      if (cs.bias) args.bias = &cs.alpha;  // only its presence matters to the driver's choices
      TF_CHECK(!gemm_splits_k(args, uk, 2) && !gemm_swaps_trans_b(args, uk), cs.str(uk.name) + " takes another path");
      TF_CHECK(cs.m * cs.n * cs.k >= (int64_t{1} << 20), cs.str(uk.name) + " is too small to run on 2 threads");
      const int64_t split = gemm_grid_first_column_end(args, uk, 2);
      TF_CHECK(split > 0 && split < cs.n && split % 16 == 0, cs.str(uk.name) + " splits columns at " + std::to_string(split));
      if (uk.nr > 16) {
        TF_CHECK(split % uk.nr != 0, cs.str(uk.name) + " splits at a panel boundary (" + std::to_string(split) + ")");
      }
      set_num_threads(1);
      const std::vector<float> one = run_case(cs, &uk, seed, uk.name);
      set_num_threads(2);
      const std::vector<float> two = run_case(cs, &uk, seed, uk.name);
      expect_identical(two.data(), one.data(), one.size(), cs.str(uk.name) + " (1 vs 2 threads)");
      ++seed;
    }
  }
  set_num_threads(2);
}

// A·Bᵀ with K >= 4M runs as Cᵀ = B·Aᵀ where the kernel reads A in place (gemm.cc, "transposed B with
// few rows"). Each case runs through every kernel at 1 and 2 threads (checked against the naive loop,
// guard pages, gaps between C rows), and must be bit-identical to the same product with B handed over
// already transposed (B [k,n], so the driver never swaps): the swap changes where B is read from, not
// a single rounding. Cases either side of the rule (K = 4M and just below, M = 16 and 15, 256 and 257,
// an epilogue, accumulate) check that only what it covers swaps.
TF_TEST(gemm_transposed_b_swap_bit_identical) {
  struct Swap {
    Case cs;
    bool swaps;  // on a kernel with a strided-A entry
  };
  std::vector<Swap> cases = {
      {{64, 256, 784, false, true}, true},        // bench-gemm's (M,K,N) = (64,784,256) with B transposed
      {{64, 784, 256, false, true}, true},        // and (64,256,784)
      {{16, 33, 64, false, true}, true},          // K = 4M exactly, N short of a panel
      {{17, 31, 401, false, true}, true},         // two K blocks (kc 400), odd M and N
      {{29, 65, 1205, true, true}, true},         // A stored [k,m] too, three K blocks
      {{130, 47, 521, false, true}, true},        // more rows than one 2-thread half holds
      {{40, 100, 200, true, true}, true},         // Aᵀ [k,m] with short rows: still packed as Cᵀ's B
      {{40, 300, 600, false, true}, true},        // big enough to run on 2 threads
      {{16, 16390, 67, false, true}, true},       // Cᵀ in two bands (of 1 MB each, 16 floats a row)
      {{15, 100, 400, false, true}, false},       // M < 16
      {{16, 40, 63, false, true}, false},         // K < 4M
      {{257, 50, 1100, false, true}, false},      // M > 256
      {{32, 64, 200, false, true, false, true}, false},                        // bias
      {{32, 64, 200, false, true, false, false, GemmActivation::relu}, false},  // activation
      {{32, 64, 200, false, true, true}, false},                                // accumulate
  };
  cases[3].cs.pad_a = 3;
  cases[3].cs.pad_b = 5;
  cases[3].cs.pad_c = 2;
  cases[4].cs.pad_b = 1;
  cases[4].cs.pad_c = 7;
  uint64_t seed = 101;
  for (const GemmUkernelEntry* e : all_ukernels()) {
    const GemmUkernel& uk = e->ukernel;
    for (const Swap& sw : cases) {
      const Case& cs = sw.cs;
      GemmArgs args = gemm_dense_args(cs.m, cs.n, cs.k, nullptr, cs.trans_a, nullptr, cs.trans_b, nullptr);
      args.bias = cs.bias ? &kGapSentinel : nullptr;
      args.accumulate = cs.accumulate;
      args.activation = cs.act;
      TF_CHECK(gemm_swaps_trans_b(args, uk) == (sw.swaps && uk.strided_a != nullptr),
               cs.str(uk.name) + (sw.swaps ? " should swap" : " should not swap"));
      for_each_thread_count([&](int) {
        // The same values with B already transposed: [k, n] with its own padding.
        std::vector<float> b_plain;
        const std::vector<float> swapped = run_case_with(
            cs,
            [&](const GemmArgs& g) {
              b_plain.assign(static_cast<size_t>(g.k * g.n), 0.0f);
              for (int64_t j = 0; j < g.n; ++j)
                for (int64_t p = 0; p < g.k; ++p) b_plain[static_cast<size_t>(p * g.n + j)] = g.b[j * g.ldb + p];
              gemm_with_ukernel(g, uk);
            },
            seed, uk.name);
        // Same seed: A is drawn first, so it comes out the same; fixed_b then overwrites B's draw. Bias and
        // C are drawn after B, so they match only where B's size does (no B padding): the cases with an
        // epilogue or accumulate have none.
        Case unswapped = cs;
        unswapped.trans_b = false;
        unswapped.pad_b = 0;
        unswapped.fixed_b = b_plain.data();
        const std::vector<float> packed = run_case_with(
            unswapped, [&](const GemmArgs& g) { gemm_with_ukernel(g, uk); }, seed, uk.name);
        expect_identical(swapped.data(), packed.data(), packed.size(), cs.str(uk.name) + " (B transposed vs not)");
      });
      ++seed;
    }
  }
  // gemm() picks the tile for the swapped product, whose N is m: the level's alternative (6x64 on
  // AVX-512) where m fills its columns and the K blocks match, else the default.
  for_each_isa([](Isa isa) {
    const KernelTable& t = kernels();
    if (!gemm_swaps_trans_b(gemm_dense_args(64, 256, 784, nullptr, false, nullptr, true, nullptr), t.gemm)) return;
    for (int64_t m : {32, 64, 128, 256}) {
      const GemmArgs args = gemm_dense_args(m, 256, 4 * m + 16, nullptr, false, nullptr, true, nullptr);
      const GemmUkernel& chosen = gemm_choose_ukernel(args, t.gemm, t.gemm_alt);
      const GemmUkernel& want = gemm_choose_packed_ukernel(args.k, m, t.gemm, t.gemm_alt);
      TF_CHECK(chosen.fn == want.fn, std::string(isa_name(isa)) + " m=" + std::to_string(m) + " chose " + chosen.name);
      // Where both tiles cut K alike (kc at its cap, as with a 48 KB L1), the rule comes down to padding.
      if (t.gemm_alt.fn != t.gemm.fn && gemm_blocking(t.gemm_alt).kc == gemm_blocking(t.gemm).kc &&
          t.gemm_alt.strided_a != nullptr) {
        const bool alt_fits = m % t.gemm_alt.nr == 0;
        TF_CHECK((chosen.fn == t.gemm_alt.fn) == alt_fits,
                 std::string(isa_name(isa)) + " m=" + std::to_string(m) + " chose " + chosen.name);
        // Threaded, up to 256 Cᵀ rows: the default tile, whose narrower panels let the threads split Cᵀ's
        // columns; past that, the single-thread choice.
        const GemmUkernel& threaded = gemm_choose_ukernel(args, t.gemm, t.gemm_alt, 2);
        TF_CHECK(threaded.fn == t.gemm.fn, std::string(isa_name(isa)) + " m=" + std::to_string(m) +
                                               " n=256, 2 threads, chose " + threaded.name);
        const GemmArgs wide = gemm_dense_args(m, 257, 4 * m + 16, nullptr, false, nullptr, true, nullptr);
        TF_CHECK(gemm_choose_ukernel(wide, t.gemm, t.gemm_alt, 2).fn == gemm_choose_packed_ukernel(wide.k, m, t.gemm, t.gemm_alt).fn,
                 std::string(isa_name(isa)) + " m=" + std::to_string(m) + " n=257, 2 threads");
      }
    }
  });
  // The tile gemm() runs a swapped product on may differ between 1 and 2 threads (above); the bits may not.
  for_each_isa([](Isa isa) {
    const Case shapes[] = {
        {64, 128, 256, false, true},   // bench-gemm's (M,K,N) = (64,256,128) with B transposed
        {48, 200, 400, false, true},   // Cᵀ's 48 columns split 32 / 16
        {64, 256, 1030, false, true},  // three K blocks
        {64, 128, 257, false, true},   // an odd K step after the pairs
        {40, 90, 700, true, true},     // A stored [k,m]; n not a multiple of 6 or 14
    };
    uint64_t seed = 211;
    for (const Case& cs : shapes) {
      TF_CHECK(cs.m * cs.n * cs.k >= (int64_t{1} << 20), cs.str(isa_name(isa)) + " is too small to run on 2 threads");
      expect_one_and_two_threads_agree(cs, seed++, isa_name(isa));
    }
  });
}

// gemm() picks the level's alternative tile by shape (gemm_choose_ukernel): the rule itself, and gemm()
// on shapes either side of it, every ISA, 1 and 2 threads, guard pages, both B layouts, K blocks: the
// result must be bit-identical to the chosen kernel run directly (and close to the naive loop).
TF_TEST(gemm_tile_choice_by_m) {
  // Only mr and the identity of fn matter to the rule. Padding counts the rows a kernel computes:
  // whole tiles and the last partial one rounded up to even (gemm_computed_rows).
  TF_CHECK(gemm_computed_rows(64, 14) == 64 && gemm_computed_rows(65, 14) == 66 && gemm_computed_rows(70, 14) == 70 &&
               gemm_computed_rows(13, 14) == 14 && gemm_computed_rows(16, 15) == 17 && gemm_computed_rows(1, 1) == 1,
           "computed rows: whole tiles, then the rest rounded up to even (at most a tile)");
  const GemmUkernel pref{&gemm_f32_4x16__scalar, 14, 32, "tall"}, alt{nullptr, 6, 64, "wide"};
  // An odd tile height still pads: 15-row tiles compute 17 rows for M=16 (8-row ones 16).
  const GemmUkernel pref_odd{&gemm_f32_4x16__scalar, 15, 32, "odd"}, alt8{nullptr, 8, 64, "eight"};
  GemmArgs g;
  g.m = 64;
  TF_CHECK(&gemm_choose_ukernel(g, pref, alt) == &pref, "m=64: 14-row tiles compute 64 rows (4 x 14 + 8)");
  g.m = 16;
  TF_CHECK(&gemm_choose_ukernel(g, pref_odd, alt8) == &alt8, "m=16: 15-row tiles pad a row, 8-row ones none");
  g.m = 16;
  {
    GemmUkernel pref_in_place = pref_odd;
    pref_in_place.strided_b = &gemm_f32_4x16__scalar_strided_b;
    GemmArgs h = g;
    h.ldb = 256;
    TF_CHECK(&gemm_choose_ukernel(h, pref_in_place, alt8) == &pref_in_place, "m=16, B read in place: the default");
    h.ldb = kGemmInPlaceMaxLdb + 1;
    h.k = gemm_blocking(pref_in_place).kc + 1;
    TF_CHECK(&gemm_choose_ukernel(h, pref_in_place, alt8) == &alt8, "m=16, B rows too long to read in place (2 K blocks)");
    h.k -= 1;
    TF_CHECK(gemm_reads_b_in_place(h, pref_in_place), "longer B rows are read in place when K is one block");
    h.ldb = kGemmInPlaceMaxLdbOneBlock;
    TF_CHECK(gemm_reads_b_in_place(h, pref_in_place), "B rows at the one-block limit: read in place");
    h.ldb = kGemmInPlaceMaxLdbOneBlock + 1;
    TF_CHECK(!gemm_reads_b_in_place(h, pref_in_place), "B rows past the one-block limit: packed");
    h.k = 0;
    h.ldb = 256;
    h.trans_b = true;
    TF_CHECK(&gemm_choose_ukernel(h, pref_in_place, alt8) == &alt8, "m=16, transposed B is packed");
    // In place only while op(A) is small: m * k <= kGemmInPlaceMaxMK.
    h.trans_b = false;
    h.k = kGemmInPlaceMaxMK / 16;
    TF_CHECK(gemm_reads_b_in_place(h, pref_in_place), "m*k at the in-place limit: B read in place");
    h.k += 1;
    TF_CHECK(!gemm_reads_b_in_place(h, pref_in_place), "m*k past the in-place limit: B packed");
    TF_CHECK(&gemm_choose_ukernel(h, pref_in_place, alt8) == &alt8, "m=16 with B packed (A too big): the alternative");
  }
  g.m = 1024;
  TF_CHECK(&gemm_choose_ukernel(g, pref, alt) == &pref, "m=1024: padding below 2% keeps the default");
  g.ldc = 2048;
  TF_CHECK(&gemm_choose_ukernel(g, pref, alt) == &alt, "C rows 8 KB apart: the shorter tile");
  g.ldc = 2047;
  TF_CHECK(&gemm_choose_ukernel(g, pref, alt) == &pref, "C rows 8 KB - 4 bytes apart: the default");
  g.ldc = 512;
  TF_CHECK(&gemm_choose_ukernel(g, pref, alt) == &alt, "C rows 2 KB apart: the shorter tile");
  g.ldc = 768;
  TF_CHECK(&gemm_choose_ukernel(g, pref, alt) == &pref, "C rows 3 KB apart: the default");
  g.ldc = 1024;
  g.m = 255;
  TF_CHECK(&gemm_choose_ukernel(g, pref, alt) == &pref, "C rows 4 KB apart but m < 256: the default");
  g.m = 1024;
  g.ldc = 0;
  g.m = 14;
  TF_CHECK(&gemm_choose_ukernel(g, pref, alt) == &pref, "m=14: the default pads nothing");
  g.m = 16;
  g.trans_a = true;
  TF_CHECK(&gemm_choose_ukernel(g, pref_odd, alt8) == &pref_odd, "transposed A keeps the default");
  TF_CHECK(&gemm_choose_ukernel(g, pref, pref) == &pref, "no alternative: the default");

  for_each_isa([](Isa isa) {
    const int64_t kc = gemm_blocking(kernels().gemm_alt).kc;
    const Case shapes[] = {
        {64, 77, kc + 9, false, false, true, true, GemmActivation::relu},
        {64, 130, 2 * kc + 5, false, true, false, true, GemmActivation::none},
        {20, 67, 33, false, true, true, false, GemmActivation::tanh},
        {64, 45, 57, true, true, false, true, GemmActivation::sigmoid},
        {257, 129, 71, false, false, false, false, GemmActivation::none},
        {64, kGemmInPlaceMaxLdb + 3, 37, false, false, true, true, GemmActivation::relu},
        // Wide B rows, read in place in one K block / packed over two.
        {64, kGemmInPlaceMaxLdbOneBlock - 5, kc - 3, false, false, true, true, GemmActivation::relu},
        {61, kGemmInPlaceMaxLdbOneBlock - 5, kc + 3, true, false, false, true, GemmActivation::none},
        {29, kGemmInPlaceMaxLdbOneBlock, 100, false, false, false, false, GemmActivation::none},
        // Either side of the in-place limit on m * k (B rows short enough): 257 * 255 reads B in place,
        // 257 * 256 packs it; K crosses a K block on some levels.
        {257, 77, kGemmInPlaceMaxMK / 257, true, false, true, false, GemmActivation::none},
        {257, 77, kGemmInPlaceMaxMK / 257 + 1, true, false, true, false, GemmActivation::none},
        {257, 77, kGemmInPlaceMaxMK / 257 + 1, false, false, false, true, GemmActivation::relu},
        // C rows 4 KB and 2 KB apart (ldc = 1024, 512) with B packed (two K blocks): the shorter tile
        // where the level has one; transposed A keeps the default.
        {256, 1021, kc + 3, false, false, true, true, GemmActivation::relu, 0.1f, 0, 0, 3},
        {256, 1021, kc + 3, true, true, false, false, GemmActivation::none, 0.1f, 0, 0, 3},
        {258, 509, kc + 3, false, true, false, true, GemmActivation::relu, 0.1f, 0, 0, 3},
    };
    uint64_t seed = 31;
    for (const Case& cs : shapes) {
      // The arguments gemm() will see (only the pointers are missing).
      GemmArgs shape = gemm_dense_args(cs.m, cs.n, cs.k, nullptr, cs.trans_a, nullptr, cs.trans_b, nullptr);
      shape.lda += cs.pad_a;
      shape.ldb += cs.pad_b;
      shape.ldc += cs.pad_c;
      static const float kSomeBias = 0.0f;
      shape.bias = cs.bias ? &kSomeBias : nullptr;
      shape.accumulate = cs.accumulate;
      shape.activation = cs.act;
      const GemmUkernel& chosen = gemm_choose_ukernel(shape, kernels().gemm, kernels().gemm_alt);
      const std::string who = std::string(isa_name(isa)) + " " + chosen.name;
      if (shape.ldc % 512 == 0 && cs.m >= 256 && cs.k > kc && kernels().gemm_alt.mr < kernels().gemm.mr) {
        TF_CHECK(&chosen == (cs.trans_a ? &kernels().gemm : &kernels().gemm_alt),
                 cs.str(who) + ": tile for ldc " + std::to_string(shape.ldc));
      }
      for_each_thread_count([&](int) {
        const std::vector<float> via_gemm = run_case(cs, nullptr, seed, who + " via gemm()");
        const std::vector<float> direct = run_case(cs, &chosen, seed, who + " direct");
        expect_identical(via_gemm.data(), direct.data(), direct.size(), cs.str(who) + " (gemm() vs chosen kernel)");
      });
      ++seed;
    }
  });
}

// Sub-matrix views (lda > k, ldb > n, ldc > n): gaps between rows are neither read into the result
// nor written; and k = 0 reduces to the epilogue.
TF_TEST(gemm_strides_and_k0) {
  for_each_isa([](Isa isa) {
    for_each_thread_count([&](int) {
      uint64_t seed = 900;
      for (int t = 0; t < 4; ++t) {
        Case cs{37, 45, 51};
        cs.trans_a = t & 1;
        cs.trans_b = t & 2;
        cs.pad_a = 3;
        cs.pad_b = 5;
        cs.pad_c = 7;
        cs.bias = true;
        cs.accumulate = t % 2;
        cs.act = GemmActivation::leaky_relu;
        run_case(cs, nullptr, seed++, isa_name(isa));
      }
      for (bool acc : {false, true}) {
        Case cs{5, 19, 0};
        cs.accumulate = acc;
        cs.bias = true;
        cs.act = GemmActivation::elu;
        cs.alpha = 0.5f;
        run_case(cs, nullptr, seed++, isa_name(isa));
      }
    });
  });
}

TF_TEST(gemm_rejects_bad_args) {
  float x[4] = {};
  GemmArgs g = gemm_dense_args(2, 2, 1, x, false, x, false, x);
  g.ldc = 1;  // < n
  bool threw = false;
  try {
    gemm(g);
  } catch (const std::invalid_argument&) {
    threw = true;
  }
  TF_CHECK(threw, "ldc < n must throw");
  g = gemm_dense_args(2, 2, 1, x, false, x, false, x);
  g.activation = GemmActivation::elu;
  g.alpha = 0.0f;
  threw = false;
  try {
    gemm(g);
  } catch (const std::invalid_argument&) {
    threw = true;
  }
  TF_CHECK(threw, "elu alpha 0 must throw");
  GemmActivation act;
  TF_CHECK(parse_gemm_activation("leakyRelu", &act) && act == GemmActivation::leaky_relu, "parse leakyRelu");
  TF_CHECK(!parse_gemm_activation("gelu", &act), "gelu is not an epilogue activation");
}

// --- small-M direct path ------------------------------------------------------------------------

TF_TEST(gemm_small_m_list_has_one_kernel_per_isa) {
  int count = 0;
  const GemmSmallMUkernelEntry* e = gemm_small_m_ukernel_entries(&count);
  TF_CHECK(count >= 1 && e[0].isa == Isa::scalar, "the scalar small-M kernel must come first");
  for (Isa isa : {Isa::scalar, Isa::avx2, Isa::avx512}) {
    int any = 0;
    for (int i = 0; i < count; ++i) any += e[i].isa == isa ? 1 : 0;
    TF_CHECK(any <= 1, std::string("isa ") + isa_name(isa) + " has more than one small-M kernel");
  }
  for (int i = 0; i < count; ++i) {
    TF_CHECK(e[i].ukernel.max_m >= 1 && e[i].ukernel.use_up_to_m >= 1 && e[i].ukernel.use_up_to_m <= 8,
             std::string(e[i].ukernel.name) + ": rows out of range");
  }
  for_each_isa([&](Isa isa) {
    TF_CHECK(kernels().gemm_small_m.fn != nullptr, std::string("no small-M kernel for ") + isa_name(isa));
  });
}

// Every small-M kernel through its driver: m = 1..8 (several row groups for the 4-row kernels), n
// around every strip width (16, 48, 64, 128 columns and the masked tails), k from 1 to past kc, A
// plain and transposed, strided views, every epilogue, 1 and 2 threads, guard pages after every buffer.
TF_TEST(gemm_small_m_every_kernel) {
  for (const GemmSmallMUkernelEntry* e : all_small_m_ukernels()) {
    const GemmSmallMUkernel& uk = e->ukernel;
    uint64_t seed = 3000;
    int variant = 0;
    for (int64_t m = 1; m <= 8; ++m) {
      for (int64_t n : {1, 7, 16, 17, 47, 48, 49, 64, 65, 129, 200}) {
        for (int64_t k : {1, 5, 64, 391}) {
          Case cs{m, n, k};
          cs.trans_a = variant % 2;
          cs.act = kActivations[variant % 6];
          cs.accumulate = (variant / 2) % 2;
          cs.bias = (variant / 3) % 2;
          cs.alpha = cs.act == GemmActivation::elu ? 0.7f : 0.05f;
          cs.pad_a = variant % 3;
          cs.pad_b = (variant / 5) % 2 * 3;
          cs.pad_c = (variant / 7) % 2 * 2;
          ++variant;
          set_num_threads(1 + variant % 2);
          run_case_with(cs, [&](const GemmArgs& g) { gemm_small_m_with_ukernel(g, uk); }, seed++, uk.name);
        }
      }
    }
  }
  set_num_threads(2);
}

// gemm() takes the direct path for small m at every ISA level; a shape big enough to split over two
// threads must give bit-identical results with 1 and 2 threads.
TF_TEST(gemm_small_m_through_gemm_threads_bit_identical) {
  for_each_isa([](Isa isa) {
    uint64_t seed = 4000;
    for (int64_t m : {1, 2, 5, 8}) {
      Case cs{m, 2000, 700};
      cs.trans_a = m % 2;
      cs.bias = true;
      cs.act = GemmActivation::sigmoid;
      set_num_threads(1);
      const std::vector<float> one = run_case(cs, nullptr, seed, isa_name(isa));
      set_num_threads(2);
      const std::vector<float> two = run_case(cs, nullptr, seed, isa_name(isa));
      expect_identical(two.data(), one.data(), one.size(), cs.str(isa_name(isa)) + " small-M (1 vs 2 threads)");
      ++seed;
    }
  });
}

TF_TEST(gemm_small_m_rejects_what_it_cannot_do) {
  float x[64] = {};
  const GemmSmallMUkernel& uk = kernels().gemm_small_m;
  for (auto [m, trans_b] : {std::pair<int64_t, bool>{9, false}, std::pair<int64_t, bool>{2, true}}) {
    GemmArgs g = gemm_dense_args(m, 2, 2, x, false, x, trans_b, x + 32);
    bool threw = false;
    try {
      gemm_small_m_with_ukernel(g, uk);
    } catch (const std::invalid_argument&) {
      threw = true;
    }
    TF_CHECK(threw, "small-M path must refuse m=" + std::to_string(m) + (trans_b ? " transB" : ""));
  }
}

// --- prepacked B --------------------------------------------------------------------------------

// For every registered micro-kernel: B packed once (plain and transposed, strided), then reused for
// several A / epilogue cases. Each result must match the naive loop and be bit-identical to the same
// kernel packing B on the fly; 1 and 2 threads. m includes sizes the direct path would take in gemm().
TF_TEST(gemm_prepacked_b_every_ukernel) {
  for (const GemmUkernelEntry* e : all_ukernels()) {
    const GemmUkernel& uk = e->ukernel;
    const GemmBlocking bl = gemm_blocking(uk);
    uint64_t seed = 5000;
    struct Dims {
      int64_t n, k;
    };
    for (Dims d : {Dims{1, 1}, Dims{uk.nr + 3, bl.kc}, Dims{2 * uk.nr - 1, bl.kc + 1}, Dims{bl.nc + 5, 2 * bl.kc + 7}}) {
      for (bool trans_b : {false, true}) {
        const int64_t pad_b = trans_b ? 2 : 0;
        const int64_t b_rows = trans_b ? d.n : d.k, b_cols = trans_b ? d.k : d.n, ldb = b_cols + pad_b;
        GuardedBuffer b(span(b_rows, b_cols, ldb));
        Rng rng(seed);
        rng.fill(b.data(), b.size());
        set_num_threads(2);
        const GemmPackedB packed = gemm_pack_b_with_ukernel(d.k, d.n, b.data(), ldb, trans_b, uk);
        TF_CHECK(packed.k == d.k && packed.n == d.n && packed.size() >= d.k * d.n, "packed B sizes");
        int variant = 0;
        // Even row counts and blocks of mc rows let kernels with a strided-A entry read A in place
        // (gemm.cc); odd last blocks are packed.
        for (int64_t m : {int64_t{1}, int64_t{uk.mr} + 1, int64_t{37}, 2 * int64_t{uk.mr} + 2, bl.mc + 6, 2 * bl.mc + 9}) {
          for (int threads : {1, 2}) {
            set_num_threads(threads);
            Case cs{m, d.n, d.k};
            cs.trans_a = (variant / 2) % 2;  // the same A layout at 1 and 2 threads
            cs.trans_b = trans_b;
            cs.pad_b = pad_b;
            cs.fixed_b = b.data();
            cs.pad_a = variant % 3;
            cs.bias = variant % 2 == 0;
            cs.accumulate = variant % 3 == 1;
            cs.act = kActivations[variant % 6];
            cs.alpha = cs.act == GemmActivation::elu ? 0.5f : 0.1f;
            ++variant;
            const std::string who = std::string(uk.name) + " prepacked";
            const std::vector<float> from_packed = run_case_with(
                cs, [&](const GemmArgs& g) { gemm_packed(g, packed); }, seed, who);
            const std::vector<float> on_the_fly = run_case(cs, &uk, seed, uk.name);
            expect_identical(from_packed.data(), on_the_fly.data(), on_the_fly.size(),
                             cs.str(who) + " (prepacked vs packing on the fly)");
          }
        }
        ++seed;
      }
    }
  }
  set_num_threads(2);
}

// gemm_pack_b picks the tile by (k, n) (gemm_choose_packed_ukernel) while gemm() picks by shape: on
// every ISA level, the default prepacked B must still give gemm()'s bits, on the shapes where each tile
// is picked (n = 256 / 120: the alternative where it has one; n = 10 / 84: the default), with rows in
// place and a last odd row tile packed, 1 and 2 threads.
TF_TEST(gemm_default_prepacked_b_rounds_as_gemm) {
  for_each_isa([](Isa isa) {
    const KernelTable& table = kernels();
    struct Dims {
      int64_t k, n;
    };
    for (Dims d : {Dims{784, 256}, Dims{400, 120}, Dims{128, 10}, Dims{120, 84}}) {
      const GemmUkernel& chosen = gemm_choose_packed_ukernel(d.k, d.n, table.gemm, table.gemm_alt);
      const int64_t pad_default = (d.n + table.gemm.nr - 1) / table.gemm.nr * table.gemm.nr - d.n;
      const int64_t pad_chosen = (d.n + chosen.nr - 1) / chosen.nr * chosen.nr - d.n;
      TF_CHECK(pad_chosen <= pad_default + d.n / 32,
               std::string(isa_name(isa)) + " packed tile " + chosen.name + " pads n=" + std::to_string(d.n) + " by " +
                   std::to_string(pad_chosen) + " columns, the default by " + std::to_string(pad_default));
      std::vector<float> b(static_cast<size_t>(d.k * d.n));
      Rng rng(77);
      rng.fill(b.data(), b.size());
      const GemmPackedB packed = gemm_pack_b(d.k, d.n, b.data(), d.n, false);
      TF_CHECK(packed.ukernel.fn == chosen.fn, std::string("gemm_pack_b packed for ") + packed.ukernel.name);
      uint64_t seed = 900;
      for (int64_t m : {int64_t{9}, int64_t{64}, int64_t{255}}) {
        for (int threads : {1, 2}) {
          set_num_threads(threads);
          Case cs{m, d.n, d.k};
          cs.fixed_b = b.data();
          cs.bias = true;
          cs.act = GemmActivation::relu;
          const std::string who = std::string(isa_name(isa)) + " default prepacked (" + chosen.name + ")";
          const std::vector<float> from_packed = run_case_with(cs, [&](const GemmArgs& g) { gemm_packed(g, packed); }, seed, who);
          const std::vector<float> direct = run_case(cs, nullptr, seed, "gemm()");
          expect_identical(from_packed.data(), direct.data(), direct.size(), cs.str(who) + " (prepacked vs gemm())");
          ++seed;
        }
      }
    }
  });
  set_num_threads(2);
}

TF_TEST(gemm_prepacked_b_rejects_mismatch) {
  float x[64] = {};
  const GemmPackedB packed = gemm_pack_b(4, 3, x, 3, false);
  GemmArgs g = gemm_dense_args(2, 3, 5, x, false, nullptr, false, x + 32);  // k 5 != 4
  bool threw = false;
  try {
    gemm_packed(g, packed);
  } catch (const std::invalid_argument&) {
    threw = true;
  }
  TF_CHECK(threw, "k mismatch must throw");
  threw = false;
  try {
    gemm_pack_b(4, 3, x, 2, false);  // ldb < n
  } catch (const std::invalid_argument&) {
    threw = true;
  }
  TF_CHECK(threw, "ldb < n must throw");
  threw = false;
  try {
    gemm_packed(gemm_dense_args(2, 3, 4, x, false, nullptr, false, x + 32), GemmPackedB{});
  } catch (const std::invalid_argument&) {
    threw = true;
  }
  TF_CHECK(threw, "an empty packed B must throw");
}
