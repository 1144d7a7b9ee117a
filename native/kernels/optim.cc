// The optimizer updates: coefficients are computed once in double and rounded to float, then the
// per-element step functions of optim.h run over the buffer in parallel chunks (elements are
// independent, so any split gives the same bits).
#include "kernels/optim.h"

#include "runtime/thread_pool.h"

namespace tf {
namespace {

constexpr int64_t kGrain = 16384;

// Calls step(i) for every element, split over the thread pool.
template <class Step>
void for_each_element(int64_t n, const Step& step) {
  parallel_for(n, kGrain, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) step(i);
  });
}

// p + i, or nullptr when p is (optional state buffers).
inline float* at(float* p, int64_t i) { return p != nullptr ? p + i : nullptr; }

}  // namespace

void sgd_update(const SgdOptions& o, int64_t n, float* w, const float* g, float* momentum_buf) {
  const SgdCoeffs k{static_cast<float>(o.lr), static_cast<float>(o.momentum),
                    static_cast<float>(1.0 - o.dampening), static_cast<float>(o.weight_decay), o.nesterov,
                    o.first_step};
  for_each_element(n, [&](int64_t i) { sgd_step(k, w[i], g[i], at(momentum_buf, i)); });
}

void adagrad_update(const AdagradOptions& o, int64_t n, float* w, const float* g, float* sum_sq) {
  const double clr = o.lr / (1.0 + static_cast<double>(o.step - 1) * o.lr_decay);
  const AdagradCoeffs k{static_cast<float>(clr), static_cast<float>(o.weight_decay), static_cast<float>(o.eps)};
  for_each_element(n, [&](int64_t i) { adagrad_step(k, w[i], g[i], sum_sq[i]); });
}

void rmsprop_update(const RmspropOptions& o, int64_t n, float* w, const float* g, float* square_avg, float* grad_avg,
                    float* momentum_buf) {
  const RmspropCoeffs k{static_cast<float>(o.lr),  static_cast<float>(o.alpha),
                        static_cast<float>(1.0 - o.alpha), static_cast<float>(o.eps),
                        static_cast<float>(o.weight_decay), static_cast<float>(o.momentum)};
  for_each_element(n, [&](int64_t i) {
    rmsprop_step(k, w[i], g[i], square_avg[i], at(grad_avg, i), at(momentum_buf, i));
  });
}

void adam_update(const AdamOptions& o, int64_t n, float* w, const float* g, float* m, float* v, float* v_max) {
  const double step = static_cast<double>(o.step);
  const double bc1 = 1.0 - std::pow(o.beta1, step);
  const double bc2 = 1.0 - std::pow(o.beta2, step);
  const AdamCoeffs k{
      static_cast<float>(o.beta1),
      static_cast<float>(1.0 - o.beta1),
      static_cast<float>(o.beta2),
      static_cast<float>(1.0 - o.beta2),
      static_cast<float>(o.eps),
      static_cast<float>(o.lr / bc1),
      static_cast<float>(std::sqrt(bc2)),
      o.decoupled_weight_decay ? 0.0f : static_cast<float>(o.weight_decay),
      o.decoupled_weight_decay ? static_cast<float>(1.0 - o.lr * o.weight_decay) : 1.0f,
  };
  for_each_element(n, [&](int64_t i) { adam_step(k, w[i], g[i], m[i], v[i], at(v_max, i)); });
}

}  // namespace tf
