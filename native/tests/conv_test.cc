// conv2d forward / backward-input / backward-filter against naive double-precision loops written here
// (backward-input as a scatter, the opposite of the kernel's gather), with guard-page buffers, on every
// ISA level and thread count, over 1x1, general, few-channel, depthwise, grouped, strided, dilated and
// asymmetrically padded cases with odd sizes; plus bit-identity across thread counts.
#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "kernels/conv2d.h"
#include "kernels/conv2d_paths.h"
#include "runtime/dispatch.h"
#include "runtime/thread_pool.h"
#include "tests/testing.h"

using namespace tf;
using namespace tf::testing;

namespace {

struct Case {
  const char* name;
  Conv2dShape s;
};

// Fills in oh/ow from the other fields.
Conv2dShape make(int64_t n, int64_t h, int64_t w, int64_t c, int64_t kh, int64_t kw, int64_t oc, int64_t sh,
                 int64_t sw, int64_t dh, int64_t dw, int64_t pt, int64_t pb, int64_t pl, int64_t pr,
                 int64_t groups) {
  Conv2dShape s{n, h, w, c, kh, kw, oc, sh, sw, dh, dw, pt, pb, pl, pr, groups, 0, 0};
  s.oh = conv_output_size(h, kh, sh, dh, pt, pb);
  s.ow = conv_output_size(w, kw, sw, dw, pl, pr);
  return s;
}

std::vector<Case> cases() {
  return {
      {"1x1", make(2, 5, 7, 9, 1, 1, 13, 1, 1, 1, 1, 0, 0, 0, 0, 1)},
      {"3x3 pad1", make(2, 7, 6, 5, 3, 3, 11, 1, 1, 1, 1, 1, 1, 1, 1, 1)},
      {"5x5 C=1 pad2 (LeNet-like)", make(3, 9, 9, 1, 5, 5, 6, 1, 1, 1, 1, 2, 2, 2, 2, 1)},
      {"3x3 C=3 stride2 same", make(2, 9, 8, 3, 3, 3, 7, 2, 2, 1, 1, 1, 1, 0, 1, 1)},
      {"depthwise 3x3", make(2, 6, 7, 10, 3, 3, 10, 1, 1, 1, 1, 1, 1, 1, 1, 10)},
      {"depthwise multiplier 2 stride 2", make(1, 7, 7, 6, 3, 3, 12, 2, 2, 1, 1, 1, 0, 1, 0, 6)},
      {"grouped 3 groups", make(2, 6, 5, 9, 3, 2, 6, 1, 1, 1, 1, 1, 1, 0, 1, 3)},
      {"dilated 2 asym pad", make(1, 9, 10, 4, 3, 3, 5, 1, 2, 2, 2, 2, 1, 0, 3, 1)},
      {"stride 3 k1 (rows skipped)", make(1, 8, 7, 3, 1, 1, 4, 3, 3, 1, 1, 0, 0, 0, 0, 1)},
      {"wide oc > block", make(1, 4, 5, 3, 2, 2, 130, 1, 1, 1, 1, 0, 1, 1, 0, 1)},
      {"depthwise C > block", make(1, 5, 4, 70, 3, 3, 70, 1, 1, 1, 1, 1, 1, 1, 1, 70)},
      {"kernel bigger than input + pad", make(1, 2, 3, 2, 3, 4, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1)},
      // Paths added for issue 4 (see kernels/conv2d_paths.h).
      {"1x1 grouped (pointwise gemm per group)", make(2, 3, 5, 8, 1, 1, 6, 1, 1, 1, 1, 0, 0, 0, 0, 2)},
      {"1x1 stride 2 (not a plain gemm)", make(2, 7, 6, 9, 1, 1, 13, 2, 2, 1, 1, 0, 0, 0, 0, 1)},
      {"1x1 padded (not a plain gemm)", make(1, 4, 5, 6, 1, 1, 7, 1, 1, 1, 1, 1, 0, 0, 1, 1)},
      {"batch 1, oc 70 (crosses 32/64-column panels)", make(1, 5, 6, 12, 3, 3, 70, 1, 1, 1, 1, 1, 1, 1, 1, 1)},
      {"Cg 37 stride 2 dilation 2 (backward phases)", make(2, 9, 11, 37, 3, 3, 9, 2, 2, 2, 2, 2, 1, 2, 1, 1)},
      {"stride 3 x 2 Cg 5 (some phases without taps)", make(1, 10, 9, 5, 2, 3, 6, 3, 2, 1, 1, 0, 1, 1, 0, 1)},
      {"grouped Cg 8, OCg 40", make(1, 6, 7, 16, 3, 3, 80, 1, 1, 1, 1, 1, 1, 1, 1, 2)},
      {"backward-filter crosses im2col tiles", make(2, 26, 22, 32, 3, 3, 10, 1, 1, 1, 1, 0, 0, 0, 0, 1)},
      {"C=3 first layer 7x7 stride 2", make(2, 13, 12, 3, 7, 7, 16, 2, 2, 1, 1, 3, 3, 3, 3, 1)},
      {"depthwise C 37 dilated asym pad (interior runs)", make(2, 9, 17, 37, 3, 3, 37, 1, 1, 2, 2, 1, 2, 0, 3, 37)},
      {"depthwise C 80 5x5 stride (2,1)", make(1, 11, 14, 80, 5, 5, 80, 2, 1, 1, 1, 2, 2, 2, 2, 80)},
      {"1x1 C 70 -> 66 (igemm forward and backward-input)", make(2, 5, 7, 70, 1, 1, 66, 1, 1, 1, 1, 0, 0, 0, 0, 1)},
      {"3x3 C 9 -> 64 stride 2, OW 18 (rows backward-filter)", make(1, 6, 35, 9, 3, 3, 64, 2, 2, 1, 1, 1, 1, 1, 1, 1)},
      {"3x3 C 12 -> 64 pad 1, OW 17 (rows backward-filter)", make(2, 4, 17, 12, 3, 3, 64, 1, 1, 1, 1, 1, 1, 1, 1, 1)},
      // Interior igemm tiles (pointer tables from the tile's first pixel, conv2d_gemm.cc) next to edge
      // tiles and tiles across row ends: groups, dilation, a stride along the row, odd widths.
      {"interior tiles: Cg 8 OCg 64 dilation 2 pad 2, W 41", make(2, 7, 41, 16, 3, 3, 128, 1, 1, 2, 2, 2, 2, 2, 2, 2)},
      {"interior tiles: Cg 9 OCg 32 stride (1,2) dilation (1,2), W 45", make(1, 6, 45, 18, 3, 3, 64, 1, 2, 1, 2, 1, 0, 2, 1, 2)},
  };
}

std::string describe(const char* name, const Conv2dShape& s) {
  auto v = [](int64_t x) { return std::to_string(x); };
  return std::string(name) + ": x=[" + v(s.n) + "," + v(s.h) + "," + v(s.w) + "," + v(s.c) + "] k=" + v(s.kh) +
         "x" + v(s.kw) + " oc=" + v(s.oc) + " s=" + v(s.stride_h) + "," + v(s.stride_w) + " d=" + v(s.dilation_h) +
         "," + v(s.dilation_w) + " pad=" + v(s.pad_top) + "," + v(s.pad_bottom) + "," + v(s.pad_left) + "," +
         v(s.pad_right) + " g=" + v(s.groups) + " -> " + v(s.oh) + "x" + v(s.ow);
}

double activate(double v, const Conv2dEpilogue& e) {
  switch (e.activation) {
    case GemmActivation::none: return v;
    case GemmActivation::relu: return v < 0 ? 0 : v;
    case GemmActivation::leaky_relu: return v < 0 ? e.alpha * v : v;
    case GemmActivation::elu: return v < 0 ? e.alpha * std::expm1(v) : v;
    case GemmActivation::sigmoid: return 1 / (1 + std::exp(-v));
    case GemmActivation::tanh: return std::tanh(v);
  }
  return v;
}

// Calls f(x index, w index, y index) for every real (non-padding) product term of the convolution.
template <typename F>
void for_each_term(const Conv2dShape& s, F f) {
  const int64_t cg = s.c / s.groups, ocg = s.oc / s.groups;
  for (int64_t n = 0; n < s.n; ++n)
    for (int64_t oh = 0; oh < s.oh; ++oh)
      for (int64_t ow = 0; ow < s.ow; ++ow)
        for (int64_t oc = 0; oc < s.oc; ++oc)
          for (int64_t kh = 0; kh < s.kh; ++kh)
            for (int64_t kw = 0; kw < s.kw; ++kw) {
              const int64_t ih = oh * s.stride_h - s.pad_top + kh * s.dilation_h;
              const int64_t iw = ow * s.stride_w - s.pad_left + kw * s.dilation_w;
              if (ih < 0 || ih >= s.h || iw < 0 || iw >= s.w) continue;
              for (int64_t ci = 0; ci < cg; ++ci) {
                const int64_t xi = ((n * s.h + ih) * s.w + iw) * s.c + (oc / ocg) * cg + ci;
                const int64_t wi = ((kh * s.kw + kw) * cg + ci) * s.oc + oc;
                const int64_t yi = ((n * s.oh + oh) * s.ow + ow) * s.oc + oc;
                f(xi, wi, yi);
              }
            }
}

struct Buffers {
  GuardedBuffer x, w, bias, y, dy;
  explicit Buffers(const Conv2dShape& s)
      : x(s.x_size()), w(s.w_size()), bias(s.oc), y(s.y_size()), dy(s.y_size()) {
    Rng rng(static_cast<uint64_t>(s.x_size() * 31 + s.w_size()));
    rng.fill(x.data(), x.size());
    rng.fill(w.data(), w.size());
    rng.fill(bias.data(), bias.size());
    rng.fill(dy.data(), dy.size());
  }
};

std::vector<float> to_float(const std::vector<double>& v) { return std::vector<float>(v.begin(), v.end()); }

// The filter and bias gradients of s on b summed naively in double (rounded once), and the tolerance
// a float implementation summing n*oh*ow terms per weight gets against them.
struct FilterGradients {
  std::vector<float> dw, dbias;
  float tol = 0.0f;
};
FilterGradients naive_filter_gradients(const Conv2dShape& s, const Buffers& b) {
  std::vector<double> dw(static_cast<size_t>(s.w_size()), 0.0), dbias(static_cast<size_t>(s.oc), 0.0);
  for_each_term(s, [&](int64_t xi, int64_t wi, int64_t yi) { dw[wi] += double(b.x[xi]) * b.dy[yi]; });
  for (int64_t i = 0; i < s.y_size(); ++i) dbias[i % s.oc] += b.dy[i];
  return {to_float(dw), to_float(dbias), 1e-5f + 4e-7f * float(s.n * s.oh * s.ow)};
}

float tolerance(const Conv2dShape& s) { return 1e-5f + 4e-7f * static_cast<float>(s.kh * s.kw * s.c); }

}  // namespace

