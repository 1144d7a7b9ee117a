// Batch norm and layer norm kernels against naive double loops written here, on odd sizes, every ISA
// and 1/2 threads, with every buffer ending at a guard page; plus thread-count bit-identity of the
// blocked statistics on a large M.
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "kernels/norm.h"
#include "runtime/thread_pool.h"
#include "tests/testing.h"

using namespace tf;
using namespace tf::testing;

namespace {

using Buf = std::unique_ptr<GuardedBuffer>;

Buf guarded(const std::vector<float>& v) {
  Buf b = std::make_unique<GuardedBuffer>(v.size());
  for (size_t i = 0; i < v.size(); ++i) (*b)[i] = v[i];
  return b;
}
Buf empty(size_t n) { return std::make_unique<GuardedBuffer>(n); }

std::vector<float> random(Rng& rng, size_t n, float lo = -1, float hi = 1) {
  std::vector<float> v(n);
  rng.fill(v.data(), n, lo, hi);
  return v;
}

std::string shape(const char* what, int64_t m, int64_t c) {
  return std::string(what) + " m=" + std::to_string(m) + " c=" + std::to_string(c);
}

// Per-column mean and biased variance of x [M,C] (the batch-norm statistics), in double.
void naive_column_stats(int64_t m, int64_t c, const std::vector<float>& x, std::vector<double>& mean,
                        std::vector<double>& var) {
  mean.assign(c, 0);
  var.assign(c, 0);
  for (int64_t r = 0; r < m; ++r)
    for (int64_t j = 0; j < c; ++j) mean[j] += x[r * c + j];
  for (int64_t j = 0; j < c; ++j) mean[j] /= m;
  for (int64_t r = 0; r < m; ++r)
    for (int64_t j = 0; j < c; ++j) var[j] += (x[r * c + j] - mean[j]) * (x[r * c + j] - mean[j]);
  for (int64_t j = 0; j < c; ++j) var[j] /= m;
}

}  // namespace

TF_TEST(batch_norm_train_matches_naive) {
  Rng rng(11);
  const int64_t shapes[][2] = {{2, 1}, {3, 5}, {37, 3}, {129, 17}, {1000, 2}, {7, 70}};
  for_each_isa([&](Isa isa) {
    for_each_thread_count([&](int threads) {
      for (const auto& s : shapes) {
        const int64_t m = s[0], c = s[1];
        for (bool affine : {false, true}) {
          const double eps = 1e-5, momentum = 0.1;
          const auto x = random(rng, m * c, -2, 3);
          const auto gamma = random(rng, c, 0.5, 1.5), beta = random(rng, c);
          const auto rm0 = random(rng, c), rv0 = random(rng, c, 0.5, 2);
          std::vector<double> mean, var;
          naive_column_stats(m, c, x, mean, var);
          std::vector<float> y_ref(m * c), mean_ref(c), inv_ref(c), rm_ref(c), rv_ref(c);
          for (int64_t j = 0; j < c; ++j) {
            const double inv = 1 / std::sqrt(var[j] + eps);
            mean_ref[j] = static_cast<float>(mean[j]);
            inv_ref[j] = static_cast<float>(inv);
            rm_ref[j] = static_cast<float>((1 - momentum) * rm0[j] + momentum * mean[j]);
            rv_ref[j] = static_cast<float>((1 - momentum) * rv0[j] + momentum * var[j] * m / (m - 1));
            for (int64_t r = 0; r < m; ++r) {
              const double xhat = (x[r * c + j] - mean[j]) * inv;
              y_ref[r * c + j] = static_cast<float>(affine ? xhat * gamma[j] + beta[j] : xhat);
            }
          }
          Buf gx = guarded(x), gg = guarded(gamma), gb = guarded(beta), grm = guarded(rm0), grv = guarded(rv0);
          Buf y = empty(m * c), sm = empty(c), si = empty(c);
          batch_norm_train(m, c, eps, momentum, gx->data(), affine ? gg->data() : nullptr,
                           affine ? gb->data() : nullptr, grm->data(), grv->data(), y->data(), sm->data(),
                           si->data());
          const std::string ctx = shape("batch_norm_train", m, c) + " affine=" + std::to_string(affine) + " " +
                                  isa_name(isa) + " x" + std::to_string(threads);
          expect_close(y->data(), y_ref.data(), m * c, 2e-5f, 2e-5f, ctx + " y");
          expect_close(sm->data(), mean_ref.data(), c, 1e-6f, 1e-6f, ctx + " saveMean");
          expect_close(si->data(), inv_ref.data(), c, 1e-6f, 1e-6f, ctx + " saveInvStd");
          expect_close(grm->data(), rm_ref.data(), c, 1e-6f, 1e-6f, ctx + " runningMean");
          expect_close(grv->data(), rv_ref.data(), c, 1e-6f, 1e-6f, ctx + " runningVar");
        }
      }
    });
  });
}

