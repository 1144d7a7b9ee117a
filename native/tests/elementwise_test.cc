// Tests for the elementwise kernels against naive loops written here (in double): every unary op
// forward and backward, binary ops over many broadcast patterns, gradient reduction to the input
// shapes, thread-count independence, and the numerically delicate edges (softplus, sigmoid).
#include <cmath>
#include <string>
#include <vector>

#include "kernels/broadcast.h"
#include "kernels/elementwise.h"
#include "tests/testing.h"

using namespace tf;
using namespace tf::kernels;
using namespace tf::testing;

namespace {

// For each element of `out`, the flat index of the element of `in` it reads (right-aligned broadcast).
std::vector<int64_t> naive_index_map(const Shape& out, const Shape& in) {
  const size_t rank = out.size(), offset = rank - in.size();
  std::vector<int64_t> map(static_cast<size_t>(count(out)));
  std::vector<int64_t> idx(rank, 0);
  for (size_t i = 0; i < map.size(); ++i) {
    int64_t j = 0;
    for (size_t d = offset; d < rank; ++d) j = j * in[d - offset] + (in[d - offset] == 1 ? 0 : idx[d]);
    map[i] = j;
    for (size_t d = rank; d-- > 0;) {
      if (++idx[d] < out[d]) break;
      idx[d] = 0;
    }
  }
  return map;
}

const UnaryOp kUnaryOps[] = {UnaryOp::relu, UnaryOp::leaky_relu, UnaryOp::elu,    UnaryOp::sigmoid,
                             UnaryOp::tanh, UnaryOp::softplus,   UnaryOp::exp,    UnaryOp::log,
                             UnaryOp::sqrt, UnaryOp::square,     UnaryOp::abs,    UnaryOp::neg};
const char* kUnaryNames[] = {"relu", "leakyRelu", "elu", "sigmoid", "tanh", "softplus",
                             "exp",  "log",       "sqrt", "square", "abs",  "neg"};

double naive_unary(UnaryOp op, double a, double x) {
  switch (op) {
    case UnaryOp::relu: return x < 0 ? 0 : x;
    case UnaryOp::leaky_relu: return x > 0 ? x : a * x;
    case UnaryOp::elu: return x > 0 ? x : a * (std::exp(x) - 1);
    case UnaryOp::sigmoid: return 1 / (1 + std::exp(-x));
    case UnaryOp::tanh: return std::tanh(x);
    case UnaryOp::softplus: return std::log(1 + std::exp(x));
    case UnaryOp::exp: return std::exp(x);
    case UnaryOp::log: return std::log(x);
    case UnaryOp::sqrt: return std::sqrt(x);
    case UnaryOp::square: return x * x;
    case UnaryOp::abs: return std::fabs(x);
    case UnaryOp::neg: return -x;
  }
  return 0;
}

// Derivative written from x (independent of the kernel's choice to read x or y).
double naive_unary_grad(UnaryOp op, double a, double x) {
  switch (op) {
    case UnaryOp::relu: return x > 0 ? 1 : 0;
    case UnaryOp::leaky_relu: return x > 0 ? 1 : a;
    case UnaryOp::elu: return x > 0 ? 1 : a * std::exp(x);
    case UnaryOp::sigmoid: {
      const double s = 1 / (1 + std::exp(-x));
      return s * (1 - s);
    }
    case UnaryOp::tanh: return 1 - std::tanh(x) * std::tanh(x);
    case UnaryOp::softplus: return 1 / (1 + std::exp(-x));
    case UnaryOp::exp: return std::exp(x);
    case UnaryOp::log: return 1 / x;
    case UnaryOp::sqrt: return 0.5 / std::sqrt(x);
    case UnaryOp::square: return 2 * x;
    case UnaryOp::abs: return x > 0 ? 1 : (x < 0 ? -1 : 0);
    case UnaryOp::neg: return -1;
  }
  return 0;
}

bool positive_domain(UnaryOp op) { return op == UnaryOp::log || op == UnaryOp::sqrt; }

}  // namespace

