// Depthwise convolution: the row micro-kernels (fwd_row, fwd_row2, grad_row of every dwconv_ukernels.inc
// entry this CPU runs) against their contract computed naively in double precision (fwd_row2 against two
// fwd_row calls, bit for bit), and the depthwise driver
// (conv2d_depthwise.cc, reached through conv2d_forward / _backward_input / _backward_filter) against
// naive loops on the shapes that take the row kernels and on those that do not, every ISA level, 1 and 2
// threads bit-identical. Guard pages sit right after every row, filter row and output, so reading or
// writing one float past a pixel's channels or a row's end faults.
#include <algorithm>
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

using Buffers = std::vector<std::unique_ptr<GuardedBuffer>>;

Buffers guarded_rows(int64_t rows, int64_t floats, Rng& rng) {
  Buffers b;
  for (int64_t r = 0; r < rows; ++r) {
    b.push_back(std::make_unique<GuardedBuffer>(static_cast<size_t>(floats)));
    rng.fill(b.back()->data(), b.back()->size());
  }
  return b;
}

// Filter rows of kw taps and a bias in the forward row kernels' doubled layout (each tap's c values twice).
Buffers doubled_rows(int64_t rows, int64_t kw, int64_t c, Rng& rng) {
  Buffers b = guarded_rows(rows, kw * 2 * c, rng);
  for (auto& row : b) {
    for (int64_t t = 0; t < kw; ++t) std::copy_n(row->data() + t * 2 * c, c, row->data() + t * 2 * c + c);
  }
  return b;
}

std::string row_case(const char* name, int64_t c, int64_t kw, int64_t rows, int64_t count, int64_t pad,
                     int64_t width) {
  return std::string(name) + " c=" + std::to_string(c) + " kw=" + std::to_string(kw) + " rows=" +
         std::to_string(rows) + " count=" + std::to_string(count) + " pad=" + std::to_string(pad) +
         " width=" + std::to_string(width);
}

// Calls fn(c, kw, rows, count, pad, width) over the sweep: channel counts around the vector widths,
// both compiled filter widths, 0..4 rows, rows narrower than the filter, negative padding (backward-input
// with pad_left > KW-1), outputs fewer or more than a register tile.
template <typename Fn>
void for_each_row_case(Fn fn) {
  for (int64_t c : {1, 3, 8, 16, 17, 37, 64}) {
    for (int64_t kw : {3, 5}) {
      for (int64_t rows : {0, 1, 3, 4}) {
        for (int64_t width : {1, 2, 5, 13, 30}) {
          for (int64_t pad : {int64_t{-1}, int64_t{0}, int64_t{1}, kw - 1, kw}) {
            const int64_t count = width + 2 * (pad < 0 ? 0 : pad) - kw + 1;
            for (int64_t n : {count, count + 3, int64_t{1}}) {
              if (n >= 1) fn(c, kw, rows, n, pad, width);
            }
          }
        }
      }
    }
  }
}

}  // namespace