TF_TEST(conv_output_size_formula) {
  TF_CHECK(conv_output_size(28, 5, 1, 1, 2, 2) == 28, "LeNet conv1 'same'");
  TF_CHECK(conv_output_size(7, 3, 2, 1, 0, 0) == 3, "7 k3 s2");
  TF_CHECK(conv_output_size(9, 3, 1, 3, 0, 0) == 3, "dilation 3");
  TF_CHECK(conv_output_size(2, 5, 1, 1, 1, 1) == 0, "kernel larger than padded input");
  TF_CHECK(conv_output_size(1, 4, 3, 1, 0, 2) == 0, "negative span floors to no output");
}

TF_TEST(conv2d_forward_matches_naive) {
  const Conv2dEpilogue epilogues[] = {{GemmActivation::none, 0.0f}, {GemmActivation::relu, 0.0f},
                                      {GemmActivation::leaky_relu, 0.1f}, {GemmActivation::elu, 0.7f},
                                      {GemmActivation::sigmoid, 0.0f}, {GemmActivation::tanh, 0.0f}};
  for (const Case& c : cases()) {
    const Conv2dShape& s = c.s;
    Buffers b(s);
    for (int e = 0; e < 6; ++e) {
      const bool with_bias = e % 2 == 0;
      std::vector<double> sum(static_cast<size_t>(s.y_size()), 0.0);
      for_each_term(s, [&](int64_t xi, int64_t wi, int64_t yi) { sum[yi] += double(b.x[xi]) * b.w[wi]; });
      std::vector<double> expected(sum.size());
      for (size_t i = 0; i < sum.size(); ++i) {
        expected[i] = activate(sum[i] + (with_bias ? b.bias[i % s.oc] : 0.0), epilogues[e]);
      }
      const std::vector<float> want = to_float(expected);
      for_each_isa([&](Isa isa) {
        for_each_thread_count([&](int threads) {
          conv2d_forward(s, epilogues[e], b.x.data(), b.w.data(), with_bias ? b.bias.data() : nullptr, b.y.data());
          expect_close(b.y.data(), want.data(), want.size(), tolerance(s), 1e-5f,
                       describe(c.name, s) + " act=" + std::to_string(e) + " isa=" + isa_name(isa) +
                           " threads=" + std::to_string(threads));
        });
      });
    }
  }
}

TF_TEST(conv2d_backward_input_matches_naive) {
  for (const Case& c : cases()) {
    const Conv2dShape& s = c.s;
    Buffers b(s);
    GuardedBuffer dx(s.x_size());
    std::vector<double> expected(static_cast<size_t>(s.x_size()), 0.0);
    for_each_term(s, [&](int64_t xi, int64_t wi, int64_t yi) { expected[xi] += double(b.dy[yi]) * b.w[wi]; });
    const std::vector<float> want = to_float(expected);
    for_each_isa([&](Isa isa) {
      for_each_thread_count([&](int threads) {
        conv2d_backward_input(s, dx.data(), b.dy.data(), b.w.data());
        expect_close(dx.data(), want.data(), want.size(), 1e-5f + 4e-7f * float(s.kh * s.kw * s.oc), 1e-5f,
                     describe(c.name, s) + " isa=" + isa_name(isa) + " threads=" + std::to_string(threads));
      });
    });
  }
}

TF_TEST(conv2d_backward_filter_matches_naive) {
  for (const Case& c : cases()) {
    const Conv2dShape& s = c.s;
    Buffers b(s);
    GuardedBuffer dw(s.w_size()), dbias(s.oc);
    const FilterGradients naive = naive_filter_gradients(s, b);
    const std::vector<float>& want = naive.dw;
    const std::vector<float>& want_bias = naive.dbias;
    const float tol = naive.tol;
    for_each_isa([&](Isa isa) {
      for_each_thread_count([&](int threads) {
        const std::string context = describe(c.name, s) + " isa=" + isa_name(isa) + " threads=" + std::to_string(threads);
        conv2d_backward_filter(s, dw.data(), dbias.data(), b.dy.data(), b.x.data());
        expect_close(dw.data(), want.data(), want.size(), tol, 1e-5f, context + " dw");
        expect_close(dbias.data(), want_bias.data(), want_bias.size(), tol, 1e-5f, context + " dbias");
        // dbias null: dw alone, unchanged.
        conv2d_backward_filter(s, dw.data(), nullptr, b.dy.data(), b.x.data());
        expect_close(dw.data(), want.data(), want.size(), tol, 1e-5f, context + " dw (no dbias)");
      });
    });
  }
}