TF_TEST(unary_forward_and_backward_match_naive) {
  for_each_isa([](Isa) {
    for_each_thread_count([](int threads) {
      for (int64_t n : {1, 7, 33, 1001, 40001}) {
        for (size_t k = 0; k < sizeof(kUnaryOps) / sizeof(kUnaryOps[0]); ++k) {
          const UnaryOp op = kUnaryOps[k];
          const float alpha = op == UnaryOp::leaky_relu ? 0.1f : op == UnaryOp::elu ? 1.3f : 0.0f;
          Rng rng(static_cast<uint64_t>(n * 31 + k));
          GuardedBuffer x(n), y(n), dy(n), dx(n);
          // Keep away from the kinks of relu/abs so the finite answer is unambiguous.
          if (positive_domain(op)) rng.fill(x.data(), n, 0.1f, 4.0f);
          else rng.fill(x.data(), n, -4.0f, 4.0f);
          rng.fill(dy.data(), n);
          unary(op, alpha, x.data(), y.data(), n);
          unary_backward(op, alpha, dx.data(), dy.data(), unary_backward_reads_x(op) ? x.data() : nullptr,
                         unary_backward_reads_y(op) ? y.data() : nullptr, n);
          std::vector<float> ey(n), edx(n);
          for (int64_t i = 0; i < n; ++i) {
            ey[i] = static_cast<float>(naive_unary(op, alpha, x[i]));
            edx[i] = static_cast<float>(dy[i] * naive_unary_grad(op, alpha, x[i]));
          }
          const std::string ctx = std::string(kUnaryNames[k]) + " n=" + std::to_string(n) +
                                  " threads=" + std::to_string(threads);
          expect_close(y.data(), ey.data(), n, 1e-6f, 2e-6f, "forward " + ctx);
          // Backward from y carries y's float rounding (e.g. sigmoid'(x) = y(1-y)).
          expect_close(dx.data(), edx.data(), n, 1e-5f, 1e-5f, "backward " + ctx);
        }
      }
    });
  });
}

// The transcendental ops run vector kernels with masked or scalar tails: a chunk boundary anywhere
// (n odd, chunks not multiples of the vector width) must not change a single bit.
TF_TEST(unary_results_are_identical_for_any_thread_count) {
  const int64_t n = 100003;
  for_each_isa([&](Isa isa) {
    for (size_t k = 0; k < sizeof(kUnaryOps) / sizeof(kUnaryOps[0]); ++k) {
      const UnaryOp op = kUnaryOps[k];
      const float alpha = op == UnaryOp::leaky_relu ? 0.1f : op == UnaryOp::elu ? 1.3f : 0.0f;
      Rng rng(static_cast<uint64_t>(k) + 5);
      std::vector<float> x(n), dy(n);
      if (positive_domain(op)) rng.fill(x.data(), n, 0.01f, 30.0f);
      else rng.fill(x.data(), n, -30.0f, 30.0f);
      rng.fill(dy.data(), n);
      std::vector<float> y[2], dx[2];
      for_each_thread_count([&](int threads) {
        const int t = threads - 1;
        y[t].assign(n, 0), dx[t].assign(n, 0);
        unary(op, alpha, x.data(), y[t].data(), n);
        unary_backward(op, alpha, dx[t].data(), dy.data(), x.data(), y[t].data(), n);
      });
      const std::string ctx = std::string(kUnaryNames[k]) + " isa=" + isa_name(isa);
      expect_identical(y[0].data(), y[1].data(), n, "forward " + ctx);
      expect_identical(dx[0].data(), dx[1].data(), n, "backward " + ctx);
    }
  });
}

TF_TEST(unary_softplus_and_sigmoid_are_stable_at_extremes) {
  const float xs[] = {-1000.0f, -100.0f, -30.0f, 19.5f, 20.0f, 20.5f, 100.0f, 1000.0f};
  const int64_t n = sizeof(xs) / sizeof(xs[0]);
  GuardedBuffer x(n), y(n), s(n), dy(n), dx(n);
  for (int64_t i = 0; i < n; ++i) x[i] = xs[i], dy[i] = 1.0f;
  unary(UnaryOp::softplus, 0, x.data(), y.data(), n);
  unary(UnaryOp::sigmoid, 0, x.data(), s.data(), n);
  unary_backward(UnaryOp::softplus, 0, dx.data(), dy.data(), x.data(), nullptr, n);
  for (int64_t i = 0; i < n; ++i) {
    const double expect = xs[i] > 20 ? xs[i] : std::log1p(std::exp(static_cast<double>(xs[i])));
    TF_CHECK(std::isfinite(y[i]) && std::fabs(y[i] - expect) <= 1e-6 * std::fmax(1.0, std::fabs(expect)),
             "softplus(" + std::to_string(xs[i]) + ") = " + std::to_string(y[i]));
    TF_CHECK(std::isfinite(s[i]) && s[i] >= 0.0f && s[i] <= 1.0f, "sigmoid(" + std::to_string(xs[i]) + ") not in [0,1]");
    TF_CHECK(std::isfinite(dx[i]), "softplus' not finite at " + std::to_string(xs[i]));
  }
  TF_CHECK(s[0] == 0.0f && s[n - 1] == 1.0f, "sigmoid saturates to exactly 0 and 1");
  TF_CHECK(y[0] == 0.0f && y[n - 1] == 1000.0f, "softplus(-1000) = 0 and softplus(1000) = 1000");
}