TF_TEST(dwconv_row_kernels_match_contract) {
  int entries = 0;
  const DwconvUkernelEntry* list = dwconv_ukernel_entries(&entries);
  for (int e = 0; e < entries; ++e) {
    if (kernel_table_for(list[e].isa) == nullptr) continue;
    const DwconvUkernel& uk = list[e].ukernel;
    TF_CHECK(uk.fwd_row != nullptr && uk.grad_row != nullptr, std::string(uk.name) + ": row kernels registered");
    if (uk.fwd_row == nullptr || uk.grad_row == nullptr) continue;
    for_each_row_case([&](int64_t c, int64_t kw, int64_t rows, int64_t count, int64_t pad, int64_t width) {
      const std::string context = row_case(uk.name, c, kw, rows, count, pad, width);
      Rng rng(static_cast<uint64_t>(c * 1000 + kw * 100 + rows * 10 + count + 7 * width));
      Buffers in = guarded_rows(rows, width * c, rng), w = doubled_rows(rows, kw, c, rng);
      Buffers acc = guarded_rows(rows, kw * c, rng);
      GuardedBuffer bias(static_cast<size_t>(2 * c)), dy(static_cast<size_t>(count * c)), out(static_cast<size_t>(count * c));
      GuardedBuffer acc_bias(static_cast<size_t>(c));
      rng.fill(bias.data(), static_cast<size_t>(c));
      std::copy_n(bias.data(), c, bias.data() + c);
      rng.fill(dy.data(), dy.size());
      rng.fill(acc_bias.data(), acc_bias.size());
      std::vector<const float*> in_p, w_p;
      std::vector<float*> acc_p;
      for (int64_t r = 0; r < rows; ++r) {
        in_p.push_back(in[r]->data());
        w_p.push_back(w[r]->data());
        acc_p.push_back(acc[r]->data());
      }
      // fwd_row, with and without bias.
      for (const bool with_bias : {true, false}) {
        std::vector<float> want(static_cast<size_t>(count * c));
        for (int64_t o = 0; o < count; ++o) {
          for (int64_t j = 0; j < c; ++j) {
            double sum = with_bias ? bias[j] : 0.0;
            for (int64_t r = 0; r < rows; ++r) {
              for (int64_t t = 0; t < kw; ++t) {
                const int64_t col = o - pad + t;
                if (col >= 0 && col < width) sum += double(in_p[r][col * c + j]) * w_p[r][t * 2 * c + j];
              }
            }
            want[o * c + j] = static_cast<float>(sum);
          }
        }
        uk.fwd_row(c, kw, rows, in_p.data(), w_p.data(), with_bias ? bias.data() : nullptr, out.data(), count, pad,
                   width, rows > 0 ? in_p[0] : nullptr);
        expect_close(out.data(), want.data(), want.size(), 1e-5f, 1e-5f,
                     context + (with_bias ? " fwd_row" : " fwd_row (no bias)"));
      }
      // fwd_row2 (KW 3): out0 over rows [0, rows), out1 over [1, rows], identical to fwd_row's results.
      if (kw == 3 && rows >= 1 && uk.fwd_row2 != nullptr) {
        Buffers extra = guarded_rows(1, width * c, rng);
        std::vector<const float*> in2 = in_p;
        in2.push_back(extra[0]->data());
        GuardedBuffer out0(static_cast<size_t>(count * c)), out1(static_cast<size_t>(count * c));
        GuardedBuffer want0(static_cast<size_t>(count * c)), want1(static_cast<size_t>(count * c));
        uk.fwd_row(c, kw, rows, in2.data(), w_p.data(), bias.data(), want0.data(), count, pad, width, nullptr);
        uk.fwd_row(c, kw, rows, in2.data() + 1, w_p.data(), bias.data(), want1.data(), count, pad, width, nullptr);
        uk.fwd_row2(c, rows, in2.data(), w_p.data(), bias.data(), out0.data(), out1.data(), count, pad, width,
                    in2[0]);
        expect_identical(out0.data(), want0.data(), out0.size(), context + " fwd_row2 row 0 vs fwd_row");
        expect_identical(out1.data(), want1.data(), out1.size(), context + " fwd_row2 row 1 vs fwd_row");
      }
      // grad_row accumulates onto the values already there; the bias sum only when asked.
      for (const bool with_bias : {true, false}) {
        std::vector<float> want_acc, want_bias(acc_bias.data(), acc_bias.data() + c);
        for (int64_t r = 0; r < rows; ++r) {
          for (int64_t t = 0; t < kw; ++t) {
            for (int64_t j = 0; j < c; ++j) {
              double sum = acc_p[r][t * c + j];
              for (int64_t o = 0; o < count; ++o) {
                const int64_t col = o - pad + t;
                if (col >= 0 && col < width) sum += double(in_p[r][col * c + j]) * dy[o * c + j];
              }
              want_acc.push_back(static_cast<float>(sum));
            }
          }
        }
        if (with_bias) {
          for (int64_t j = 0; j < c; ++j) {
            double sum = acc_bias[j];
            for (int64_t o = 0; o < count; ++o) sum += dy[o * c + j];
            want_bias[j] = static_cast<float>(sum);
          }
        }
        uk.grad_row(c, kw, rows, in_p.data(), dy.data(), acc_p.data(), with_bias ? acc_bias.data() : nullptr, count,
                    pad, width, rows > 0 ? in_p[0] : nullptr, dy.data());
        const float tol = 1e-5f + 1e-6f * static_cast<float>(count);
        for (int64_t r = 0; r < rows; ++r) {
          expect_close(acc_p[r], want_acc.data() + r * kw * c, static_cast<size_t>(kw * c), tol, 1e-5f,
                       context + " grad_row row " + std::to_string(r) + (with_bias ? "" : " (no bias)"));
        }
        expect_close(acc_bias.data(), want_bias.data(), want_bias.size(), tol, 1e-5f,
                     context + (with_bias ? " grad_row bias" : " grad_row bias untouched"));
      }
    });
  }
}