TF_TEST(batch_norm_inference_matches_naive) {
  Rng rng(12);
  for_each_isa([&](Isa isa) {
    for_each_thread_count([&](int threads) {
      for (int64_t m : {1, 9, 301}) {
        const int64_t c = 13;
        const auto x = random(rng, m * c), gamma = random(rng, c), beta = random(rng, c);
        const auto rm = random(rng, c), rv = random(rng, c, 0.1, 2);
        std::vector<float> y_ref(m * c);
        for (int64_t r = 0; r < m; ++r)
          for (int64_t j = 0; j < c; ++j)
            y_ref[r * c + j] =
                static_cast<float>((x[r * c + j] - rm[j]) / std::sqrt(rv[j] + 1e-3) * gamma[j] + beta[j]);
        Buf gx = guarded(x), gg = guarded(gamma), gb = guarded(beta), grm = guarded(rm), grv = guarded(rv);
        Buf y = empty(m * c);
        batch_norm_inference(m, c, 1e-3, gx->data(), gg->data(), gb->data(), grm->data(), grv->data(), y->data());
        expect_close(y->data(), y_ref.data(), m * c, 1e-5f, 1e-5f,
                     shape("batch_norm_inference", m, c) + " " + isa_name(isa) + " x" + std::to_string(threads));
      }
    });
  });
}

TF_TEST(batch_norm_backward_matches_naive) {
  Rng rng(13);
  const int64_t shapes[][2] = {{2, 1}, {5, 3}, {37, 9}, {511, 4}, {3, 33}};
  for_each_isa([&](Isa isa) {
    for_each_thread_count([&](int threads) {
      for (const auto& s : shapes) {
        const int64_t m = s[0], c = s[1];
        const auto x = random(rng, m * c, -1, 2), dy = random(rng, m * c), gamma = random(rng, c, 0.5, 1.5);
        std::vector<double> mean, var;
        naive_column_stats(m, c, x, mean, var);
        std::vector<float> save_mean(c), save_inv(c), dx_ref(m * c), dg_ref(c), db_ref(c);
        for (int64_t j = 0; j < c; ++j) {
          save_mean[j] = static_cast<float>(mean[j]);
          save_inv[j] = static_cast<float>(1 / std::sqrt(var[j] + 1e-5));
          double sdy = 0, sdyx = 0;
          for (int64_t r = 0; r < m; ++r) {
            const double xhat = (x[r * c + j] - save_mean[j]) * save_inv[j];
            sdy += dy[r * c + j];
            sdyx += dy[r * c + j] * xhat;
          }
          db_ref[j] = static_cast<float>(sdy);
          dg_ref[j] = static_cast<float>(sdyx);
          for (int64_t r = 0; r < m; ++r) {
            const double xhat = (x[r * c + j] - save_mean[j]) * save_inv[j];
            dx_ref[r * c + j] =
                static_cast<float>(gamma[j] * save_inv[j] * (dy[r * c + j] - sdy / m - xhat * sdyx / m));
          }
        }
        Buf gx = guarded(x), gdy = guarded(dy), gg = guarded(gamma), gm = guarded(save_mean), gi = guarded(save_inv);
        Buf dx = empty(m * c), dg = empty(c), db = empty(c);
        batch_norm_backward(m, c, dx->data(), dg->data(), db->data(), gdy->data(), gx->data(), gg->data(), gm->data(),
                            gi->data());
        const std::string ctx =
            shape("batch_norm_backward", m, c) + " " + isa_name(isa) + " x" + std::to_string(threads);
        // dx loses precision to cancellation (dy - mean(dy) - ...) on top of a 1/std factor.
        expect_close(dx->data(), dx_ref.data(), m * c, 1e-4f, 1e-4f, ctx + " dx");
        expect_close(dg->data(), dg_ref.data(), c, 1e-4f, 1e-5f, ctx + " dgamma");
        expect_close(db->data(), db_ref.data(), c, 1e-4f, 1e-5f, ctx + " dbeta");
      }
    });
  });
}