namespace {

const BinaryOp kBinaryOps[] = {BinaryOp::add, BinaryOp::sub, BinaryOp::mul,
                               BinaryOp::div, BinaryOp::maximum, BinaryOp::minimum};
const char* kBinaryNames[] = {"add", "sub", "mul", "div", "maximum", "minimum"};

double naive_binary(BinaryOp op, double a, double b) {
  switch (op) {
    case BinaryOp::add: return a + b;
    case BinaryOp::sub: return a - b;
    case BinaryOp::mul: return a * b;
    case BinaryOp::div: return a / b;
    case BinaryOp::maximum: return a >= b ? a : b;
    case BinaryOp::minimum: return a <= b ? a : b;
  }
  return 0;
}

void naive_binary_grad(BinaryOp op, double g, double a, double b, double* ga, double* gb) {
  switch (op) {
    case BinaryOp::add: *ga = g, *gb = g; return;
    case BinaryOp::sub: *ga = g, *gb = -g; return;
    case BinaryOp::mul: *ga = g * b, *gb = g * a; return;
    case BinaryOp::div: *ga = g / b, *gb = -g * a / (b * b); return;
    case BinaryOp::maximum:
      *ga = a == b ? g / 2 : (a > b ? g : 0);
      *gb = a == b ? g / 2 : (b > a ? g : 0);
      return;
    case BinaryOp::minimum:
      *ga = a == b ? g / 2 : (a < b ? g : 0);
      *gb = a == b ? g / 2 : (b < a ? g : 0);
      return;
  }
}

struct Case {
  Shape a, b;
};

// Same shape, scalar either side, trailing (bias-like) vector, middle axis, both-sided, rank
// mismatch, all-ones.
const Case kCases[] = {
    {{7}, {7}},          {{3, 5, 9}, {3, 5, 9}}, {{1}, {4, 3}},           {{5, 3}, {1}},
    {{6, 17}, {17}},     {{17}, {6, 17}},       {{4, 5, 3}, {5, 1}},     {{2, 1, 3}, {4, 1}},
    {{2, 1, 3}, {1, 4, 1}}, {{3, 1, 5, 1}, {1, 7, 1, 2}}, {{1, 1}, {1}}, {{9, 1, 1}, {1, 1, 11}},
    {{2, 3, 1, 5}, {3, 4, 5}}, {{128, 67}, {67}}, {{67, 1}, {67, 130}},
};

}  // namespace

TF_TEST(binary_forward_and_backward_match_naive_over_broadcast_patterns) {
  for_each_isa([](Isa) {
    for_each_thread_count([](int threads) {
      for (const Case& c : kCases) {
        for (size_t k = 0; k < sizeof(kBinaryOps) / sizeof(kBinaryOps[0]); ++k) {
          const BinaryOp op = kBinaryOps[k];
          const Shape out = broadcast_shape(c.a, c.b);
          const int64_t na = count(c.a), nb = count(c.b), n = count(out);
          Rng rng(static_cast<uint64_t>(n * 7 + k));
          GuardedBuffer a(na), b(nb), y(n), dy(n), da(na), db(nb);
          rng.fill(a.data(), na, -2, 2);
          rng.fill(b.data(), nb, 0.5f, 2);  // away from 0 for div
          // Force some ties for maximum/minimum.
          for (int64_t i = 0; i < std::min(na, nb); i += 3) a[i] = b[i];
          rng.fill(dy.data(), n);
          binary(op, c.a, a.data(), c.b, b.data(), y.data());
          binary_backward(op, da.data(), db.data(), dy.data(), c.a, a.data(), c.b, b.data());
          const auto ia = naive_index_map(out, c.a), ib = naive_index_map(out, c.b);
          std::vector<float> ey(n);
          std::vector<double> sa(na, 0.0), sb(nb, 0.0);
          for (int64_t i = 0; i < n; ++i) {
            const double av = a[ia[i]], bv = b[ib[i]];
            ey[i] = static_cast<float>(naive_binary(op, av, bv));
            double ga = 0, gb = 0;
            naive_binary_grad(op, dy[i], av, bv, &ga, &gb);
            sa[ia[i]] += ga;
            sb[ib[i]] += gb;
          }
          std::vector<float> eda(sa.begin(), sa.end()), edb(sb.begin(), sb.end());
          const std::string ctx = std::string(kBinaryNames[k]) + " a=" + str(c.a) + " b=" + str(c.b) +
                                  " threads=" + std::to_string(threads);
          expect_close(y.data(), ey.data(), n, 1e-6f, 1e-6f, "forward " + ctx);
          const float tol = 1e-5f + 2e-7f * static_cast<float>(n);
          expect_close(da.data(), eda.data(), na, tol, 1e-5f, "da " + ctx);
          expect_close(db.data(), edb.data(), nb, tol, 1e-5f, "db " + ctx);
        }
      }
    });
  });
}

