// Pooling kernels against naive loops written here (double precision, max-pool backward as a scatter
// to the first maximum), with guard-page buffers, on every ISA level and thread count; ties routed to
// the first maximum; bit-identity across thread counts.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "kernels/pool.h"
#include "runtime/thread_pool.h"
#include "tests/testing.h"

using namespace tf;
using namespace tf::testing;

namespace {

Pool2dShape make(int64_t n, int64_t h, int64_t w, int64_t c, int64_t kh, int64_t kw, int64_t sh, int64_t sw,
                 int64_t pt, int64_t pb, int64_t pl, int64_t pr) {
  Pool2dShape s{n, h, w, c, kh, kw, sh, sw, pt, pb, pl, pr, 0, 0};
  s.oh = conv_output_size(h, kh, sh, 1, pt, pb);
  s.ow = conv_output_size(w, kw, sw, 1, pl, pr);
  return s;
}

struct Case {
  const char* name;
  Pool2dShape s;
};

std::vector<Case> cases() {
  return {
      {"2x2 s2", make(2, 8, 6, 5, 2, 2, 2, 2, 0, 0, 0, 0)},
      {"2x2 s2 odd size", make(1, 7, 9, 3, 2, 2, 2, 2, 0, 0, 0, 0)},
      {"3x3 s1 pad1", make(2, 5, 6, 7, 3, 3, 1, 1, 1, 1, 1, 1)},
      {"3x3 s2 pad asym", make(1, 9, 8, 4, 3, 3, 2, 2, 1, 0, 0, 1)},
      {"2x3 s(1,2) pad(1,0,1,1)", make(2, 6, 7, 3, 2, 3, 1, 2, 1, 0, 1, 1)},
      {"1x1 s3", make(1, 7, 5, 2, 1, 1, 3, 3, 0, 0, 0, 0)},
      {"C > channel block", make(2, 5, 5, 70, 3, 3, 2, 2, 1, 1, 1, 1)},
      {"window = input", make(3, 4, 5, 6, 4, 5, 1, 1, 0, 0, 0, 0)},
      // Disjoint windows (max backward writes each dx once) with gaps, padding, odd sizes, SIMD tails.
      {"2x2 s3 gaps C 17", make(2, 8, 10, 17, 2, 2, 3, 3, 0, 0, 0, 0)},
      {"3x3 s3 pad1 odd C 33", make(1, 10, 11, 33, 3, 3, 3, 3, 1, 1, 1, 0)},
      {"2x2 s2 C 64 + 16", make(1, 5, 6, 80, 2, 2, 2, 2, 0, 0, 0, 0)},
      // The 2x2 stride-2 unpadded loops (pool.cc: max_pool2d_2x2): LeNet's 6 channels, odd H and W
      // (a last row / column no window covers), one channel, batch 1.
      {"2x2 s2 LeNet-like C 6", make(3, 28, 28, 6, 2, 2, 2, 2, 0, 0, 0, 0)},
      {"2x2 s2 C 1 odd H W", make(2, 9, 7, 1, 2, 2, 2, 2, 0, 0, 0, 0)},
      {"2x2 s2 C 16 batch 1 odd W", make(1, 10, 11, 16, 2, 2, 2, 2, 0, 0, 0, 0)},
      {"2x2 s2 C 7 odd H", make(2, 5, 4, 7, 2, 2, 2, 2, 0, 0, 0, 0)},
      {"2x2 s2 C 2", make(1, 6, 5, 2, 2, 2, 2, 2, 0, 0, 0, 0)},
      {"2x2 s2 C 4", make(2, 4, 6, 4, 2, 2, 2, 2, 0, 0, 0, 0)},
      {"2x2 s2 C 8 odd H W", make(1, 7, 5, 8, 2, 2, 2, 2, 0, 0, 0, 0)},
      // Average pooling with stride 1 along the row and a window 3 or 5 wide runs on the depthwise row
      // kernels (pool.cc): SIMD tails, rows paired or not, a stride down the column, padding on one side.
      {"3x3 s1 pad1 C 64 13x19", make(2, 13, 19, 64, 3, 3, 1, 1, 1, 1, 1, 1)},
      {"3x3 s1 pad1 odd C 37", make(1, 9, 11, 37, 3, 3, 1, 1, 1, 1, 1, 1)},
      {"5x5 s1 pad2 C 20", make(2, 8, 12, 20, 5, 5, 1, 1, 2, 2, 2, 2)},
      {"3x3 s(2,1) pad(0,1,1,0) C 19", make(1, 10, 9, 19, 3, 3, 2, 1, 0, 1, 1, 0)},
      {"5x3 s(1,1) no pad C 3", make(1, 8, 7, 3, 5, 3, 1, 1, 0, 0, 0, 0)},
  };
}

std::string describe(const char* name, const Pool2dShape& s) {
  auto v = [](int64_t x) { return std::to_string(x); };
  return std::string(name) + ": x=[" + v(s.n) + "," + v(s.h) + "," + v(s.w) + "," + v(s.c) + "] k=" + v(s.kh) +
         "x" + v(s.kw) + " s=" + v(s.stride_h) + "," + v(s.stride_w) + " pad=" + v(s.pad_top) + "," +
         v(s.pad_bottom) + "," + v(s.pad_left) + "," + v(s.pad_right) + " -> " + v(s.oh) + "x" + v(s.ow);
}

// Calls f(y index, list of x indices in row-major window order) for every output element.
template <typename F>
void for_each_window(const Pool2dShape& s, F f) {
  std::vector<int64_t> window;
  for (int64_t n = 0; n < s.n; ++n)
    for (int64_t oh = 0; oh < s.oh; ++oh)
      for (int64_t ow = 0; ow < s.ow; ++ow)
        for (int64_t c = 0; c < s.c; ++c) {
          window.clear();
          for (int64_t kh = 0; kh < s.kh; ++kh)
            for (int64_t kw = 0; kw < s.kw; ++kw) {
              const int64_t ih = oh * s.stride_h - s.pad_top + kh, iw = ow * s.stride_w - s.pad_left + kw;
              if (ih >= 0 && ih < s.h && iw >= 0 && iw < s.w) window.push_back(((n * s.h + ih) * s.w + iw) * s.c + c);
            }
          f(((n * s.oh + oh) * s.ow + ow) * s.c + c, window);
        }
}

std::string config(Isa isa, int threads) { return std::string(" isa=") + isa_name(isa) + " threads=" + std::to_string(threads); }

// Inputs on a coarse grid so that windows often hold ties.
void fill_with_ties(Rng& rng, float* p, size_t n) {
  for (size_t i = 0; i < n; ++i) p[i] = static_cast<float>(rng.below(5)) - 2.0f;
}

}  // namespace

