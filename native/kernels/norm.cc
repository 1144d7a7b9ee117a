// Batch norm and layer norm, forward and backward. Statistics accumulate in double (a float sum over
// a large M drifts); outputs are float. Two passes (mean, then squared deviations) keep the variance
// accurate when the mean is large compared to the spread. The per-element math (x - mean)·invStd is
// also done in double: when the spread is small next to the mean, invStd is large and amplifies any
// float rounding of (x - mean); doubles cost little here because these loops are memory-bound.
#include "kernels/norm.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "runtime/thread_pool.h"

namespace tf {
namespace {

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// Rows per parallel_for task for row-wise work over rows of `width` elements.
int64_t row_grain(int64_t width) { return std::max<int64_t>(1, 8192 / width); }

// --- fixed-order reduction over rows --------------------------------------------------------------
// Column sums over M rows have few outputs (one or two per channel), so they cannot be split over
// outputs. Instead rows are cut into blocks whose boundaries depend only on (M, width), each block is
// accumulated by one task into its own partial row, and the partials are added in block order on one
// thread: the result is the same bit pattern for any thread count.

constexpr int64_t kBlockElements = 16384;  // at least this much work per block
constexpr int64_t kMaxBlocks = 256;         // enough to keep every core busy
constexpr int64_t kPartialBudget = 1 << 20; // doubles of partials we are willing to hold

struct RowBlocks {
  int64_t rows;   // rows per block (the last block may hold fewer)
  int64_t count;  // number of blocks
};

RowBlocks row_blocks(int64_t m, int64_t width) {
  const int64_t max_blocks = std::clamp<int64_t>(kPartialBudget / width, 1, kMaxBlocks);
  const int64_t rows = std::max({int64_t{1}, ceil_div(kBlockElements, width), ceil_div(m, max_blocks)});
  return {rows, ceil_div(m, rows)};
}

// out[0..width) = Σ over blocks (in block order) of what block_fn(begin, end, partial) accumulates
// into a zeroed partial[0..width) for rows [begin, end).
template <class BlockFn>
void reduce_row_blocks(int64_t m, int64_t width, double* out, const BlockFn& block_fn) {
  const RowBlocks b = row_blocks(m, width);
  std::vector<double> partial(static_cast<size_t>(b.count * width), 0.0);
  parallel_for(b.count, 1, [&](int64_t first, int64_t last) {
    for (int64_t k = first; k < last; ++k) {
      block_fn(k * b.rows, std::min(m, (k + 1) * b.rows), partial.data() + k * width);
    }
  });
  std::fill(out, out + width, 0.0);
  for (int64_t k = 0; k < b.count; ++k) {
    const double* p = partial.data() + k * width;
    for (int64_t j = 0; j < width; ++j) out[j] += p[j];
  }
}

// Σ f(i) for i in [0, n) in double with eight interleaved accumulators: a fixed order that the
// compiler can vectorize (a single running sum is a serial dependency chain).
template <class F>
double sum8(int64_t n, const F& f) {
  double acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    for (int j = 0; j < 8; ++j) acc[j] += f(i + j);
  }
  double tail = 0;
  for (; i < n; ++i) tail += f(i);
  return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7])) + tail;
}

// y[r,j] = (x[r,j] - center[j]) * scale[j] + shift[j] for the M rows of width C.
void affine_columns(int64_t m, int64_t c, const float* x, const double* center, const double* scale,
                    const double* shift, float* y) {
  parallel_for(m, row_grain(c), [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      const float* xr = x + r * c;
      float* yr = y + r * c;
      for (int64_t j = 0; j < c; ++j) yr[j] = static_cast<float>((xr[j] - center[j]) * scale[j] + shift[j]);
    }
  });
}

}  // namespace

// --- batch norm: x [M,C] normalized per channel over M ----------------------------------------------