TF_TEST(conv2d_bit_identical_across_thread_counts) {
  // Big enough that every pass splits into several ranges.
  const Case big[] = {{"3x3 pad1", make(3, 17, 15, 8, 3, 3, 70, 1, 1, 1, 1, 1, 1, 1, 1, 1)},
                      {"depthwise", make(2, 19, 13, 72, 3, 3, 72, 2, 1, 1, 1, 1, 1, 1, 1, 72)},
                      {"LeNet-like C 1 5x5 pad 2 oc 6, 37 images", make(37, 12, 11, 1, 5, 5, 6, 1, 1, 1, 1, 2, 2, 2, 2, 1)},
                      {"C 5 5x5 oc 16, 21 images", make(21, 9, 10, 5, 5, 5, 16, 1, 1, 1, 1, 0, 0, 0, 0, 1)},
                      {"3x3 C 8 -> 64 stride 2, W 34, 20 images (rows backward-filter)", make(20, 9, 34, 8, 3, 3, 64, 2, 2, 1, 1, 1, 1, 1, 1, 1)},
                      {"1x1 C 70 -> 66, 2310 pixels (pointwise chunks)", make(2, 33, 35, 70, 1, 1, 66, 1, 1, 1, 1, 0, 0, 0, 0, 1)},
                      // The wide tile (AVX-512: 6x64, with its prefetch) forward and backward-input, odd C.
                      {"3x3 pad 1 C 67 -> 64, 5 images", make(5, 9, 11, 67, 3, 3, 64, 1, 1, 1, 1, 1, 1, 1, 1, 1)}};
  for (const Case& c : big) {
    const Conv2dShape& s = c.s;
    Buffers b(s);
    const Conv2dEpilogue relu{GemmActivation::relu, 0.0f};
    std::vector<float> y1, dx1, dw1, db1;
    GuardedBuffer dx(s.x_size()), dw(s.w_size()), db(s.oc);
    const int saved = num_threads();
    for (int threads : {1, 2, 3}) {
      set_num_threads(threads);
      conv2d_forward(s, relu, b.x.data(), b.w.data(), b.bias.data(), b.y.data());
      conv2d_backward_input(s, dx.data(), b.dy.data(), b.w.data());
      conv2d_backward_filter(s, dw.data(), db.data(), b.dy.data(), b.x.data());
      if (threads == 1) {
        y1.assign(b.y.data(), b.y.data() + b.y.size());
        dx1.assign(dx.data(), dx.data() + dx.size());
        dw1.assign(dw.data(), dw.data() + dw.size());
        db1.assign(db.data(), db.data() + db.size());
        continue;
      }
      const std::string context = describe(c.name, s) + " threads=" + std::to_string(threads);
      expect_identical(b.y.data(), y1.data(), y1.size(), context + " y");
      expect_identical(dx.data(), dx1.data(), dx1.size(), context + " dx");
      expect_identical(dw.data(), dw1.data(), dw1.size(), context + " dw");
      expect_identical(db.data(), db1.data(), db1.size(), context + " dbias");
    }
    set_num_threads(saved);
  }
}

// Every registered igemm micro-kernel called directly on its contract (conv_ukernels.h): each row of each
// tap its own guarded buffer of exactly kc floats (some taps the zero row), kc odd and even (the unrolled
// loops' tails), ks 0..3, partial rows and columns (nr not a multiple of 16), c with a wider ldc filled
// with a sentinel that must survive outside the mr x nr corner. The FMA kernels (every non-scalar ISA)
// must equal, bit for bit, the fmaf chain in the contract's order (s, then p); the scalar one the sum.
TF_TEST(conv_igemm_ukernels_match_contract) {
  int count = 0;
  const ConvIgemmUkernelEntry* entries = conv_igemm_ukernel_entries(&count);
  const float sentinel = -777.0f;
  for (int e = 0; e < count; ++e) {
    if (kernel_table_for(entries[e].isa) == nullptr) continue;
    const ConvIgemmUkernel& uk = entries[e].ukernel;
    const int mr = uk.mr, nr = uk.nr;
    const bool fused = entries[e].isa != Isa::scalar;
    for (const int64_t ks : {0, 1, 3}) {
      for (const int64_t kc : {1, 2, 5, 67}) {
        for (const int mv : {1, mr - 1, mr}) {
          for (const int nv : {1, 17, nr - 3, nr}) {
            if (mv < 1 || nv < 1 || nv > nr) continue;
            const std::string context = std::string(uk.name) + " ks=" + std::to_string(ks) + " kc=" +
                                        std::to_string(kc) + " mr=" + std::to_string(mv) + " nr=" + std::to_string(nv);
            Rng rng(static_cast<uint64_t>(ks * 1000 + kc * 10 + mv + nv * 7));
            GuardedBuffer zero(static_cast<size_t>(kc));
            std::fill(zero.data(), zero.data() + kc, 0.0f);
            std::vector<std::unique_ptr<GuardedBuffer>> rows;
            std::vector<const float*> a(static_cast<size_t>(std::max<int64_t>(ks, 1) * mr));
            for (int64_t t = 0; t < ks * mr; ++t) {
              const int64_t i = t % mr;
              if (i >= mv || (t * 7) % 5 == 0) {  // rows past mr, and some padding taps: the zero row
                a[t] = zero.data();
                continue;
              }
              rows.push_back(std::make_unique<GuardedBuffer>(static_cast<size_t>(kc)));
              rng.fill(rows.back()->data(), static_cast<size_t>(kc));
              a[t] = rows.back()->data();
            }
            GuardedBuffer w(static_cast<size_t>(std::max<int64_t>(ks * kc * nr, 1)));
            rng.fill(w.data(), w.size());
            for (int64_t k = 0; k < ks * kc; ++k)
              for (int j = nv; j < nr; ++j) w[k * nr + j] = 0.0f;
            GuardedBuffer bias(static_cast<size_t>(nv));
            rng.fill(bias.data(), bias.size());
            const int64_t ldc = nr + 3;
            for (const bool with_bias : {false, true}) {
              for (const bool relu : {false, true}) {
                GuardedBuffer c(static_cast<size_t>((mv - 1) * ldc + nr));
                std::fill(c.data(), c.data() + c.size(), sentinel);
                std::vector<float> want(c.size(), sentinel), sum(c.size(), sentinel);
                for (int i = 0; i < mv; ++i)
                  for (int j = 0; j < nv; ++j) {
                    float t = 0.0f;
                    double d = 0.0;
                    for (int64_t s = 0; s < ks; ++s)
                      for (int64_t p = 0; p < kc; ++p) {
                        const float x = a[s * mr + i][p], wv = w[(s * kc + p) * nr + j];
                        t = std::fma(x, wv, t);
                        d += double(x) * wv;
                      }
                    if (with_bias) t += bias[j], d += bias[j];
                    if (relu) t = t < 0.0f ? 0.0f : t, d = d < 0.0 ? 0.0 : d;
                    want[i * ldc + j] = t;
                    sum[i * ldc + j] = static_cast<float>(d);
                  }
                uk.fn(ks, kc, a.data(), w.data(), c.data(), ldc, mv, nv, with_bias ? bias.data() : nullptr, relu);
                const std::string ctx = context + (with_bias ? " bias" : "") + (relu ? " relu" : "");
                if (fused) {
                  expect_identical(c.data(), want.data(), want.size(), ctx);
                } else {
                  expect_close(c.data(), sum.data(), sum.size(), 1e-5f * float(ks * kc + 1), 1e-5f, ctx);
                }
              }
            }
          }
        }
      }
    }
  }
}

