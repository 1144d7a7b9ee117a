// Tests for softmax, log-softmax and fused cross-entropy against naive double loops: inner == 1 and
// inner > 1 (strips wider and narrower than the strip width), large logits (stability), both target
// kinds with and without label smoothing, and thread-count independence.
#include <cmath>
#include <string>
#include <vector>

#include "kernels/softmax.h"
#include "tests/testing.h"

using namespace tf;
using namespace tf::kernels;
using namespace tf::testing;

namespace {

struct Dims {
  int64_t outer, dim, inner;
};

std::string str(const Dims& d) {
  return "[" + std::to_string(d.outer) + "," + std::to_string(d.dim) + "," + std::to_string(d.inner) + "]";
}

// Naive log-softmax of every row in double.
std::vector<double> naive_log_softmax(const Dims& s, const float* x) {
  std::vector<double> out(static_cast<size_t>(s.outer * s.dim * s.inner));
  for (int64_t o = 0; o < s.outer; ++o) {
    for (int64_t i = 0; i < s.inner; ++i) {
      auto at = [&](int64_t d) { return (o * s.dim + d) * s.inner + i; };
      double m = -INFINITY;
      for (int64_t d = 0; d < s.dim; ++d) m = std::fmax(m, x[at(d)]);
      double sum = 0;
      for (int64_t d = 0; d < s.dim; ++d) sum += std::exp(x[at(d)] - m);
      for (int64_t d = 0; d < s.dim; ++d) out[at(d)] = x[at(d)] - m - std::log(sum);
    }
  }
  return out;
}

}  // namespace

TF_TEST(softmax_and_log_softmax_forward_backward_match_naive) {
  const Dims shapes[] = {{1, 1, 1}, {3, 7, 1}, {2, 1001, 1}, {5, 3, 1}, {2, 5, 3}, {3, 4, 67}, {2, 9, 130}};
  for_each_isa([&](Isa) {
    for_each_thread_count([&](int threads) {
      for (const Dims& s : shapes) {
        const int64_t n = s.outer * s.dim * s.inner;
        Rng rng(static_cast<uint64_t>(n));
        GuardedBuffer x(n), y(n), ly(n), dy(n), dx(n), ldx(n);
        rng.fill(x.data(), n, -5, 5);
        x[0] = 80.0f;  // a large logit: exp(x) alone would overflow float
        rng.fill(dy.data(), n);
        softmax(s.outer, s.dim, s.inner, x.data(), y.data());
        log_softmax(s.outer, s.dim, s.inner, x.data(), ly.data());
        softmax_backward(s.outer, s.dim, s.inner, dx.data(), dy.data(), y.data());
        log_softmax_backward(s.outer, s.dim, s.inner, ldx.data(), dy.data(), ly.data());
        const auto lp = naive_log_softmax(s, x.data());
        std::vector<float> ey(n), ely(n), edx(n), eldx(n);
        for (int64_t i = 0; i < n; ++i) ey[i] = static_cast<float>(std::exp(lp[i])), ely[i] = static_cast<float>(lp[i]);
        for (int64_t o = 0; o < s.outer; ++o) {
          for (int64_t i = 0; i < s.inner; ++i) {
            auto at = [&](int64_t d) { return (o * s.dim + d) * s.inner + i; };
            double dot = 0, sum = 0;
            for (int64_t d = 0; d < s.dim; ++d) dot += dy[at(d)] * std::exp(lp[at(d)]), sum += dy[at(d)];
            for (int64_t d = 0; d < s.dim; ++d) {
              edx[at(d)] = static_cast<float>(std::exp(lp[at(d)]) * (dy[at(d)] - dot));
              eldx[at(d)] = static_cast<float>(dy[at(d)] - std::exp(lp[at(d)]) * sum);
            }
          }
        }
        const std::string ctx = str(s) + " threads=" + std::to_string(threads);
        const float tol = 1e-5f + 2e-7f * static_cast<float>(s.dim);
        expect_close(y.data(), ey.data(), n, tol, 1e-5f, "softmax " + ctx);
        expect_close(ly.data(), ely.data(), n, tol, 1e-5f, "logSoftmax " + ctx);
        expect_close(dx.data(), edx.data(), n, tol, 1e-5f, "softmaxBackward " + ctx);
        expect_close(ldx.data(), eldx.data(), n, tol, 1e-5f, "logSoftmaxBackward " + ctx);
      }
    });
  });
}