void batch_norm_train(int64_t m, int64_t c, double eps, double momentum, const float* x, const float* gamma,
                      const float* beta, float* running_mean, float* running_var, float* y, float* save_mean,
                      float* save_inv_std) {
  std::vector<double> mean(static_cast<size_t>(c)), sq(static_cast<size_t>(c));
  reduce_row_blocks(m, c, mean.data(), [&](int64_t begin, int64_t end, double* acc) {
    for (int64_t r = begin; r < end; ++r) {
      const float* xr = x + r * c;
      for (int64_t j = 0; j < c; ++j) acc[j] += xr[j];
    }
  });
  for (double& s : mean) s /= static_cast<double>(m);
  reduce_row_blocks(m, c, sq.data(), [&](int64_t begin, int64_t end, double* acc) {
    for (int64_t r = begin; r < end; ++r) {
      const float* xr = x + r * c;
      for (int64_t j = 0; j < c; ++j) {
        const double delta = xr[j] - mean[j];
        acc[j] += delta * delta;
      }
    }
  });

  std::vector<double> scale(static_cast<size_t>(c)), shift(static_cast<size_t>(c));
  for (int64_t j = 0; j < c; ++j) {
    const double var = sq[j] / static_cast<double>(m);  // biased: what the batch is normalized with
    const double inv_std = 1.0 / std::sqrt(var + eps);
    save_mean[j] = static_cast<float>(mean[j]);
    save_inv_std[j] = static_cast<float>(inv_std);
    if (running_mean != nullptr) {
      const double unbiased = sq[j] / static_cast<double>(m - 1);
      running_mean[j] = static_cast<float>((1.0 - momentum) * running_mean[j] + momentum * mean[j]);
      running_var[j] = static_cast<float>((1.0 - momentum) * running_var[j] + momentum * unbiased);
    }
    scale[j] = gamma != nullptr ? gamma[j] * inv_std : inv_std;
    shift[j] = beta != nullptr ? beta[j] : 0.0;
  }
  affine_columns(m, c, x, mean.data(), scale.data(), shift.data(), y);
}

void batch_norm_inference(int64_t m, int64_t c, double eps, const float* x, const float* gamma, const float* beta,
                          const float* running_mean, const float* running_var, float* y) {
  std::vector<double> center(static_cast<size_t>(c)), scale(static_cast<size_t>(c)), shift(static_cast<size_t>(c));
  for (int64_t j = 0; j < c; ++j) {
    const double inv_std = 1.0 / std::sqrt(static_cast<double>(running_var[j]) + eps);
    center[j] = running_mean[j];
    scale[j] = gamma != nullptr ? gamma[j] * inv_std : inv_std;
    shift[j] = beta != nullptr ? beta[j] : 0.0;
  }
  affine_columns(m, c, x, center.data(), scale.data(), shift.data(), y);
}

// With xhat = (x - mean)·inv_std:  dbeta = Σ dy,  dgamma = Σ dy·xhat,
// dx = gamma·inv_std·(dy - dbeta/M - xhat·dgamma/M).
void batch_norm_backward(int64_t m, int64_t c, float* dx, float* dgamma, float* dbeta, const float* dy,
                         const float* x, const float* gamma, const float* save_mean, const float* save_inv_std) {
  // sums[0..C) = Σ dy, sums[C..2C) = Σ dy·(x - mean)
  std::vector<double> sums(static_cast<size_t>(2 * c));
  reduce_row_blocks(m, 2 * c, sums.data(), [&](int64_t begin, int64_t end, double* acc) {
    double* acc_dy = acc;
    double* acc_dyx = acc + c;
    for (int64_t r = begin; r < end; ++r) {
      const float* dyr = dy + r * c;
      const float* xr = x + r * c;
      for (int64_t j = 0; j < c; ++j) {
        acc_dy[j] += dyr[j];
        acc_dyx[j] += static_cast<double>(dyr[j]) * (xr[j] - save_mean[j]);
      }
    }
  });

  std::vector<double> mean(save_mean, save_mean + c);
  std::vector<double> a(static_cast<size_t>(c)), b(static_cast<size_t>(c)), k(static_cast<size_t>(c));
  const double inv_m = 1.0 / static_cast<double>(m);
  for (int64_t j = 0; j < c; ++j) {
    const double inv_std = save_inv_std[j];
    const double sum_dy = sums[j];
    const double sum_dyxhat = sums[c + j] * inv_std;
    if (dbeta != nullptr) dbeta[j] = static_cast<float>(sum_dy);
    if (dgamma != nullptr) dgamma[j] = static_cast<float>(sum_dyxhat);
    a[j] = (gamma != nullptr ? gamma[j] : 1.0) * inv_std;
    b[j] = sum_dy * inv_m;
    k[j] = sum_dyxhat * inv_m * inv_std;  // multiplies (x - mean), not xhat
  }
  parallel_for(m, row_grain(c), [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      const float* dyr = dy + r * c;
      const float* xr = x + r * c;
      float* dxr = dx + r * c;
      for (int64_t j = 0; j < c; ++j) dxr[j] = static_cast<float>(a[j] * (dyr[j] - b[j] - (xr[j] - mean[j]) * k[j]));
    }
  });
}