TF_TEST(binary_backward_skips_null_gradients) {
  const Shape as{4, 5}, bs{5};
  GuardedBuffer a(20), b(5), dy(20), da(20), db(5);
  Rng rng(3);
  rng.fill(a.data(), 20), rng.fill(b.data(), 5), rng.fill(dy.data(), 20);
  binary_backward(BinaryOp::mul, nullptr, db.data(), dy.data(), as, a.data(), bs, b.data());
  binary_backward(BinaryOp::mul, da.data(), nullptr, dy.data(), as, a.data(), bs, b.data());
  for (int i = 0; i < 20; ++i) TF_CHECK(std::fabs(da[i] - dy[i] * b[i % 5]) < 1e-6f, "da with db=null");
  for (int j = 0; j < 5; ++j) {
    double s = 0;
    for (int r = 0; r < 4; ++r) s += dy[r * 5 + j] * a[r * 5 + j];
    TF_CHECK(std::fabs(db[j] - s) < 1e-5, "db with da=null");
  }
}

TF_TEST(binary_results_are_identical_for_any_thread_count) {
  // Big enough that every kernel splits: bias-like [N,C] + [C] and a middle-axis [A,B,C] * [A,1,C].
  const Case cases[] = {{{2003, 67}, {67}}, {{37, 301, 19}, {37, 1, 19}}, {{5, 1, 40001}, {1, 3, 1}}};
  for (const Case& c : cases) {
    for (size_t k = 0; k < sizeof(kBinaryOps) / sizeof(kBinaryOps[0]); ++k) {
      const Shape out = broadcast_shape(c.a, c.b);
      const int64_t na = count(c.a), nb = count(c.b), n = count(out);
      Rng rng(11 + k);
      std::vector<float> a(na), b(nb), dy(n);
      rng.fill(a.data(), na), rng.fill(b.data(), nb, 0.5f, 2), rng.fill(dy.data(), n);
      std::vector<float> y[2], da[2], db[2];
      for_each_thread_count([&](int threads) {
        const int t = threads - 1;
        y[t].assign(n, 0), da[t].assign(na, 0), db[t].assign(nb, 0);
        binary(kBinaryOps[k], c.a, a.data(), c.b, b.data(), y[t].data());
        binary_backward(kBinaryOps[k], da[t].data(), db[t].data(), dy.data(), c.a, a.data(), c.b, b.data());
      });
      const std::string ctx = std::string(kBinaryNames[k]) + " a=" + str(c.a) + " b=" + str(c.b);
      expect_identical(y[0].data(), y[1].data(), n, "forward " + ctx);
      expect_identical(da[0].data(), da[1].data(), na, "da " + ctx);
      expect_identical(db[0].data(), db[1].data(), nb, "db " + ctx);
    }
  }
}

TF_TEST(broadcast_plan_collapses_common_patterns) {
  const BroadcastPlan same = make_broadcast_plan({3, 5, 9}, {3, 5, 9});
  TF_CHECK(same.rank == 1 && same.size[0] == 135 && same.stride_a[0] == 1 && same.stride_b[0] == 1,
           "same shape collapses to one contiguous dim");
  const BroadcastPlan bias = make_broadcast_plan({6, 4, 17}, {17});
  TF_CHECK(bias.rank == 2 && bias.size[0] == 24 && bias.size[1] == 17 && bias.stride_b[0] == 0 &&
               bias.stride_b[1] == 1,
           "bias-like broadcast collapses to [rows, C]");
  const BroadcastPlan scalar = make_broadcast_plan({1}, {1, 1});
  TF_CHECK(scalar.rank == 1 && scalar.total == 1, "all-ones shapes give one element");
}