// Every registered igemm micro-kernel (not only the ones the dispatch table picks) through the forward,
// backward-input and (rows variant) backward-filter drivers, with guard pages, on shapes whose rows and columns cross the tiles.
TF_TEST(conv2d_every_igemm_ukernel_matches_naive) {
  const Case shapes[] = {
      {"3x3 pad1 oc 70", make(2, 7, 6, 5, 3, 3, 70, 1, 1, 1, 1, 1, 1, 1, 1, 1)},
      {"C 67 stride 2 dilated", make(1, 9, 8, 67, 3, 3, 11, 2, 2, 2, 1, 2, 0, 1, 1, 1)},
      {"grouped 2, Cg 20 OCg 33", make(1, 5, 9, 40, 2, 3, 66, 1, 2, 1, 1, 1, 0, 1, 1, 2)},
      {"C 3 5x5 stride 2 pad 2 (few channels)", make(2, 11, 9, 3, 5, 5, 7, 2, 2, 1, 1, 2, 2, 2, 2, 1)},
      {"C 1 5x5 stride 2x1 dilation 2x1 pad 2/1 2/1 oc 6", make(3, 13, 11, 1, 5, 5, 6, 2, 1, 2, 1, 2, 1, 2, 1, 1)},
      {"C 6 3x3 pad 1 oc 17, W 700 (3 row bands)", make(1, 9, 700, 6, 3, 3, 17, 1, 1, 1, 1, 1, 1, 1, 1, 1)},
      {"C 2 3x2 pad 0/1 1/0 oc 5, 37 images (13 parts)", make(37, 6, 5, 2, 3, 2, 5, 1, 1, 1, 1, 0, 1, 1, 0, 1)},
      // backward_filter_rows with column phases (stride_w > 1) and dy read in place (OC == NR).
      {"C 9 3x3 stride 3x2 dilation 1x2 pad 2/0 1/2 oc 16", make(2, 11, 13, 9, 3, 3, 16, 3, 2, 1, 2, 2, 0, 1, 2, 1)},
      {"C 10 3x3 stride 2 pad 1 oc 64, W 33", make(2, 9, 33, 10, 3, 3, 64, 2, 2, 1, 1, 1, 1, 1, 1, 1)},
      {"C 12 2x3 stride 1x3 pad 0/1 2/0 oc 32", make(1, 6, 20, 12, 2, 3, 32, 1, 3, 1, 1, 0, 1, 2, 0, 1)},
  };
  const Conv2dEpilogue relu{GemmActivation::relu, 0.0f};
  int count = 0;
  const ConvIgemmUkernelEntry* entries = conv_igemm_ukernel_entries(&count);
  for (const Case& c : shapes) {
    const Conv2dShape& s = c.s;
    Buffers b(s);
    GuardedBuffer dx(s.x_size());
    GuardedBuffer dw(s.w_size()), dbias(s.oc);
    std::vector<double> y(static_cast<size_t>(s.y_size()), 0.0), dxe(static_cast<size_t>(s.x_size()), 0.0);
    std::vector<double> dwe(static_cast<size_t>(s.w_size()), 0.0), dbe(static_cast<size_t>(s.oc), 0.0);
    for_each_term(s, [&](int64_t xi, int64_t wi, int64_t yi) {
      y[yi] += double(b.x[xi]) * b.w[wi];
      dxe[xi] += double(b.dy[yi]) * b.w[wi];
      dwe[wi] += double(b.x[xi]) * b.dy[yi];
    });
    for (int64_t i = 0; i < s.y_size(); ++i) dbe[i % s.oc] += b.dy[i];
    for (size_t i = 0; i < y.size(); ++i) y[i] = activate(y[i] + b.bias[i % s.oc], relu);
    const std::vector<float> want_y = to_float(y), want_dx = to_float(dxe);
    const std::vector<float> want_dw = to_float(dwe), want_bias = to_float(dbe);
    const float dw_tol = 1e-5f + 4e-7f * float(s.n * s.oh * s.ow);
    for (int e = 0; e < count; ++e) {
      if (kernel_table_for(entries[e].isa) == nullptr) continue;
      const ConvIgemmUkernel& uk = entries[e].ukernel;
      for_each_thread_count([&](int threads) {
        const std::string context = describe(c.name, s) + " ukernel=" + uk.name + " threads=" + std::to_string(threads);
        conv_detail::forward_igemm(s, relu, b.x.data(), b.w.data(), b.bias.data(), b.y.data(), uk);
        expect_close(b.y.data(), want_y.data(), want_y.size(), tolerance(s), 1e-5f, context + " y");
        if (s.groups == 1 && s.dilation_w == 1) {
          // Same products in the same order as forward_igemm: identical bits, not only close ones.
          GuardedBuffer y_rows(s.y_size());
          conv_detail::forward_igemm_rows(s, relu, b.x.data(), b.w.data(), b.bias.data(), y_rows.data(), uk);
          expect_identical(y_rows.data(), b.y.data(), want_y.size(), context + " y (rows)");
        }
        if (s.groups == 1) {
          conv_detail::backward_filter_rows(s, dw.data(), dbias.data(), b.dy.data(), b.x.data(), uk);
          expect_close(dw.data(), want_dw.data(), want_dw.size(), dw_tol, 1e-5f, context + " dw (rows)");
          expect_close(dbias.data(), want_bias.data(), want_bias.size(), dw_tol, 1e-5f, context + " dbias (rows)");
          // dy one float further on (one of the two is not 64-byte aligned: packed instead of read in place
          // when OC == NR): the same bits.
          {
            const std::vector<float> dw1(dw.data(), dw.data() + dw.size()), db1(dbias.data(), dbias.data() + dbias.size());
            GuardedBuffer dy2(s.y_size() + 1);
            std::copy(b.dy.data(), b.dy.data() + s.y_size(), dy2.data() + 1);
            conv_detail::backward_filter_rows(s, dw.data(), dbias.data(), dy2.data() + 1, b.x.data(), uk);
            expect_identical(dw.data(), dw1.data(), dw1.size(), context + " dw (rows, dy moved by one float)");
            expect_identical(dbias.data(), db1.data(), db1.size(), context + " dbias (rows, dy moved by one float)");
          }
          conv_detail::backward_filter_rows(s, dw.data(), nullptr, b.dy.data(), b.x.data(), uk);
          expect_close(dw.data(), want_dw.data(), want_dw.size(), dw_tol, 1e-5f, context + " dw (rows, no dbias)");
        }
        conv_detail::backward_input_igemm(s, dx.data(), b.dy.data(), b.w.data(), uk);
        expect_close(dx.data(), want_dx.data(), want_dx.size(), 1e-5f + 4e-7f * float(s.kh * s.kw * s.oc), 1e-5f,
                     context + " dx");
        conv_detail::backward_input_few_channels(s, dx.data(), b.dy.data(), b.w.data(), uk);
        expect_close(dx.data(), want_dx.data(), want_dx.size(), 1e-5f + 4e-7f * float(s.kh * s.kw * s.oc), 1e-5f,
                     context + " dx (dcol + col2im)");
      });
    }
  }
}

// Both backward-filter implementations (tf::gemm over im2col tiles, and the packed micro-kernel path)
// against naive sums on every ISA, with guard pages, on shapes that cross the K blocks (384 pixels), the
// register tiles (OC 70, K+1 = 118 or 604 columns) and groups; with and without dbias.
TF_TEST(conv2d_every_filter_path_matches_naive) {
  const Case shapes[] = {
      {"3x3 pad1 C 13 oc 70, 2 K blocks", make(2, 13, 17, 13, 3, 3, 70, 1, 1, 1, 1, 1, 1, 1, 1, 1)},
      {"C 67 stride 2 dilated", make(1, 9, 8, 67, 3, 3, 11, 2, 2, 2, 1, 2, 0, 1, 1, 1)},
      {"grouped 2, Cg 20 OCg 33", make(1, 5, 9, 40, 2, 3, 66, 1, 2, 1, 1, 1, 0, 1, 1, 2)},
      {"1x1 C 9 -> 5, 430 pixels", make(2, 15, 15, 9, 1, 1, 5, 1, 1, 1, 1, 0, 0, 0, 0, 1)},
      {"3x3 C 40 -> 7, 6400 pixels (17 blocks/tiles: parts of 2)", make(2, 42, 82, 40, 3, 3, 7, 1, 1, 1, 1, 0, 0, 0, 0, 1)},
  };
  for (const Case& c : shapes) {
    const Conv2dShape& s = c.s;
    Buffers b(s);
    GuardedBuffer dw(s.w_size()), dbias(s.oc);
    const FilterGradients naive = naive_filter_gradients(s, b);
    const std::vector<float>& want = naive.dw;
    const std::vector<float>& want_bias = naive.dbias;
    const float tol = naive.tol;
    for_each_isa([&](Isa isa) {
      for_each_thread_count([&](int threads) {
        for (int path = 0; path < 2; ++path) {
          const std::string context = describe(c.name, s) + (path == 0 ? " im2col+gemm" : " packed") +
                                      " isa=" + isa_name(isa) + " threads=" + std::to_string(threads);
          auto run = [&](float* db) {
            if (path == 0) conv_detail::backward_filter_gemm(s, dw.data(), db, b.dy.data(), b.x.data());
            else conv_detail::backward_filter_packed(s, dw.data(), db, b.dy.data(), b.x.data());
          };
          run(dbias.data());
          expect_close(dw.data(), want.data(), want.size(), tol, 1e-5f, context + " dw");
          expect_close(dbias.data(), want_bias.data(), want_bias.size(), tol, 1e-5f, context + " dbias");
          run(nullptr);
          expect_close(dw.data(), want.data(), want.size(), tol, 1e-5f, context + " dw (no dbias)");
        }
      });
    });
  }
}