TF_TEST(softmax_cross_entropy_matches_naive_for_both_target_kinds) {
  const struct {
    int64_t n, c;
  } shapes[] = {{1, 1}, {3, 2}, {7, 10}, {33, 101}, {150, 10}};  // 150 rows: blocks of 64, 64 and 22
  for_each_thread_count([&](int threads) {
    for (const auto& sh : shapes) {
      for (float smoothing : {0.0f, 0.1f, 0.5f}) {
        for (bool index_targets : {true, false}) {
          const int64_t n = sh.n, c = sh.c;
          Rng rng(static_cast<uint64_t>(n * c + 1));
          GuardedBuffer logits(n * c), probs(n * c), loss(n), dloss(n), dlogits(n * c), prob_t(n * c);
          std::vector<int32_t> idx(n);
          rng.fill(logits.data(), n * c, -4, 4);
          logits[0] = 90.0f;
          rng.fill(dloss.data(), n);
          for (int64_t r = 0; r < n; ++r) {
            idx[r] = static_cast<int32_t>(rng.below(c));
            double total = 0;
            for (int64_t j = 0; j < c; ++j) total += prob_t[r * c + j] = rng.uniform(0, 1);
            for (int64_t j = 0; j < c; ++j) prob_t[r * c + j] = static_cast<float>(prob_t[r * c + j] / total);
          }
          CrossEntropyTarget target;
          if (index_targets) target.index = idx.data();
          else target.prob = prob_t.data();
          softmax_cross_entropy(n, c, smoothing, logits.data(), target, loss.data(), probs.data());
          softmax_cross_entropy_backward(n, c, smoothing, dlogits.data(), dloss.data(), probs.data(), target);
          const Dims s{n, c, 1};
          const auto lp = naive_log_softmax(s, logits.data());
          std::vector<float> eloss(n), eprobs(n * c), edl(n * c);
          for (int64_t r = 0; r < n; ++r) {
            double l = 0;
            for (int64_t j = 0; j < c; ++j) {
              const double onehot = index_targets ? (j == idx[r] ? 1.0 : 0.0) : prob_t[r * c + j];
              const double q = (1 - smoothing) * onehot + smoothing / static_cast<double>(c);
              l -= q * lp[r * c + j];
              eprobs[r * c + j] = static_cast<float>(std::exp(lp[r * c + j]));
              edl[r * c + j] = static_cast<float>((std::exp(lp[r * c + j]) - q) * dloss[r]);
            }
            eloss[r] = static_cast<float>(l);
          }
          const std::string ctx = "n=" + std::to_string(n) + " c=" + std::to_string(c) +
                                  " smoothing=" + std::to_string(smoothing) +
                                  (index_targets ? " index" : " prob") + " threads=" + std::to_string(threads);
          const float tol = 1e-5f + 2e-7f * static_cast<float>(c);
          expect_close(loss.data(), eloss.data(), n, tol, 1e-5f, "loss " + ctx);
          expect_close(probs.data(), eprobs.data(), n * c, tol, 1e-5f, "probs " + ctx);
          expect_close(dlogits.data(), edl.data(), n * c, tol, 1e-5f, "dlogits " + ctx);
        }
      }
    }
  });
}

TF_TEST(softmax_family_is_identical_for_any_thread_count) {
  const Dims shapes[] = {{4001, 33, 1}, {17, 29, 257}};
  for (const Dims& s : shapes) {
    const int64_t n = s.outer * s.dim * s.inner;
    std::vector<float> x(n), dy(n);
    Rng rng(2);
    rng.fill(x.data(), n, -6, 6), rng.fill(dy.data(), n);
    std::vector<float> y[2], ly[2], dx[2], ldx[2];
    for_each_thread_count([&](int threads) {
      const int t = threads - 1;
      y[t].assign(n, 0), ly[t].assign(n, 0), dx[t].assign(n, 0), ldx[t].assign(n, 0);
      softmax(s.outer, s.dim, s.inner, x.data(), y[t].data());
      log_softmax(s.outer, s.dim, s.inner, x.data(), ly[t].data());
      softmax_backward(s.outer, s.dim, s.inner, dx[t].data(), dy.data(), y[t].data());
      log_softmax_backward(s.outer, s.dim, s.inner, ldx[t].data(), dy.data(), ly[t].data());
    });
    expect_identical(y[0].data(), y[1].data(), n, "softmax " + str(s));
    expect_identical(ly[0].data(), ly[1].data(), n, "logSoftmax " + str(s));
    expect_identical(dx[0].data(), dx[1].data(), n, "softmaxBackward " + str(s));
    expect_identical(ldx[0].data(), ldx[1].data(), n, "logSoftmaxBackward " + str(s));
  }
  // Cross-entropy over many rows.
  const int64_t n = 3001, c = 37;
  std::vector<float> logits(n * c), dloss(n);
  std::vector<int32_t> idx(n);
  Rng rng(4);
  rng.fill(logits.data(), n * c), rng.fill(dloss.data(), n);
  for (auto& t : idx) t = static_cast<int32_t>(rng.below(c));
  std::vector<float> loss[2], probs[2], dl[2];
  for_each_thread_count([&](int threads) {
    const int t = threads - 1;
    loss[t].assign(n, 0), probs[t].assign(n * c, 0), dl[t].assign(n * c, 0);
    CrossEntropyTarget target;
    target.index = idx.data();
    softmax_cross_entropy(n, c, 0.1f, logits.data(), target, loss[t].data(), probs[t].data());
    softmax_cross_entropy_backward(n, c, 0.1f, dl[t].data(), dloss.data(), probs[t].data(), target);
  });
  expect_identical(loss[0].data(), loss[1].data(), n, "cross-entropy loss");
  expect_identical(probs[0].data(), probs[1].data(), n * c, "cross-entropy probs");
  expect_identical(dl[0].data(), dl[1].data(), n * c, "cross-entropy dlogits");
}
