// The optimizer updates: per-call constants are computed once, then the per-element step functions
// of optim.h run over the buffer in parallel chunks (elements are independent, so any split gives the
// same bits).
#include "kernels/optim.h"

#include <type_traits>

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

// Calls fn(std::true_type) or fn(std::false_type): turns whether an optional state buffer exists
// into the compile-time flag of a step function (a store under a run-time condition would keep the
// loop from vectorizing).
template <class Fn>
void with_flag(bool flag, const Fn& fn) {
  if (flag) {
    fn(std::true_type{});
  } else {
    fn(std::false_type{});
  }
}

// &p[i] of an optional buffer, or nullptr when it is absent (never offsets a null pointer).
inline float* at(bool present, float* p, int64_t i) { return present ? p + i : nullptr; }

}  // namespace

void sgd_update(const SgdOptions& o, int64_t n, float* w, const float* g, float* momentum_buf) {
  with_flag(momentum_buf != nullptr, [&](auto has_buf) {
    for_each_element(n, [&](int64_t i) { sgd_step<decltype(has_buf)::value>(o, w[i], g[i], at(has_buf, momentum_buf, i)); });
  });
}

void adagrad_update(const AdagradOptions& o, int64_t n, float* w, const float* g, float* sum_sq) {
  const double clr = o.lr / (1.0 + static_cast<double>(o.step - 1) * o.lr_decay);
  for_each_element(n, [&](int64_t i) { adagrad_step(o, clr, w[i], g[i], sum_sq[i]); });
}

void rmsprop_update(const RmspropOptions& o, int64_t n, float* w, const float* g, float* square_avg, float* grad_avg,
                    float* momentum_buf) {
  with_flag(grad_avg != nullptr, [&](auto centered) {
    with_flag(momentum_buf != nullptr, [&](auto has_buf) {
      for_each_element(n, [&](int64_t i) {
        rmsprop_step<decltype(centered)::value, decltype(has_buf)::value>(
            o, w[i], g[i], square_avg[i], at(centered, grad_avg, i), at(has_buf, momentum_buf, i));
      });
    });
  });
}

void adam_update(const AdamOptions& o, int64_t n, float* w, const float* g, float* m, float* v, float* v_max) {
  const double step = static_cast<double>(o.step);
  const bool decoupled = o.decoupled_weight_decay;
  const AdamBias k{o.lr / (1.0 - std::pow(o.beta1, step)), std::sqrt(1.0 - std::pow(o.beta2, step)),
                   decoupled ? 1.0 - o.lr * o.weight_decay : 1.0, decoupled ? 0.0 : o.weight_decay};
  with_flag(v_max != nullptr, [&](auto amsgrad) {
    for_each_element(n, [&](int64_t i) {
      adam_step<decltype(amsgrad)::value>(o, k, w[i], g[i], m[i], v[i], at(amsgrad, v_max, i));
    });
  });
}

}  // namespace tf
