// The optimizer updates: per-call constants are computed once, then the per-element step functions
// of optim.h run over the buffer in parallel chunks (elements are independent, so any split gives the
// same bits).
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
  for_each_element(n, [&](int64_t i) { sgd_step(o, w[i], g[i], at(momentum_buf, i)); });
}

void adagrad_update(const AdagradOptions& o, int64_t n, float* w, const float* g, float* sum_sq) {
  const double clr = o.lr / (1.0 + static_cast<double>(o.step - 1) * o.lr_decay);
  for_each_element(n, [&](int64_t i) { adagrad_step(o, clr, w[i], g[i], sum_sq[i]); });
}

void rmsprop_update(const RmspropOptions& o, int64_t n, float* w, const float* g, float* square_avg, float* grad_avg,
                    float* momentum_buf) {
  for_each_element(n, [&](int64_t i) {
    rmsprop_step(o, w[i], g[i], square_avg[i], at(grad_avg, i), at(momentum_buf, i));
  });
}

void adam_update(const AdamOptions& o, int64_t n, float* w, const float* g, float* m, float* v, float* v_max) {
  const double step = static_cast<double>(o.step);
  const AdamBias k{o.lr / (1.0 - std::pow(o.beta1, step)), std::sqrt(1.0 - std::pow(o.beta2, step))};
  for_each_element(n, [&](int64_t i) { adam_step(o, k, w[i], g[i], m[i], v[i], at(v_max, i)); });
}

}  // namespace tf