// --- layer norm: x [M,D] normalized per row over D -----------------------------------------------------

void layer_norm(int64_t m, int64_t d, double eps, const float* x, const float* gamma, const float* beta, float* y,
                float* save_mean, float* save_inv_std) {
  parallel_for(m, row_grain(d), [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      const float* xr = x + r * d;
      float* yr = y + r * d;
      const double mean = sum8(d, [&](int64_t j) { return static_cast<double>(xr[j]); }) / static_cast<double>(d);
      const double var = sum8(d, [&](int64_t j) {
                           const double delta = xr[j] - mean;
                           return delta * delta;
                         }) /
                         static_cast<double>(d);
      const double inv_std = 1.0 / std::sqrt(var + eps);
      save_mean[r] = static_cast<float>(mean);
      save_inv_std[r] = static_cast<float>(inv_std);
      for (int64_t j = 0; j < d; ++j) {
        const double xhat = (xr[j] - mean) * inv_std;
        yr[j] = static_cast<float>((gamma != nullptr ? xhat * gamma[j] : xhat) + (beta != nullptr ? beta[j] : 0.0));
      }
    }
  });
}

namespace {

// dx for one row of layer norm backward (g = dy·gamma, xhat = (x - mean)·inv_std):
//   dx = inv_std·(g - mean(g) - xhat·mean(g·xhat)).
// When acc_dgamma/acc_dbeta are non-null, adds dy·xhat and dy into them (double).
void layer_norm_backward_row(int64_t d, float* dxr, const float* dyr, const float* xr, const float* gamma,
                             float mean, float inv_std, double* acc_dgamma, double* acc_dbeta) {
  const double mu = mean, inv = inv_std;
  auto g = [&](int64_t j) { return gamma != nullptr ? static_cast<double>(dyr[j]) * gamma[j] : dyr[j]; };
  auto xhat = [&](int64_t j) { return (xr[j] - mu) * inv; };
  const double mean_g = sum8(d, g) / static_cast<double>(d);
  const double mean_gx = sum8(d, [&](int64_t j) { return g(j) * xhat(j); }) / static_cast<double>(d);
  // Parameter gradients first: dy is then fully read before dx is written (dx may alias dy).
  if (acc_dgamma != nullptr) {
    for (int64_t j = 0; j < d; ++j) {
      acc_dgamma[j] += dyr[j] * xhat(j);
      acc_dbeta[j] += dyr[j];
    }
  }
  for (int64_t j = 0; j < d; ++j) dxr[j] = static_cast<float>(inv * (g(j) - mean_g - xhat(j) * mean_gx));
}

}  // namespace

void layer_norm_backward(int64_t m, int64_t d, float* dx, float* dgamma, float* dbeta, const float* dy,
                         const float* x, const float* gamma, const float* save_mean, const float* save_inv_std) {
  auto row = [&](int64_t r, double* acc_dgamma, double* acc_dbeta) {
    layer_norm_backward_row(d, dx + r * d, dy + r * d, x + r * d, gamma, save_mean[r], save_inv_std[r], acc_dgamma,
                            acc_dbeta);
  };
  if (dgamma == nullptr && dbeta == nullptr) {
    parallel_for(m, row_grain(d), [&](int64_t begin, int64_t end) {
      for (int64_t r = begin; r < end; ++r) row(r, nullptr, nullptr);
    });
    return;
  }
  // dgamma/dbeta sum over rows: the same fixed-order block reduction as batch norm; dx rides along.
  std::vector<double> sums(static_cast<size_t>(2 * d));
  reduce_row_blocks(m, 2 * d, sums.data(), [&](int64_t begin, int64_t end, double* acc) {
    for (int64_t r = begin; r < end; ++r) row(r, acc, acc + d);
  });
  for (int64_t j = 0; j < d; ++j) {
    if (dgamma != nullptr) dgamma[j] = static_cast<float>(sums[j]);
    if (dbeta != nullptr) dbeta[j] = static_cast<float>(sums[d + j]);
  }
}

}  // namespace tf