// The pointwise backward-filter (tf::gemm over 1024-pixel chunks, dbias from add_column_sums) against
// naive sums on every ISA and thread count, with guard pages, on 1x1 shapes that cross chunks, the
// column sums' 256-row parts and groups; with and without dbias; and bit-identical across thread counts.
TF_TEST(conv2d_pointwise_filter_matches_naive) {
  const Case shapes[] = {
      {"1x1 C 19 -> 37, 1242 pixels (2 chunks)", make(2, 23, 27, 19, 1, 1, 37, 1, 1, 1, 1, 0, 0, 0, 0, 1)},
      {"1x1 C 70 -> 67, 3 images of 29x25 (3 chunks)", make(3, 29, 25, 70, 1, 1, 67, 1, 1, 1, 1, 0, 0, 0, 0, 1)},
      {"1x1 grouped 3, Cg 5 OCg 7, 1100 pixels", make(1, 20, 55, 15, 1, 1, 21, 1, 1, 1, 1, 0, 0, 0, 0, 3)},
      {"1x1 C 3 -> 1, 7 pixels", make(1, 1, 7, 3, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1)},
  };
  for (const Case& c : shapes) {
    const Conv2dShape& s = c.s;
    Buffers b(s);
    GuardedBuffer dw(s.w_size()), dbias(s.oc);
    const FilterGradients naive = naive_filter_gradients(s, b);
    const std::vector<float>& want = naive.dw;
    const std::vector<float>& want_bias = naive.dbias;
    const float tol = naive.tol;
    for_each_isa([&](Isa isa) {
      std::vector<float> dw1, db1;
      for_each_thread_count([&](int threads) {
        const std::string context = describe(c.name, s) + " isa=" + isa_name(isa) + " threads=" + std::to_string(threads);
        conv_detail::backward_filter_pointwise(s, dw.data(), dbias.data(), b.dy.data(), b.x.data());
        expect_close(dw.data(), want.data(), want.size(), tol, 1e-5f, context + " dw");
        expect_close(dbias.data(), want_bias.data(), want_bias.size(), tol, 1e-5f, context + " dbias");
        if (dw1.empty()) {
          dw1.assign(dw.data(), dw.data() + dw.size());
          db1.assign(dbias.data(), dbias.data() + dbias.size());
        } else {
          expect_identical(dw.data(), dw1.data(), dw1.size(), context + " dw vs the first thread count");
          expect_identical(dbias.data(), db1.data(), db1.size(), context + " dbias vs the first thread count");
        }
        conv_detail::backward_filter_pointwise(s, dw.data(), nullptr, b.dy.data(), b.x.data());
        expect_identical(dw.data(), dw1.data(), dw1.size(), context + " dw (no dbias)");
      });
    });
  }
}

// The active ISA's planes transposer against the plain loop: partial pixel blocks (count not a multiple
// of 16 or 8), odd channel counts, strided sources; nothing outside the written (ci, p) changes.
TF_TEST(conv_planes_matches_plain_loop) {
  for (const int64_t count : {1, 7, 16, 17, 56}) {
    for (const int64_t c : {1, 3, 64}) {
      for (const int64_t stride : {c, 2 * c + 1}) {
        const int64_t dst_stride = count + 5;
        GuardedBuffer src((count - 1) * stride + c), dst(c * dst_stride);
        Rng rng(static_cast<uint64_t>(count * 100 + c * 7 + stride));
        rng.fill(src.data(), src.size());
        for_each_isa([&](Isa isa) {
          for (int64_t i = 0; i < dst.size(); ++i) dst.data()[i] = -1.0f;
          conv_detail::planes_ukernel().fn(count, c, src.data(), stride, dst.data(), dst_stride);
          std::vector<float> want(static_cast<size_t>(dst.size()), -1.0f);
          for (int64_t p = 0; p < count; ++p)
            for (int64_t ci = 0; ci < c; ++ci) want[ci * dst_stride + p] = src.data()[p * stride + ci];
          expect_identical(dst.data(), want.data(), want.size(),
                           std::string(conv_detail::planes_ukernel().name) + " count " + std::to_string(count) + " c " +
                               std::to_string(c) + " stride " + std::to_string(stride) + " isa=" + isa_name(isa));
        });
      }
    }
  }
}

// add_column_sums adds to what sums holds, over 256-row parts (rows crossing them, odd column counts).
TF_TEST(conv_add_column_sums_matches_plain_sums) {
  for (const int64_t rows : {1, 255, 256, 700}) {
    for (const int64_t cols : {1, 17, 130}) {
      GuardedBuffer m(rows * cols), sums(cols);
      Rng rng(static_cast<uint64_t>(rows * 1000 + cols));
      rng.fill(m.data(), m.size());
      std::vector<double> want(static_cast<size_t>(cols));
      for (int64_t j = 0; j < cols; ++j) {
        sums.data()[j] = static_cast<float>(j);
        want[j] = static_cast<double>(j);
        for (int64_t p = 0; p < rows; ++p) want[j] += m.data()[p * cols + j];
      }
      const std::vector<float> wantf = to_float(want);
      for_each_isa([&](Isa isa) {
        for (int64_t j = 0; j < cols; ++j) sums.data()[j] = static_cast<float>(j);
        conv_detail::add_column_sums(m.data(), rows, cols, sums.data());
        expect_close(sums.data(), wantf.data(), wantf.size(), 1e-5f + 4e-7f * float(rows), 1e-5f,
                     "rows " + std::to_string(rows) + " cols " + std::to_string(cols) + " isa=" + isa_name(isa));
      });
    }
  }
}

// relu keeps NaN (as the reference backend does) on every path: igemm micro-kernels, the pointwise GEMM
// path (whose GEMM epilogue would map NaN to 0) and the direct depthwise loops.
TF_TEST(conv2d_relu_keeps_nan) {
  const Case shapes[] = {{"3x3", make(1, 4, 4, 3, 3, 3, 5, 1, 1, 1, 1, 1, 1, 1, 1, 1)},
                         {"1x1", make(1, 4, 4, 3, 1, 1, 5, 1, 1, 1, 1, 0, 0, 0, 0, 1)},
                         {"1x1 C 64 -> 64 (igemm)", make(1, 3, 5, 64, 1, 1, 64, 1, 1, 1, 1, 0, 0, 0, 0, 1)},
                         {"depthwise", make(1, 4, 4, 3, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 3)}};
  const Conv2dEpilogue relu{GemmActivation::relu, 0.0f};
  for (const Case& c : shapes) {
    Buffers b(c.s);
    b.x[0] = std::nanf("");
    for_each_isa([&](Isa isa) {
      conv2d_forward(c.s, relu, b.x.data(), b.w.data(), b.bias.data(), b.y.data());
      TF_CHECK(std::isnan(b.y[0]), describe(c.name, c.s) + " isa=" + isa_name(isa) + ": relu(NaN) must stay NaN");
    });
  }
}