TF_TEST(max_pool2d_matches_naive_first_max) {
  for (const Case& k : cases()) {
    const Pool2dShape& s = k.s;
    GuardedBuffer x(s.x_size()), y(s.y_size()), dy(s.y_size()), dx(s.x_size());
    Rng rng(7);
    fill_with_ties(rng, x.data(), x.size());
    rng.fill(dy.data(), dy.size());
    std::vector<float> want_y(y.size());
    std::vector<double> want_dx(dx.size(), 0.0);
    for_each_window(s, [&](int64_t yi, const std::vector<int64_t>& win) {
      int64_t arg = win[0];
      for (int64_t xi : win) if (x[xi] > x[arg]) arg = xi;
      want_y[yi] = x[arg];
      want_dx[arg] += dy[yi];
    });
    const std::vector<float> want(want_dx.begin(), want_dx.end());
    for_each_isa([&](Isa isa) {
      for_each_thread_count([&](int threads) {
        max_pool2d(s, x.data(), y.data());
        expect_identical(y.data(), want_y.data(), want_y.size(), describe(k.name, s) + config(isa, threads) + " y");
        std::fill(dx.data(), dx.data() + dx.size(), std::nanf(""));  // dx is overwritten: every element
        max_pool2d_backward(s, dx.data(), dy.data(), x.data());
        expect_close(dx.data(), want.data(), want.size(), 1e-6f, 1e-6f, describe(k.name, s) + config(isa, threads) + " dx");
      });
    });
  }
}