TF_TEST(layer_norm_forward_and_backward_match_naive) {
  Rng rng(14);
  const int64_t shapes[][2] = {{1, 1}, {1, 7}, {3, 5}, {17, 33}, {64, 129}, {2, 1000}};
  for_each_isa([&](Isa isa) {
    for_each_thread_count([&](int threads) {
      for (const auto& s : shapes) {
        const int64_t m = s[0], d = s[1];
        for (bool affine : {false, true}) {
          const auto x = random(rng, m * d, -2, 2), dy = random(rng, m * d);
          const auto gamma = random(rng, d, 0.5, 1.5), beta = random(rng, d);
          std::vector<float> y_ref(m * d), mean_ref(m), inv_ref(m), dx_ref(m * d);
          std::vector<double> dg(d, 0), db(d, 0);
          for (int64_t r = 0; r < m; ++r) {
            double mean = 0, var = 0;
            for (int64_t j = 0; j < d; ++j) mean += x[r * d + j];
            mean /= d;
            for (int64_t j = 0; j < d; ++j) var += (x[r * d + j] - mean) * (x[r * d + j] - mean);
            var /= d;
            const double inv = 1 / std::sqrt(var + 1e-5);
            mean_ref[r] = static_cast<float>(mean);
            inv_ref[r] = static_cast<float>(inv);
            double sg = 0, sgx = 0;
            for (int64_t j = 0; j < d; ++j) {
              const double xhat = (x[r * d + j] - mean) * inv;
              const double g = dy[r * d + j] * (affine ? gamma[j] : 1.0);
              y_ref[r * d + j] = static_cast<float>(affine ? xhat * gamma[j] + beta[j] : xhat);
              sg += g;
              sgx += g * xhat;
              dg[j] += dy[r * d + j] * xhat;
              db[j] += dy[r * d + j];
            }
            for (int64_t j = 0; j < d; ++j) {
              const double xhat = (x[r * d + j] - mean) * inv;
              const double g = dy[r * d + j] * (affine ? gamma[j] : 1.0);
              dx_ref[r * d + j] = static_cast<float>(inv * (g - sg / d - xhat * sgx / d));
            }
          }
          const std::vector<float> dg_ref(dg.begin(), dg.end()), db_ref(db.begin(), db.end());
          const std::string ctx = shape("layer_norm", m, d) + " affine=" + std::to_string(affine) + " " +
                                  isa_name(isa) + " x" + std::to_string(threads);
          Buf gx = guarded(x), gg = guarded(gamma), gb = guarded(beta), gdy = guarded(dy);
          Buf y = empty(m * d), sm = empty(m), si = empty(m);
          const float* gamma_p = affine ? gg->data() : nullptr;
          layer_norm(m, d, 1e-5, gx->data(), gamma_p, affine ? gb->data() : nullptr, y->data(), sm->data(),
                     si->data());
          expect_close(y->data(), y_ref.data(), m * d, 2e-5f, 2e-5f, ctx + " y");
          expect_close(sm->data(), mean_ref.data(), m, 1e-6f, 1e-6f, ctx + " saveMean");
          expect_close(si->data(), inv_ref.data(), m, 1e-5f, 1e-5f, ctx + " saveInvStd");

          Buf dx = empty(m * d), dgb = empty(d), dbb = empty(d);
          layer_norm_backward(m, d, dx->data(), dgb->data(), dbb->data(), gdy->data(), gx->data(), gamma_p, sm->data(),
                              si->data());
          expect_close(dx->data(), dx_ref.data(), m * d, 1e-4f, 1e-4f, ctx + " dx");
          expect_close(dgb->data(), dg_ref.data(), d, 1e-4f, 1e-5f, ctx + " dgamma");
          expect_close(dbb->data(), db_ref.data(), d, 1e-4f, 1e-5f, ctx + " dbeta");
          // Skipping the parameter gradients must not change dx.
          Buf dx2 = empty(m * d);
          layer_norm_backward(m, d, dx2->data(), nullptr, nullptr, gdy->data(), gx->data(), gamma_p, sm->data(),
                              si->data());
          expect_identical(dx2->data(), dx->data(), m * d, ctx + " dx without dgamma/dbeta");
        }
      }
    });
  });
}