// The width-vectorized one-channel paths (conv2d_width.cc) against naive sums: widths that are not
// multiples of 16 (and one > 32), batch 1, OC 1/5/6/7/17 (the 8-channel forward blocks and 4-channel
// backward-filter blocks both split), KW 1..7 (1..5-tap blocks), stride_h and dilation_h 2, every padding;
// every ISA, 1 and 2 threads, with dbias and without. An inf in x right of the window (lanes beyond OW
// read it) must not leak NaN into dw.
TF_TEST(conv2d_width_paths_match_naive) {
  const Case shapes[] = {
      {"LeNet conv1 shape, batch 3", make(3, 28, 28, 1, 5, 5, 6, 1, 1, 1, 1, 2, 2, 2, 2, 1)},
      {"batch 1, W 13, oc 1", make(1, 7, 13, 1, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1)},
      {"W 37 oc 5 k 3x7 pad 0/1 3/2", make(2, 6, 37, 1, 3, 7, 5, 1, 1, 1, 1, 0, 1, 3, 2, 1)},
      {"oc 7 k 4x1 stride_h 2 dilation_h 2", make(2, 11, 17, 1, 4, 1, 7, 2, 1, 2, 1, 1, 2, 0, 0, 1)},
      {"oc 17 k 2x6 W 16", make(1, 5, 16, 1, 2, 6, 17, 1, 1, 1, 1, 0, 0, 0, 0, 1)},
      {"oc 6 valid 5x5 W 9 (OW 5)", make(2, 9, 9, 1, 5, 5, 6, 1, 1, 1, 1, 0, 0, 0, 0, 1)},
  };
  const Conv2dEpilogue relu{GemmActivation::relu, 0.0f};
  for (const Case& c : shapes) {
    const Conv2dShape& s = c.s;
    TF_CHECK(conv_detail::width_path_applies(s), describe(c.name, s) + ": the width path must take this shape");
    Buffers b(s);
    GuardedBuffer dw(s.w_size()), dbias(s.oc);
    std::vector<double> y(static_cast<size_t>(s.y_size()), 0.0), dwe(static_cast<size_t>(s.w_size()), 0.0);
    std::vector<double> dbe(static_cast<size_t>(s.oc), 0.0);
    for_each_term(s, [&](int64_t xi, int64_t wi, int64_t yi) {
      y[yi] += double(b.x[xi]) * b.w[wi];
      dwe[wi] += double(b.x[xi]) * b.dy[yi];
    });
    for (int64_t i = 0; i < s.y_size(); ++i) dbe[i % s.oc] += b.dy[i];
    for (size_t i = 0; i < y.size(); ++i) y[i] = activate(y[i] + b.bias[i % s.oc], relu);
    const std::vector<float> want_y = to_float(y), want_dw = to_float(dwe), want_bias = to_float(dbe);
    const float dw_tol = 1e-5f + 4e-7f * float(s.n * s.oh * s.ow);
    for_each_isa([&](Isa isa) {
      const ConvWidthUkernel* uk = conv_detail::width_ukernel();
      TF_CHECK(uk != nullptr, "width kernels exist with GCC/Clang");
      if (uk == nullptr) return;
      for_each_thread_count([&](int threads) {
        const std::string context = describe(c.name, s) + " " + uk->name + " isa=" + isa_name(isa) +
                                    " threads=" + std::to_string(threads);
        conv_detail::forward_width(s, relu, b.x.data(), b.w.data(), b.bias.data(), b.y.data(), *uk);
        expect_close(b.y.data(), want_y.data(), want_y.size(), tolerance(s), 1e-5f, context + " y");
        conv_detail::backward_filter_width(s, dw.data(), dbias.data(), b.dy.data(), b.x.data(), *uk);
        expect_close(dw.data(), want_dw.data(), want_dw.size(), dw_tol, 1e-5f, context + " dw");
        expect_close(dbias.data(), want_bias.data(), want_bias.size(), dw_tol, 1e-5f, context + " dbias");
        conv_detail::backward_filter_width(s, dw.data(), nullptr, b.dy.data(), b.x.data(), *uk);
        expect_close(dw.data(), want_dw.data(), want_dw.size(), dw_tol, 1e-5f, context + " dw (no dbias)");
        // The last real column only meets tap kx = KW-1 (pad_right 0); the masked lanes past OW read it
        // for the other taps, which must stay finite.
        if (s.pad_right == 0 && s.kw > 1) {
          const float saved = b.x[s.w - 1];
          b.x[s.w - 1] = INFINITY;
          conv_detail::backward_filter_width(s, dw.data(), nullptr, b.dy.data(), b.x.data(), *uk);
          b.x[s.w - 1] = saved;
          bool finite = true;
          for (int64_t t = 0; t < s.kh * s.kw; ++t) {
            if (t % s.kw == s.kw - 1) continue;
            for (int64_t o = 0; o < s.oc; ++o) finite = finite && std::isfinite(dw[t * s.oc + o]);
          }
          TF_CHECK(finite, context + ": an inf outside the taps' windows leaked into dw");
        }
      });
    });
  }
}

// add_runs (the col2im of few-channel backward-input) on every ISA: the same bits as the plain run-by-run
// loop, for overlapping runs (dst stride < len: the AVX-512 kernel adds them chunk by chunk in registers),
// disjoint and single runs, lengths around the 16-float vectors; guard pages after src and dst.
TF_TEST(conv_add_runs_matches_plain_loop) {
  struct RunCase { int64_t count, len, src_stride, dst_stride; };
  const RunCase runs[] = {{10, 30, 150, 6}, {7, 30, 150, 12}, {5, 17, 40, 3}, {9, 16, 16, 16}, {1, 33, 0, 0},
                          {4, 5, 9, 1}, {3, 48, 60, 7}, {1, 1, 0, 0}};
  for (const RunCase& r : runs) {
    const int64_t dst_len = (r.count - 1) * r.dst_stride + r.len, src_len = (r.count - 1) * r.src_stride + r.len;
    GuardedBuffer src(src_len), dst(dst_len);
    Rng rng(static_cast<uint64_t>(dst_len * 7 + src_len));
    rng.fill(src.data(), src.size());
    std::vector<float> start(static_cast<size_t>(dst_len));
    rng.fill(start.data(), start.size());
    std::vector<float> want = start;
    for (int64_t i = 0; i < r.count; ++i)
      for (int64_t k = 0; k < r.len; ++k) want[i * r.dst_stride + k] += src[i * r.src_stride + k];
    for_each_isa([&](Isa isa) {
      const ConvWidthUkernel* uk = conv_detail::width_ukernel();
      if (uk == nullptr) return;
      std::copy(start.begin(), start.end(), dst.data());
      uk->add_runs(r.count, r.len, src.data(), r.src_stride, dst.data(), r.dst_stride);
      expect_identical(dst.data(), want.data(), want.size(),
                       std::string(uk->name) + " isa=" + isa_name(isa) + " count=" + std::to_string(r.count) +
                           " len=" + std::to_string(r.len) + " dst_stride=" + std::to_string(r.dst_stride));
    });
  }
}

// Backward-input vectorized across 16 dy channels (conv2d_ocvec.cc) against the naive scatter, with guard
// pages, on every ISA and thread count: the LeNet conv2 shape, odd widths, batch 1, C 1..8, OC 12..64
// (including OC not a multiple of 16), valid / same / asymmetric and over-sized padding (dx rows that no
// kernel row reaches), and bit identity across 1, 2 and 3 threads; shapes outside its domain must not apply.
TF_TEST(conv2d_ocvec_backward_input_matches_naive) {
  const Case shapes[] = {
      {"LeNet conv2 shape, batch 3", make(3, 14, 14, 6, 5, 5, 16, 1, 1, 1, 1, 0, 0, 0, 0, 1)},
      {"batch 1 C 1 oc 16 W 13", make(1, 9, 13, 1, 5, 5, 16, 1, 1, 1, 1, 0, 0, 0, 0, 1)},
      {"C 3 oc 17 k 3x3 same, W 11", make(2, 7, 11, 3, 3, 3, 17, 1, 1, 1, 1, 1, 1, 1, 1, 1)},
      {"C 7 oc 32 k 3x5 asym pad", make(2, 6, 9, 7, 3, 5, 32, 1, 1, 1, 1, 0, 2, 3, 1, 1)},
      {"C 8 oc 12 k 2x2 W 5", make(1, 5, 5, 8, 2, 2, 12, 1, 1, 1, 1, 0, 0, 0, 0, 1)},
      {"C 2 oc 64 k 4x3 W 17", make(2, 5, 17, 2, 4, 3, 64, 1, 1, 1, 1, 1, 2, 0, 1, 1)},
      {"C 5 oc 16 k 1x5 W 3 (kernel wider than input)", make(1, 4, 3, 5, 1, 5, 16, 1, 1, 1, 1, 0, 0, 2, 2, 1)},
      {"C 6 oc 16 pad 4 k 3 (rows without taps)", make(1, 3, 4, 6, 3, 3, 16, 1, 1, 1, 1, 4, 4, 1, 1, 1)},
      {"C 4 oc 20 k 5x5 pad 2, 9 images", make(9, 8, 7, 4, 5, 5, 20, 1, 1, 1, 1, 2, 2, 2, 2, 1)},
  };
  for (const Case& c : shapes) {
    const Conv2dShape& s = c.s;
    TF_CHECK(conv_detail::ocvec_backward_input_applies(s), describe(c.name, s) + ": the ocvec path must take this shape");
    Buffers b(s);
    GuardedBuffer dx(s.x_size());
    std::vector<double> expected(static_cast<size_t>(s.x_size()), 0.0);
    for_each_term(s, [&](int64_t xi, int64_t wi, int64_t yi) { expected[xi] += double(b.dy[yi]) * b.w[wi]; });
    const std::vector<float> want = to_float(expected);
    const float tol = 1e-5f + 4e-7f * float(s.kh * s.kw * s.oc);
    for_each_isa([&](Isa isa) {
      const ConvOcvecUkernel* uk = conv_detail::ocvec_ukernel();
      TF_CHECK(uk != nullptr, "ocvec kernels exist with GCC/Clang");
      if (uk == nullptr) return;
      std::vector<float> first;
      for (int threads : {1, 2, 3}) {
        const int saved = num_threads();
        set_num_threads(threads);
        const std::string context = describe(c.name, s) + " " + uk->name + " isa=" + isa_name(isa) +
                                    " threads=" + std::to_string(threads);
        for (int64_t i = 0; i < s.x_size(); ++i) dx[i] = NAN;  // every element must be written
        TF_CHECK(conv_detail::backward_input_ocvec(s, dx.data(), b.dy.data(), b.w.data(), *uk), context + " taken");
        set_num_threads(saved);
        expect_close(dx.data(), want.data(), want.size(), tol, 1e-5f, context);
        if (threads == 1) first.assign(dx.data(), dx.data() + dx.size());
        else expect_identical(dx.data(), first.data(), first.size(), context + " vs 1 thread");
      }
      // A non-finite weight: the path declines (writes nothing) and the public entry's fallback handles it.
      const float saved_w = b.w[0];
      b.w[0] = INFINITY;
      for (int64_t i = 0; i < s.x_size(); ++i) dx[i] = 7.0f;
      TF_CHECK(!conv_detail::backward_input_ocvec(s, dx.data(), b.dy.data(), b.w.data(), *uk), "declines inf w");
      TF_CHECK(dx[0] == 7.0f, "declining writes nothing");
      b.w[0] = saved_w;
    });
  }
  const Case outside[] = {
      {"oc 6", make(1, 9, 9, 6, 5, 5, 6, 1, 1, 1, 1, 0, 0, 0, 0, 1)},
      {"oc 65", make(1, 9, 9, 6, 5, 5, 65, 1, 1, 1, 1, 0, 0, 0, 0, 1)},
      {"C 9", make(1, 9, 9, 9, 3, 3, 16, 1, 1, 1, 1, 0, 0, 0, 0, 1)},
      {"stride 2", make(1, 9, 9, 6, 3, 3, 16, 2, 2, 1, 1, 0, 0, 0, 0, 1)},
      {"dilation 2", make(1, 9, 9, 6, 3, 3, 16, 1, 1, 2, 2, 0, 0, 0, 0, 1)},
      {"2 groups", make(1, 9, 9, 6, 3, 3, 16, 1, 1, 1, 1, 0, 0, 0, 0, 2)},
  };
  for (const Case& c : outside) {
    TF_CHECK(!conv_detail::ocvec_backward_input_applies(c.s), describe(c.name, c.s) + ": outside the ocvec path");
  }
}