TF_TEST(avg_pool2d_matches_naive) {
  for (const Case& k : cases()) {
    const Pool2dShape& s = k.s;
    GuardedBuffer x(s.x_size()), y(s.y_size()), dy(s.y_size()), dx(s.x_size());
    Rng rng(11);
    rng.fill(x.data(), x.size());
    rng.fill(dy.data(), dy.size());
    for (bool include_pad : {false, true}) {
      std::vector<double> want_y(y.size()), want_dx(dx.size(), 0.0);
      for_each_window(s, [&](int64_t yi, const std::vector<int64_t>& win) {
        const double count = include_pad ? double(s.kh * s.kw) : double(win.size());
        double sum = 0;
        for (int64_t xi : win) sum += x[xi];
        want_y[yi] = sum / count;
        for (int64_t xi : win) want_dx[xi] += dy[yi] / count;
      });
      const std::vector<float> wy(want_y.begin(), want_y.end()), wdx(want_dx.begin(), want_dx.end());
      for_each_isa([&](Isa isa) {
        for_each_thread_count([&](int threads) {
          const std::string context = describe(k.name, s) + config(isa, threads) + (include_pad ? " includePad" : " excludePad");
          avg_pool2d(s, include_pad, x.data(), y.data());
          expect_close(y.data(), wy.data(), wy.size(), 1e-6f, 1e-5f, context + " y");
          avg_pool2d_backward(s, include_pad, dx.data(), dy.data());
          expect_close(dx.data(), wdx.data(), wdx.size(), 1e-6f, 1e-5f, context + " dx");
        });
      });
    }
  }
}

TF_TEST(global_pools_match_naive) {
  struct G { int64_t n, hw, c; };
  for (const G g : {G{1, 1, 1}, G{2, 49, 3}, G{3, 10, 130}, G{2, 7, 64}}) {
    const std::string context = "n=" + std::to_string(g.n) + " hw=" + std::to_string(g.hw) + " c=" + std::to_string(g.c);
    GuardedBuffer x(g.n * g.hw * g.c), y(g.n * g.c), dy(g.n * g.c), dx(g.n * g.hw * g.c);
    Rng rng(13);
    fill_with_ties(rng, x.data(), x.size());
    rng.fill(dy.data(), dy.size());
    std::vector<float> want_avg(y.size()), want_max(y.size()), want_avg_dx(dx.size()), want_max_dx(dx.size(), 0.0f);
    for (int64_t n = 0; n < g.n; ++n)
      for (int64_t c = 0; c < g.c; ++c) {
        double sum = 0;
        int64_t arg = 0;
        for (int64_t p = 0; p < g.hw; ++p) {
          const float v = x[(n * g.hw + p) * g.c + c];
          sum += v;
          if (v > x[(n * g.hw + arg) * g.c + c]) arg = p;
        }
        want_avg[n * g.c + c] = static_cast<float>(sum / double(g.hw));
        want_max[n * g.c + c] = x[(n * g.hw + arg) * g.c + c];
        want_max_dx[(n * g.hw + arg) * g.c + c] = dy[n * g.c + c];
        for (int64_t p = 0; p < g.hw; ++p) want_avg_dx[(n * g.hw + p) * g.c + c] = dy[n * g.c + c] / float(g.hw);
      }
    for_each_isa([&](Isa isa) {
      for_each_thread_count([&](int threads) {
        global_avg_pool2d(g.n, g.hw, g.c, x.data(), y.data());
        expect_close(y.data(), want_avg.data(), want_avg.size(), 1e-6f, 1e-5f, context + config(isa, threads) + " avg");
        global_avg_pool2d_backward(g.n, g.hw, g.c, dx.data(), dy.data());
        expect_close(dx.data(), want_avg_dx.data(), want_avg_dx.size(), 0, 1e-6f, context + config(isa, threads) + " avg dx");
        global_max_pool2d(g.n, g.hw, g.c, x.data(), y.data());
        expect_identical(y.data(), want_max.data(), want_max.size(), context + config(isa, threads) + " max");
        global_max_pool2d_backward(g.n, g.hw, g.c, dx.data(), dy.data(), x.data());
        expect_identical(dx.data(), want_max_dx.data(), want_max_dx.size(), context + config(isa, threads) + " max dx");
      });
    });
  }
}