// The statistics over M are the one place where threads share a reduction: they must still give the
// same bits for 1 and 2 threads (block boundaries depend only on M).
TF_TEST(norm_statistics_are_thread_count_independent) {
  Rng rng(15);
  const int64_t m = 200003, c = 3, d = 5;
  const auto x = random(rng, m * c, -1, 4), dy = random(rng, m * c);
  std::vector<std::vector<float>> results[2];
  for_each_thread_count([&](int threads) {
    std::vector<float> y(m * c), mean(c), inv(c), rm(c, 0), rv(c, 1), dx(m * c), dg(c), db(c);
    batch_norm_train(m, c, 1e-5, 0.1, x.data(), nullptr, nullptr, rm.data(), rv.data(), y.data(), mean.data(),
                     inv.data());
    batch_norm_backward(m, c, dx.data(), dg.data(), db.data(), dy.data(), x.data(), nullptr, mean.data(), inv.data());
    // layer norm with a tall x: dgamma/dbeta reduce over many rows
    const int64_t lm = m * c / d;
    std::vector<float> ly(lm * d), lmean(lm), linv(lm), ldx(lm * d), ldg(d), ldb(d);
    layer_norm(lm, d, 1e-5, x.data(), nullptr, nullptr, ly.data(), lmean.data(), linv.data());
    layer_norm_backward(lm, d, ldx.data(), ldg.data(), ldb.data(), dy.data(), x.data(), nullptr, lmean.data(),
                        linv.data());
    results[threads - 1] = {y, mean, inv, rm, rv, dx, dg, db, ly, ldx, ldg, ldb};
  });
  const char* names[] = {"y", "mean", "invStd", "runningMean", "runningVar", "dx", "dgamma", "dbeta",
                         "ln y", "ln dx", "ln dgamma", "ln dbeta"};
  for (size_t k = 0; k < results[0].size(); ++k) {
    expect_identical(results[1][k].data(), results[0][k].data(), results[0][k].size(),
                     std::string("1 vs 2 threads: ") + names[k]);
  }
}

// A large constant offset: the two-pass double statistics keep the variance exact where a one-pass
// float E[x²]-E[x]² would lose it entirely.
TF_TEST(batch_norm_large_mean_keeps_variance) {
  const int64_t m = 4096, c = 1;
  std::vector<float> x(m);
  for (int64_t r = 0; r < m; ++r) x[r] = 10000.0f + ((r % 2) ? 1.0f : -1.0f);
  std::vector<float> y(m), mean(1), inv(1);
  batch_norm_train(m, c, 1e-5, 0.1, x.data(), nullptr, nullptr, nullptr, nullptr, y.data(), mean.data(), inv.data());
  const float inv_expected = static_cast<float>(1 / std::sqrt(1.0 + 1e-5));
  expect_close(mean.data(), std::vector<float>{10000.0f}.data(), 1, 0, 0, "mean of 10000±1");
  expect_close(inv.data(), &inv_expected, 1, 0, 1e-6f, "invStd of 10000±1");
  TF_CHECK(std::fabs(y[0] + 1) < 1e-4 && std::fabs(y[1] - 1) < 1e-4, "y of 10000±1 is not ±1");
}