// Forward and backward-filter with the output channels in the vector (conv2d_ocvec.cc) against naive sums,
// with guard pages and NaN-prefilled outputs (every element must be written), on every ISA: the LeNet conv2
// shape, batch 1, 17 images (16 unequal parts), odd widths, C 1..8, OC 12..32 (padded lanes), strides
// (2, 1) and (2, 3), same / asymmetric / over-sized padding (kernel rows outside the image), with and
// without bias and dbias, relu epilogue; 1, 2 and 3 threads bit-identical. With horizontal padding a
// non-finite w (forward) or dy (backward-filter) makes the path decline, writing nothing.
TF_TEST(conv2d_ocvec_forward_and_backward_filter_match_naive) {
  const Case shapes[] = {
      {"LeNet conv2 shape, batch 3", make(3, 14, 14, 6, 5, 5, 16, 1, 1, 1, 1, 0, 0, 0, 0, 1)},
      {"batch 1 C 1 oc 16 W 13", make(1, 9, 13, 1, 5, 5, 16, 1, 1, 1, 1, 0, 0, 0, 0, 1)},
      {"C 3 oc 17 k 3x3 same stride 2, W 11", make(2, 7, 11, 3, 3, 3, 17, 2, 2, 1, 1, 1, 1, 1, 1, 1)},
      {"C 7 oc 32 k 3x5 asym pad", make(2, 6, 9, 7, 3, 5, 32, 1, 1, 1, 1, 0, 2, 3, 1, 1)},
      {"C 8 oc 12 k 2x2 W 5", make(1, 5, 5, 8, 2, 2, 12, 1, 1, 1, 1, 0, 0, 0, 0, 1)},
      {"C 2 oc 20 k 4x3 stride 2x3 W 17", make(2, 11, 17, 2, 4, 3, 20, 2, 3, 1, 1, 1, 2, 0, 1, 1)},
      {"C 6 oc 16 pad 4 k 3 (rows without taps)", make(1, 3, 4, 6, 3, 3, 16, 1, 1, 1, 1, 4, 4, 1, 1, 1)},
      {"C 4 oc 24 k 5x5 pad 2 W 29, 17 images", make(17, 8, 29, 4, 5, 5, 24, 1, 1, 1, 1, 2, 2, 2, 2, 1)},
      {"C 5 oc 16 stride (2,1) top pad only, W 26", make(2, 9, 26, 5, 3, 3, 16, 2, 1, 1, 1, 1, 0, 0, 0, 1)},
  };
  const Conv2dEpilogue relu{GemmActivation::relu, 0.0f};
  for (const Case& c : shapes) {
    const Conv2dShape& s = c.s;
    TF_CHECK(conv_detail::ocvec_direct_applies(s), describe(c.name, s) + ": the ocvec direct paths must take this shape");
    Buffers b(s);
    GuardedBuffer dw(s.w_size()), dbias(s.oc);
    std::vector<double> y(static_cast<size_t>(s.y_size()), 0.0), dwe(static_cast<size_t>(s.w_size()), 0.0);
    std::vector<double> dbe(static_cast<size_t>(s.oc), 0.0);
    for_each_term(s, [&](int64_t xi, int64_t wi, int64_t yi) {
      y[yi] += double(b.x[xi]) * b.w[wi];
      dwe[wi] += double(b.x[xi]) * b.dy[yi];
    });
    for (int64_t i = 0; i < s.y_size(); ++i) dbe[i % s.oc] += b.dy[i];
    std::vector<double> y_bias(y.size()), y_plain(y.size());
    for (size_t i = 0; i < y.size(); ++i) {
      y_bias[i] = activate(y[i] + b.bias[i % s.oc], relu);
      y_plain[i] = y[i];
    }
    const std::vector<float> want_yb = to_float(y_bias), want_y = to_float(y_plain), want_dw = to_float(dwe),
                             want_db = to_float(dbe);
    const float dw_tol = 1e-5f + 4e-7f * float(s.n * s.oh * s.ow);
    for_each_isa([&](Isa isa) {
      const ConvOcvecUkernel* uk = conv_detail::ocvec_ukernel();
      TF_CHECK(uk != nullptr, "ocvec kernels exist with GCC/Clang");
      if (uk == nullptr) return;
      std::vector<float> first_y, first_dw, first_db;
      for (int threads : {1, 2, 3}) {
        const int saved = num_threads();
        set_num_threads(threads);
        const std::string context = describe(c.name, s) + " " + uk->name + " isa=" + isa_name(isa) +
                                    " threads=" + std::to_string(threads);
        for (int64_t i = 0; i < s.y_size(); ++i) b.y[i] = NAN;
        TF_CHECK(conv_detail::forward_ocvec(s, Conv2dEpilogue{}, b.x.data(), b.w.data(), nullptr, b.y.data(), *uk),
                 context + " forward taken");
        expect_close(b.y.data(), want_y.data(), want_y.size(), tolerance(s), 1e-5f, context + " y (no bias)");
        for (int64_t i = 0; i < s.y_size(); ++i) b.y[i] = NAN;
        TF_CHECK(conv_detail::forward_ocvec(s, relu, b.x.data(), b.w.data(), b.bias.data(), b.y.data(), *uk),
                 context + " forward taken");
        expect_close(b.y.data(), want_yb.data(), want_yb.size(), tolerance(s), 1e-5f, context + " y (bias, relu)");
        for (int64_t i = 0; i < s.w_size(); ++i) dw[i] = NAN;
        TF_CHECK(conv_detail::backward_filter_ocvec(s, dw.data(), nullptr, b.dy.data(), b.x.data(), *uk),
                 context + " backward-filter taken");
        expect_close(dw.data(), want_dw.data(), want_dw.size(), dw_tol, 1e-5f, context + " dw (no dbias)");
        for (int64_t i = 0; i < s.w_size(); ++i) dw[i] = NAN;
        for (int64_t i = 0; i < s.oc; ++i) dbias[i] = NAN;
        TF_CHECK(conv_detail::backward_filter_ocvec(s, dw.data(), dbias.data(), b.dy.data(), b.x.data(), *uk),
                 context + " backward-filter taken");
        set_num_threads(saved);
        expect_close(dw.data(), want_dw.data(), want_dw.size(), dw_tol, 1e-5f, context + " dw");
        expect_close(dbias.data(), want_db.data(), want_db.size(), dw_tol, 1e-5f, context + " dbias");
        if (threads == 1) {
          first_y.assign(b.y.data(), b.y.data() + b.y.size());
          first_dw.assign(dw.data(), dw.data() + dw.size());
          first_db.assign(dbias.data(), dbias.data() + dbias.size());
        } else {
          expect_identical(b.y.data(), first_y.data(), first_y.size(), context + " y vs 1 thread");
          expect_identical(dw.data(), first_dw.data(), first_dw.size(), context + " dw vs 1 thread");
          expect_identical(dbias.data(), first_db.data(), first_db.size(), context + " dbias vs 1 thread");
        }
      }
      const bool hpad = s.pad_left > 0 || s.pad_right > 0;
      if (hpad) {
        const float saved_w = b.w[0], saved_dy = b.dy[0];
        b.w[0] = INFINITY;
        b.dy[0] = NAN;
        for (int64_t i = 0; i < s.y_size(); ++i) b.y[i] = 7.0f;
        for (int64_t i = 0; i < s.w_size(); ++i) dw[i] = 7.0f;
        TF_CHECK(!conv_detail::forward_ocvec(s, relu, b.x.data(), b.w.data(), nullptr, b.y.data(), *uk),
                 "forward declines an inf w with horizontal padding");
        TF_CHECK(!conv_detail::backward_filter_ocvec(s, dw.data(), nullptr, b.dy.data(), b.x.data(), *uk),
                 "backward-filter declines a NaN dy with horizontal padding");
        TF_CHECK(b.y[0] == 7.0f && dw[0] == 7.0f, "declining writes nothing");
        b.w[0] = saved_w;
        b.dy[0] = saved_dy;
      }
    });
  }
  const Case outside[] = {
      {"oc 11", make(1, 9, 9, 6, 5, 5, 11, 1, 1, 1, 1, 0, 0, 0, 0, 1)},
      {"oc 33", make(1, 9, 9, 6, 5, 5, 33, 1, 1, 1, 1, 0, 0, 0, 0, 1)},
      {"C 9", make(1, 9, 9, 9, 3, 3, 16, 1, 1, 1, 1, 0, 0, 0, 0, 1)},
      {"dilation 2", make(1, 9, 9, 6, 3, 3, 16, 1, 1, 2, 2, 0, 0, 0, 0, 1)},
      {"2 groups", make(1, 9, 9, 6, 3, 3, 16, 1, 1, 1, 1, 0, 0, 0, 0, 2)},
  };
  for (const Case& c : outside) {
    TF_CHECK(!conv_detail::ocvec_direct_applies(c.s), describe(c.name, c.s) + ": outside the ocvec direct paths");
  }
}