namespace {

Conv2dShape dw_shape(int64_t n, int64_t h, int64_t w, int64_t c, int64_t kh, int64_t kw, int64_t sh, int64_t sw,
                     int64_t dh, int64_t dwl, int64_t pt, int64_t pb, int64_t pl, int64_t pr) {
  Conv2dShape s{n, h, w, c, kh, kw, c, sh, sw, dh, dwl, pt, pb, pl, pr, c, 0, 0};
  s.oh = conv_output_size(h, kh, sh, dh, pt, pb);
  s.ow = conv_output_size(w, kw, sw, dwl, pl, pr);
  return s;
}

struct DwCase {
  const char* name;
  Conv2dShape s;
};

std::vector<DwCase> driver_cases() {
  return {
      // The row kernels (stride 1 and dilation 1 along the row, KW 3 or 5).
      {"3x3 pad 1, C 64 (MobileNet-like)", dw_shape(2, 9, 11, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1)},
      {"3x3 pad 1, C 19, batch 1", dw_shape(1, 7, 20, 19, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1)},
      {"3x3 valid, C 32, W 3 (no interior run)", dw_shape(2, 5, 3, 32, 3, 3, 1, 1, 1, 1, 0, 0, 0, 0)},
      {"3x3 stride_h 2 dilation_h 2 asym pad, C 40", dw_shape(2, 11, 13, 40, 3, 3, 2, 1, 2, 1, 2, 1, 0, 2)},
      {"5x5 pad 2, C 24", dw_shape(1, 9, 17, 24, 5, 5, 1, 1, 1, 1, 2, 2, 2, 2)},
      {"5x3 pad (2,0)/(4,1) (pad_left > KW-1), C 7", dw_shape(2, 8, 9, 7, 5, 3, 1, 1, 1, 1, 2, 0, 4, 1)},
      {"3x5 on 2 rows, pad_top 1, C 16", dw_shape(1, 2, 12, 16, 3, 5, 1, 1, 1, 1, 1, 0, 1, 1)},
      {"3x3 W 1 pad 1, C 33", dw_shape(3, 6, 1, 33, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1)},
      {"3x3 pad 1, C 48, 4x24x26 (split across threads)", dw_shape(4, 24, 26, 48, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1)},
      // The per-pixel kernels (other strides, dilations and widths along the row).
      {"3x3 stride 2, C 21", dw_shape(2, 9, 10, 21, 3, 3, 2, 2, 1, 1, 1, 1, 1, 0)},
      {"3x3 dilation_w 2, C 18", dw_shape(1, 8, 12, 18, 3, 3, 1, 1, 1, 2, 2, 2, 2, 2)},
      {"4x4 pad 1, C 9", dw_shape(2, 7, 8, 9, 4, 4, 1, 1, 1, 1, 1, 2, 1, 2)},
  };
}

}  // namespace