TF_TEST(max_pool2d_all_equal_routes_to_first) {
  // Every element equal: each window's gradient lands on its first real element (row-major).
  const Pool2dShape s = make(1, 4, 4, 2, 3, 3, 2, 2, 1, 1, 1, 1);
  GuardedBuffer x(s.x_size()), dy(s.y_size()), dx(s.x_size());
  std::fill(x.data(), x.data() + x.size(), 0.5f);
  std::fill(dy.data(), dy.data() + dy.size(), 1.0f);
  max_pool2d_backward(s, dx.data(), dy.data(), x.data());
  // 2x2 windows starting at rows/cols -1 and 1: their first real elements are (0|1, 0|1).
  for (int64_t ih = 0; ih < 4; ++ih)
    for (int64_t iw = 0; iw < 4; ++iw)
      for (int64_t c = 0; c < 2; ++c) {
        const float expected = ih <= 1 && iw <= 1 ? 1.0f : 0.0f;
        TF_CHECK(dx[(ih * 4 + iw) * 2 + c] == expected,
                 "dx at (" + std::to_string(ih) + "," + std::to_string(iw) + ") = " + std::to_string(dx[(ih * 4 + iw) * 2 + c]));
      }
}

TF_TEST(pool_bit_identical_across_thread_counts) {
  const Pool2dShape s = make(3, 23, 21, 70, 3, 3, 1, 2, 1, 1, 1, 0);
  GuardedBuffer x(s.x_size()), y(s.y_size()), dy(s.y_size()), dx(s.x_size());
  Rng rng(5);
  rng.fill(x.data(), x.size());
  rng.fill(dy.data(), dy.size());
  std::vector<std::vector<float>> first;
  const int saved = num_threads();
  for (int threads : {1, 2, 3}) {
    set_num_threads(threads);
    std::vector<std::vector<float>> out;
    max_pool2d(s, x.data(), y.data());
    out.emplace_back(y.data(), y.data() + y.size());
    max_pool2d_backward(s, dx.data(), dy.data(), x.data());
    out.emplace_back(dx.data(), dx.data() + dx.size());
    avg_pool2d(s, false, x.data(), y.data());
    out.emplace_back(y.data(), y.data() + y.size());
    avg_pool2d_backward(s, false, dx.data(), dy.data());
    out.emplace_back(dx.data(), dx.data() + dx.size());
    if (threads == 1) {
      first = out;
      continue;
    }
    const char* names[] = {"max y", "max dx", "avg y", "avg dx"};
    for (size_t i = 0; i < out.size(); ++i) {
      expect_identical(out[i].data(), first[i].data(), first[i].size(),
                       describe("big", s) + " threads=" + std::to_string(threads) + " " + names[i]);
    }
  }
  set_num_threads(saved);
}

// NaN rule on the 2x2 stride-2 loops and the general path: a NaN beats any number and the first NaN
// wins, so dy goes to the window's first NaN; a -0 dy lands as +0 (0 + dy).
TF_TEST(max_pool2d_2x2_nan_goes_to_first_nan) {
  for (const Pool2dShape& s : {make(1, 2, 2, 3, 2, 2, 2, 2, 0, 0, 0, 0), make(1, 2, 2, 3, 2, 2, 1, 1, 0, 0, 0, 0)}) {
    GuardedBuffer x(s.x_size()), y(s.y_size()), dy(s.y_size()), dx(s.x_size());
    // pixel p, channel k at x[p*3 + k]; channel 0: 1, NaN, 3, NaN; channel 1: 2, 2, 2, 2; channel 2: 0, 5, 5, 1
    const float nan = std::nanf("");
    const float v[4][3] = {{1, 2, 0}, {nan, 2, 5}, {3, 2, 5}, {nan, 2, 1}};
    for (int p = 0; p < 4; ++p)
      for (int k = 0; k < 3; ++k) x[p * 3 + k] = v[p][k];
    dy[0] = 7.0f;
    dy[1] = -0.0f;
    dy[2] = 9.0f;
    for_each_isa([&](Isa isa) {
      const std::string context = describe("NaN", s) + config(isa, 1);
      max_pool2d(s, x.data(), y.data());
      TF_CHECK(std::isnan(y[0]) && y[1] == 2.0f && y[2] == 5.0f, context + ": y");
      max_pool2d_backward(s, dx.data(), dy.data(), x.data());
      const float want[12] = {0, 0, 0, 7, 0, 9, 0, 0, 0, 0, 0, 0};
      bool ok = true;
      for (int i = 0; i < 12; ++i) ok = ok && dx[i] == want[i] && !std::signbit(dx[i]);
      TF_CHECK(ok, context + ": dx to the first NaN / first max, -0 dy lands as +0");
    });
  }
}