// planes (NHWC pixels -> channel planes, conv1 backward-filter's dy transpose; AVX-512 transposes 16
// pixels in registers for OC 2..8) on every ISA: OC 1..9 and 17, pixel counts around 16 and 32, guard pages
// after src and dst, and nothing written outside the count x OC destination floats.
TF_TEST(conv_width_planes_matches_plain_loop) {
  for (int64_t oc : {1, 2, 3, 4, 5, 6, 7, 8, 9, 17}) {
    for (int64_t count : {1, 5, 15, 16, 17, 28, 32, 37}) {
      const int64_t stride = count + 3;
      GuardedBuffer src(count * oc), dst(oc * stride);
      Rng rng(static_cast<uint64_t>(oc * 100 + count));
      rng.fill(src.data(), src.size());
      std::vector<float> want(static_cast<size_t>(oc * stride), -3.0f);
      for (int64_t j = 0; j < oc; ++j)
        for (int64_t p = 0; p < count; ++p) want[j * stride + p] = src[p * oc + j];
      for_each_isa([&](Isa isa) {
        const ConvWidthUkernel* uk = conv_detail::width_ukernel();
        if (uk == nullptr) return;
        for (int64_t i = 0; i < dst.size(); ++i) dst[i] = -3.0f;
        uk->planes(count, oc, src.data(), dst.data(), stride);
        expect_identical(dst.data(), want.data(), want.size(),
                         std::string(uk->name) + " isa=" + isa_name(isa) + " oc=" + std::to_string(oc) +
                             " count=" + std::to_string(count));
      });
    }
  }
}

// Backward-filter with x read in place (conv2d_filter_inplace.cc) against naive sums, with guard pages,
// on every ISA (each picks its own GEMM tile: NR 16, 32 or 64), with and without dbias; odd widths and
// output channels, batch 1, vertical stride 2, horizontal dilation, asymmetric padding, edge buffers that flush
// mid-part (W 23 -> 2 edge pixels per row over 24+ rows) and parts of several rows; results bit-identical
// for 1, 2 and 3 threads. Pointwise layers (blocks of 256 pixels in one run) and a padded 1x1.
TF_TEST(conv2d_filter_inplace_matches_naive) {
  const Case shapes[] = {
      {"3x3 pad1 C 32 -> 13, W 23", make(2, 13, 23, 32, 3, 3, 13, 1, 1, 1, 1, 1, 1, 1, 1, 1)},
      {"3x3 pad1 C 64 -> 70, batch 1, W 17", make(1, 9, 17, 64, 3, 3, 70, 1, 1, 1, 1, 1, 1, 1, 1, 1)},
      {"3x3 stride (2,1) pad1 C 64 -> 7, W 33", make(2, 11, 33, 64, 3, 3, 7, 2, 1, 1, 1, 1, 1, 1, 1, 1)},
      {"3x2 dil (2,2) asym pad C 32 -> 5", make(1, 12, 21, 32, 3, 2, 5, 1, 1, 2, 2, 2, 0, 1, 2, 1)},
      {"3x3 valid C 32 -> 33, 40 rows", make(4, 12, 19, 32, 3, 3, 33, 1, 1, 1, 1, 0, 0, 0, 0, 1)},
      {"1x1 C 64 -> 19, 663 pixels (256-pixel units)", make(3, 13, 17, 64, 1, 1, 19, 1, 1, 1, 1, 0, 0, 0, 0, 1)},
      {"1x1 C 128 -> 70, batch 1, 35 pixels", make(1, 5, 7, 128, 1, 1, 70, 1, 1, 1, 1, 0, 0, 0, 0, 1)},
      {"1x1 pad 1 C 32 -> 9 (edges)", make(1, 6, 11, 32, 1, 1, 9, 1, 1, 1, 1, 1, 1, 1, 1, 1)},
  };
  for (const Case& c : shapes) {
    const Conv2dShape& s = c.s;
    Buffers b(s);
    GuardedBuffer dw(s.w_size()), dbias(s.oc);
    const FilterGradients naive = naive_filter_gradients(s, b);
    const std::vector<float>& want = naive.dw;
    const std::vector<float>& want_bias = naive.dbias;
    const float tol = naive.tol;
    for_each_isa([&](Isa isa) {
      const GemmUkernel* uk = conv_detail::inplace_filter_ukernel(s);
      const std::string where = describe(c.name, s) + " isa=" + isa_name(isa);
      TF_CHECK(uk != nullptr, where + " has no in-place tile");
      if (uk == nullptr) return;
      std::vector<float> first_dw, first_db;
      for (int threads : {1, 2, 3}) {
        set_num_threads(threads);
        const std::string context = where + " " + uk->name + " threads=" + std::to_string(threads);
        conv_detail::backward_filter_inplace(s, dw.data(), dbias.data(), b.dy.data(), b.x.data(), *uk);
        expect_close(dw.data(), want.data(), want.size(), tol, 1e-5f, context + " dw");
        expect_close(dbias.data(), want_bias.data(), want_bias.size(), tol, 1e-5f, context + " dbias");
        if (threads == 1) {
          first_dw.assign(dw.data(), dw.data() + want.size());
          first_db.assign(dbias.data(), dbias.data() + s.oc);
        } else {
          expect_identical(dw.data(), first_dw.data(), first_dw.size(), context + " dw vs 1 thread");
          expect_identical(dbias.data(), first_db.data(), first_db.size(), context + " dbias vs 1 thread");
        }
        conv_detail::backward_filter_inplace(s, dw.data(), nullptr, b.dy.data(), b.x.data(), *uk);
        expect_identical(dw.data(), first_dw.data(), first_dw.size(), context + " dw (no dbias)");
      }
      set_num_threads(1);
    });
  }
}