TF_TEST(dwconv_driver_matches_naive_and_is_thread_independent) {
  for (const DwCase& dc : driver_cases()) {
    const Conv2dShape& s = dc.s;
    const std::string shape = std::string(dc.name) + " x=[" + std::to_string(s.n) + "," + std::to_string(s.h) + "," +
                              std::to_string(s.w) + "," + std::to_string(s.c) + "] -> " + std::to_string(s.oh) + "x" +
                              std::to_string(s.ow);
    TF_CHECK(s.oh > 0 && s.ow > 0, shape + ": the case has outputs");
    Rng rng(static_cast<uint64_t>(s.x_size() + 17 * s.c));
    GuardedBuffer x(s.x_size()), w(s.w_size()), bias(s.c), dy(s.y_size());
    rng.fill(x.data(), x.size());
    rng.fill(w.data(), w.size());
    rng.fill(bias.data(), bias.size());
    rng.fill(dy.data(), dy.size());
    std::vector<double> y(s.y_size(), 0.0), dx(s.x_size(), 0.0), dw(s.w_size(), 0.0), db(s.c, 0.0);
    for (int64_t n = 0; n < s.n; ++n)
      for (int64_t oh = 0; oh < s.oh; ++oh)
        for (int64_t ow = 0; ow < s.ow; ++ow)
          for (int64_t kh = 0; kh < s.kh; ++kh)
            for (int64_t kw = 0; kw < s.kw; ++kw) {
              const int64_t ih = oh * s.stride_h - s.pad_top + kh * s.dilation_h;
              const int64_t iw = ow * s.stride_w - s.pad_left + kw * s.dilation_w;
              if (ih < 0 || ih >= s.h || iw < 0 || iw >= s.w) continue;
              for (int64_t c = 0; c < s.c; ++c) {
                const int64_t xi = ((n * s.h + ih) * s.w + iw) * s.c + c;
                const int64_t yi = ((n * s.oh + oh) * s.ow + ow) * s.c + c;
                const int64_t wi = (kh * s.kw + kw) * s.c + c;
                y[yi] += double(x[xi]) * w[wi];
                dx[xi] += double(dy[yi]) * w[wi];
                dw[wi] += double(x[xi]) * dy[yi];
              }
            }
    for (int64_t i = 0; i < s.y_size(); ++i) {
      y[i] += bias[i % s.c];
      db[i % s.c] += dy[i];
    }
    const std::vector<float> want_y(y.begin(), y.end()), want_dx(dx.begin(), dx.end()), want_dw(dw.begin(), dw.end()),
        want_db(db.begin(), db.end());
    const float tol_sum = 1e-5f + 4e-7f * static_cast<float>(s.n * s.oh * s.ow);
    for_each_isa([&](Isa isa) {
      GuardedBuffer y1(s.y_size()), dx1(s.x_size()), dw1(s.w_size()), db1(s.c);
      for_each_thread_count([&](int threads) {
        const std::string context = shape + " isa=" + isa_name(isa) + " threads=" + std::to_string(threads);
        GuardedBuffer yo(s.y_size()), dxo(s.x_size()), dwo(s.w_size()), dbo(s.c);
        conv2d_forward(s, Conv2dEpilogue{}, x.data(), w.data(), bias.data(), yo.data());
        conv2d_backward_input(s, dxo.data(), dy.data(), w.data());
        conv2d_backward_filter(s, dwo.data(), dbo.data(), dy.data(), x.data());
        expect_close(yo.data(), want_y.data(), want_y.size(), 1e-5f, 1e-5f, context + " y");
        expect_close(dxo.data(), want_dx.data(), want_dx.size(), 1e-5f, 1e-5f, context + " dx");
        expect_close(dwo.data(), want_dw.data(), want_dw.size(), tol_sum, 1e-5f, context + " dw");
        expect_close(dbo.data(), want_db.data(), want_db.size(), tol_sum, 1e-5f, context + " dbias");
        if (threads == 1) {
          std::copy_n(yo.data(), yo.size(), y1.data());
          std::copy_n(dxo.data(), dxo.size(), dx1.data());
          std::copy_n(dwo.data(), dwo.size(), dw1.data());
          std::copy_n(dbo.data(), dbo.size(), db1.data());
        } else {
          expect_identical(yo.data(), y1.data(), yo.size(), context + " y vs 1 thread");
          expect_identical(dxo.data(), dx1.data(), dxo.size(), context + " dx vs 1 thread");
          expect_identical(dwo.data(), dw1.data(), dwo.size(), context + " dw vs 1 thread");
          expect_identical(dbo.data(), db1.data(), dbo.size(), context + " dbias vs 1 thread");
        }
      });
    });
  }
}

