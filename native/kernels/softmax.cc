#include "kernels/softmax.h"

#include <algorithm>
#include <cmath>

#include "kernels/reduce.h"
#include "runtime/thread_pool.h"
#include "ukernels/vmath_ukernels.h"

namespace tf::kernels {

namespace {

// Widest strip of the inner axis handled at once (its per-column state lives on the stack).
constexpr int64_t kStrip = 64;

// Elements per block of exponentials kept on the stack (a multiple of the 8 summation lanes).
constexpr int64_t kExpBlock = 256;

// Σ exp(p[d] - m) in 8 fixed lanes (deterministic, like sum_contiguous): the exponentials of a block
// come from the vector-math kernel `vexp`, then are added lane by lane in index order.
float sum_exp_shifted(VmathFn vexp, const float* p, int64_t n, float m) {
  float lane[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  float t[kExpBlock];
  for (int64_t i0 = 0; i0 < n; i0 += kExpBlock) {
    const int64_t len = std::min(kExpBlock, n - i0);
    for (int64_t j = 0; j < len; ++j) t[j] = p[i0 + j] - m;
    vexp(len, t, t);
    int64_t j = 0;
    for (; j + 8 <= len; j += 8) {
      for (int k = 0; k < 8; ++k) lane[k] += t[j + k];
    }
    for (int k = 0; j + k < len; ++k) lane[k] += t[j + k];
  }
  return ((lane[0] + lane[1]) + (lane[2] + lane[3])) + ((lane[4] + lane[5]) + (lane[6] + lane[7]));
}

// Σ (p[j] - m) in double, in 4 fixed lanes: one long chain of dependent double adds would cost more
// than the whole softmax of the row.
double sum_shifted_double(const float* p, int64_t n, float m) {
  double lane[4] = {0, 0, 0, 0};
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) {
    for (int j = 0; j < 4; ++j) lane[j] += static_cast<double>(p[i + j]) - m;
  }
  for (int j = 0; i + j < n; ++j) lane[j] += static_cast<double>(p[i + j]) - m;
  return (lane[0] + lane[1]) + (lane[2] + lane[3]);
}

float dot_contiguous(const float* p, const float* q, int64_t n) {
  float lane[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    for (int j = 0; j < 8; ++j) lane[j] += p[i + j] * q[i + j];
  }
  for (int j = 0; i + j < n; ++j) lane[j] += p[i + j] * q[i + j];
  return ((lane[0] + lane[1]) + (lane[2] + lane[3])) + ((lane[4] + lane[5]) + (lane[6] + lane[7]));
}

// Runs every softmax row of [outer, dim, inner]: row(offset) for contiguous rows (inner == 1), or
// strip(offset, width) for `width` neighbouring rows whose element d sits at offset + d*inner + i.
template <class Row, class Strip>
void for_each_softmax_row(int64_t outer, int64_t dim, int64_t inner, Row&& row, Strip&& strip) {
  const int64_t grain = std::max<int64_t>(1, kParallelWork / dim);
  if (inner == 1) {
    parallel_for(outer, grain, [&](int64_t b, int64_t e) {
      for (int64_t o = b; o < e; ++o) row(o * dim);
    });
    return;
  }
  parallel_for(outer * inner, grain, [&](int64_t b, int64_t e) {
    for (int64_t pos = b; pos < e;) {
      const int64_t o = pos / inner, i0 = pos % inner;
      const int64_t width = std::min({e - pos, inner - i0, kStrip});
      strip(o * dim * inner + i0, width);
      pos += width;
    }
  });
}

// Column maxima of a strip: m[i] = max_d p[d*inner + i].
void strip_max(const float* p, int64_t dim, int64_t inner, int64_t width, float* m) {
  for (int64_t i = 0; i < width; ++i) m[i] = p[i];
  for (int64_t d = 1; d < dim; ++d) {
    const float* r = p + d * inner;
    for (int64_t i = 0; i < width; ++i) m[i] = max_nan(m[i], r[i]);
  }
}

}  // namespace

// x [outer,dim,inner] -> y
void softmax(int64_t outer, int64_t dim, int64_t inner, const float* x, float* y) {
  const VmathFn vexp = active_vmath().exp;
  for_each_softmax_row(
      outer, dim, inner,
      [&](int64_t at) {
        const float* xr = x + at;
        float* yr = y + at;
        const float m = max_contiguous(xr, dim);
        for (int64_t d = 0; d < dim; ++d) yr[d] = xr[d] - m;
        vexp(dim, yr, yr);
        const float inv = 1.0f / sum_contiguous(yr, dim);
        for (int64_t d = 0; d < dim; ++d) yr[d] *= inv;
      },
      [&](int64_t at, int64_t width) {
        float m[kStrip], s[kStrip];
        strip_max(x + at, dim, inner, width, m);
        std::fill(s, s + width, 0.0f);
        for (int64_t d = 0; d < dim; ++d) {
          const float* xr = x + at + d * inner;
          float* yr = y + at + d * inner;
          for (int64_t i = 0; i < width; ++i) yr[i] = xr[i] - m[i];
          vexp(width, yr, yr);
          for (int64_t i = 0; i < width; ++i) s[i] += yr[i];
        }
        for (int64_t i = 0; i < width; ++i) s[i] = 1.0f / s[i];
        for (int64_t d = 0; d < dim; ++d) {
          float* yr = y + at + d * inner;
          for (int64_t i = 0; i < width; ++i) yr[i] *= s[i];
        }
      });
}

// dy, y -> dx = y·(dy - Σ dy·y)
void softmax_backward(int64_t outer, int64_t dim, int64_t inner, float* dx, const float* dy, const float* y) {
  for_each_softmax_row(
      outer, dim, inner,
      [&](int64_t at) {
        const float dot = dot_contiguous(dy + at, y + at, dim);
        for (int64_t d = 0; d < dim; ++d) dx[at + d] = y[at + d] * (dy[at + d] - dot);
      },
      [&](int64_t at, int64_t width) {
        float dot[kStrip];
        std::fill(dot, dot + width, 0.0f);
        for (int64_t d = 0; d < dim; ++d) {
          const int64_t r = at + d * inner;
          for (int64_t i = 0; i < width; ++i) dot[i] += dy[r + i] * y[r + i];
        }
        for (int64_t d = 0; d < dim; ++d) {
          const int64_t r = at + d * inner;
          for (int64_t i = 0; i < width; ++i) dx[r + i] = y[r + i] * (dy[r + i] - dot[i]);
        }
      });
}

// x -> y = x - max - log Σ exp(x - max)  (reads all of a row before writing it: y may alias x)
void log_softmax(int64_t outer, int64_t dim, int64_t inner, const float* x, float* y) {
  const VmathFn vexp = active_vmath().exp;
  for_each_softmax_row(
      outer, dim, inner,
      [&](int64_t at) {
        const float m = max_contiguous(x + at, dim);
        const float shift = m + std::log(sum_exp_shifted(vexp, x + at, dim, m));
        for (int64_t d = 0; d < dim; ++d) y[at + d] = x[at + d] - shift;
      },
      [&](int64_t at, int64_t width) {
        float m[kStrip], s[kStrip], t[kStrip];
        strip_max(x + at, dim, inner, width, m);
        std::fill(s, s + width, 0.0f);
        for (int64_t d = 0; d < dim; ++d) {
          const float* xr = x + at + d * inner;
          for (int64_t i = 0; i < width; ++i) t[i] = xr[i] - m[i];
          vexp(width, t, t);
          for (int64_t i = 0; i < width; ++i) s[i] += t[i];
        }
        for (int64_t i = 0; i < width; ++i) s[i] = m[i] + std::log(s[i]);
        for (int64_t d = 0; d < dim; ++d) {
          const int64_t r = at + d * inner;
          for (int64_t i = 0; i < width; ++i) y[r + i] = x[r + i] - s[i];
        }
      });
}

// dy, y -> dx = dy - exp(y)·Σ dy
void log_softmax_backward(int64_t outer, int64_t dim, int64_t inner, float* dx, const float* dy, const float* y) {
  const VmathFn vexp = active_vmath().exp;
  for_each_softmax_row(
      outer, dim, inner,
      [&](int64_t at) {
        const float sum = sum_contiguous(dy + at, dim);
        float t[kExpBlock];
        for (int64_t d0 = 0; d0 < dim; d0 += kExpBlock) {
          const int64_t len = std::min(kExpBlock, dim - d0);
          vexp(len, y + at + d0, t);
          for (int64_t j = 0; j < len; ++j) dx[at + d0 + j] = dy[at + d0 + j] - t[j] * sum;
        }
      },
      [&](int64_t at, int64_t width) {
        float sum[kStrip];
        std::fill(sum, sum + width, 0.0f);
        for (int64_t d = 0; d < dim; ++d) {
          const float* g = dy + at + d * inner;
          for (int64_t i = 0; i < width; ++i) sum[i] += g[i];
        }
        float t[kStrip];
        for (int64_t d = 0; d < dim; ++d) {
          const int64_t r = at + d * inner;
          vexp(width, y + r, t);
          for (int64_t i = 0; i < width; ++i) dx[r + i] = dy[r + i] - t[i] * sum[i];
        }
      });
}

// logits [N,C], target -> loss [N], probs [N,C]
void softmax_cross_entropy(int64_t n, int64_t c, float label_smoothing, const float* logits,
                           CrossEntropyTarget target, float* loss, float* probs) {
  const double s = label_smoothing;
  const double uniform = s / static_cast<double>(c);
  const VmathFn vexp = active_vmath().exp;
  parallel_for(n, std::max<int64_t>(1, kParallelWork / c), [&](int64_t b, int64_t e) {
    // Rows in blocks: each row's shifted logits first, then one vexp over the block's rows (contiguous
    // in probs; vexp's results do not depend on where an element sits), then each row's sum and loss.
    // A vexp call per row of 10 classes cost more than the exponentials.
    constexpr int64_t kBlockRows = 64;
    float row_max[kBlockRows];
    for (int64_t r0 = b; r0 < e; r0 += kBlockRows) {
      const int64_t r1 = std::min(e, r0 + kBlockRows);
      for (int64_t r = r0; r < r1; ++r) {
        const float* x = logits + r * c;
        float* p = probs + r * c;
        const float m = max_contiguous(x, c);
        row_max[r - r0] = m;
        for (int64_t j = 0; j < c; ++j) p[j] = x[j] - m;
      }
      vexp((r1 - r0) * c, probs + r0 * c, probs + r0 * c);
      for (int64_t r = r0; r < r1; ++r) {
        const float* x = logits + r * c;
        float* p = probs + r * c;
        const float m = row_max[r - r0];
        const float sum = sum_contiguous(p, c);
        const float inv = 1.0f / sum;
        for (int64_t j = 0; j < c; ++j) p[j] *= inv;
        // log p_j = (x_j - m) - log_sum; the loss is accumulated in double (one scalar per row).
        const double log_sum = std::log(static_cast<double>(sum));
        double total = 0.0;
        if (target.index != nullptr) {
          const int32_t t = target.index[r];
          double sum_logp = 0.0;
          if (s != 0.0) {
            sum_logp = sum_shifted_double(x, c, m) - static_cast<double>(c) * log_sum;
          }
          const double logp_t = static_cast<double>(x[t]) - m - log_sum;
          total = -((1.0 - s) * logp_t + uniform * sum_logp);
        } else {
          const float* q = target.prob + r * c;
          for (int64_t j = 0; j < c; ++j) {
            const double qj = (1.0 - s) * q[j] + uniform;
            total -= qj * (static_cast<double>(x[j]) - m - log_sum);
          }
        }
        loss[r] = static_cast<float>(total);
      }
    }
  });
}

// dloss [N], probs [N,C], target -> dlogits [N,C]
void softmax_cross_entropy_backward(int64_t n, int64_t c, float label_smoothing, float* dlogits, const float* dloss,
                                    const float* probs, CrossEntropyTarget target) {
  const float keep = 1.0f - label_smoothing;
  const float uniform = static_cast<float>(static_cast<double>(label_smoothing) / static_cast<double>(c));
  parallel_for(n * c, std::max<int64_t>(c, kParallelWork), [&](int64_t b, int64_t e) {
    for (int64_t pos = b; pos < e;) {
      const int64_t r = pos / c, j0 = pos % c;
      const int64_t j1 = std::min(c, j0 + (e - pos));
      const float g = dloss[r];
      const float* p = probs + r * c;
      float* d = dlogits + r * c;
      if (target.index != nullptr) {
        const int32_t t = target.index[r];
        for (int64_t j = j0; j < j1; ++j) d[j] = (p[j] - uniform) * g;
        if (t >= j0 && t < j1) d[t] = (p[t] - (keep + uniform)) * g;
      } else {
        const float* q = target.prob + r * c;
        for (int64_t j = j0; j < j1; ++j) d[j] = (p[j] - (keep * q[j] + uniform)) * g;
      }
      pos += j1 - j0;
    }
  });
}

}  // namespace tf::kernels