// Rows that start off floats past a vector boundary (as a Float32Array 16 bytes into a cache line does)
// take the aligned-interior path of the forward row kernels (vectors shifted to aligned addresses, the
// taps doubled): results must be bit-identical to the same data in aligned rows, on every ISA level.
TF_TEST(dwconv_row_kernels_shifted_rows_are_identical) {
  int entries = 0;
  const DwconvUkernelEntry* list = dwconv_ukernel_entries(&entries);
  for (int e = 0; e < entries; ++e) {
    if (kernel_table_for(list[e].isa) == nullptr) continue;
    const DwconvUkernel& uk = list[e].ukernel;
    for (int64_t c : {16, 32, 48, 80}) {
      for (int64_t kw : {3, 5}) {
        for (int64_t rows : {1, 3}) {
          for (int64_t width : {1, 2, 3, 7, 20}) {
            for (int64_t pad : {0, 1, 2}) {
              const int64_t count = width + 2 * pad - kw + 1;
              if (count < 1) continue;
              for (int64_t off : {1, 4, 8, 12, 15}) {
                const std::string context = row_case(uk.name, c, kw, rows, count, pad, width) + " off=" + std::to_string(off);
                Rng rng(static_cast<uint64_t>(c + 31 * kw + 7 * rows + 3 * width + pad + 101 * off));
                Buffers aligned = guarded_rows(rows + 1, width * c, rng), w = doubled_rows(rows, kw, c, rng);
                Buffers shifted;
                std::vector<const float*> a_p, s_p, w_p;
                for (int64_t r = 0; r <= rows; ++r) {
                  shifted.push_back(std::make_unique<GuardedBuffer>(static_cast<size_t>(width * c + off)));
                  // The buffer ends at its guard page, so its start sits off floats before the aligned rows'.
                  std::copy_n(aligned[r]->data(), width * c, shifted.back()->data());
                  a_p.push_back(aligned[r]->data());
                  s_p.push_back(shifted.back()->data());
                  if (r < rows) w_p.push_back(w[r]->data());
                }
                GuardedBuffer bias(static_cast<size_t>(2 * c));
                rng.fill(bias.data(), static_cast<size_t>(c));
                std::copy_n(bias.data(), c, bias.data() + c);
                const size_t n = static_cast<size_t>(count * c);
                GuardedBuffer ya(n), ys(n), ya1(n), ys1(n);
                uk.fwd_row(c, kw, rows, a_p.data(), w_p.data(), bias.data(), ya.data(), count, pad, width, nullptr);
                uk.fwd_row(c, kw, rows, s_p.data(), w_p.data(), bias.data(), ys.data(), count, pad, width, s_p[0]);
                expect_identical(ys.data(), ya.data(), n, context + " fwd_row shifted vs aligned");
                if (kw == 3 && uk.fwd_row2 != nullptr) {
                  uk.fwd_row2(c, rows, a_p.data(), w_p.data(), nullptr, ya.data(), ya1.data(), count, pad, width, nullptr);
                  uk.fwd_row2(c, rows, s_p.data(), w_p.data(), nullptr, ys.data(), ys1.data(), count, pad, width, nullptr);
                  expect_identical(ys.data(), ya.data(), n, context + " fwd_row2 row 0 shifted vs aligned");
                  expect_identical(ys1.data(), ya1.data(), n, context + " fwd_row2 row 1 shifted vs aligned");
                }
              }
            }
          }
        }
      }
    }
  }
}
