// The optimizer updates: per-call constants are computed once, then the per-element step functions
// of optim.h run over the buffer in parallel chunks (elements are independent, so any split gives the
// same bits).
#include "kernels/optim.h"

#include <limits>
#include <type_traits>

#include "runtime/dispatch.h"
#include "runtime/thread_pool.h"

namespace tf {
namespace {

constexpr int64_t kGrain = 16384;

// Share boundaries fall on 64-byte multiples from the parameter's start (a vector kernel's whole
// vectors; the optimizers start every parameter of kShareParamMinSize floats or more on one).
constexpr int64_t kShareAlign = 16;

// Calls fn(begin, end) over disjoint ranges covering [0, n), split over the thread pool: by parameter
// shares (optim.h: ParamStarts) when there are several parameters, threads and enough elements to
// split, otherwise in chunks of kGrain.
template <class Fn>
void for_each_range(int64_t n, ParamStarts starts, const Fn& fn) {
  const int threads = num_threads();
  if (starts.count <= 1 || threads == 1 || n < 2 * kGrain) {
    parallel_for(n, kGrain, fn);
    return;
  }
  parallel_for(threads, 1, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) {
      int64_t small = 0;  // the smaller parameters, counted in order: the t-th of every `threads` is t's
      for (int64_t p = 0; p < starts.count; ++p) {
        const int64_t begin = starts.data[p];
        const int64_t end = p + 1 < starts.count ? starts.data[p + 1] : n;
        const int64_t size = end - begin;
        if (size < kShareParamMinSize) {
          if (small++ % threads == t) fn(begin, end);
          continue;
        }
        const auto share_start = [&](int64_t s) {
          return s == threads ? end : begin + size * s / threads / kShareAlign * kShareAlign;
        };
        if (share_start(t + 1) > share_start(t)) fn(share_start(t), share_start(t + 1));
      }
    }
  });
}

// Calls step(consts, i) for every element, split over the thread pool. Each range works on a local
// copy of the constants: stores to the float buffers cannot alias it, so it stays in registers and
// the loop vectorizes.
template <class Consts, class Step>
void for_each_element(int64_t n, ParamStarts starts, const Consts& consts, const Step& step) {
  for_each_range(n, starts, [&](int64_t begin, int64_t end) {
    const Consts c = consts;
    for (int64_t i = begin; i < end; ++i) step(c, i);
  });
}

// A positive eps too small for float (< 1.4e-45) must not become 0: with a state of 0 (a parameter
// whose gradient was always 0) the update would be 0/0 = NaN instead of 0.
float eps_as_float(double eps) {
  const float f = static_cast<float>(eps);
  return eps > 0 && f == 0 ? std::numeric_limits<float>::denorm_min() : f;
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

void sgd_update(const SgdOptions& o, int64_t n, float* w, const float* g, float* momentum_buf, ParamStarts starts) {
  const SgdConsts k{static_cast<float>(o.lr), static_cast<float>(o.momentum), static_cast<float>(1.0 - o.dampening),
                    static_cast<float>(o.weight_decay), o.nesterov, o.first_step};
  with_flag(momentum_buf != nullptr, [&](auto has_buf) {
    for_each_element(n, starts, k, [&](const SgdConsts& c, int64_t i) {
      sgd_step<decltype(has_buf)::value>(c, w[i], g[i], at(has_buf, momentum_buf, i));
    });
  });
}

void adagrad_update(const AdagradOptions& o, int64_t n, float* w, const float* g, float* sum_sq, ParamStarts starts) {
  const double clr = o.lr / (1.0 + static_cast<double>(o.step - 1) * o.lr_decay);
  const AdagradConsts k{static_cast<float>(clr), static_cast<float>(o.weight_decay), eps_as_float(o.eps)};
  for_each_element(n, starts, k, [&](const AdagradConsts& c, int64_t i) { adagrad_step(c, w[i], g[i], sum_sq[i]); });
}

void rmsprop_update(const RmspropOptions& o, int64_t n, float* w, const float* g, float* square_avg, float* grad_avg,
                    float* momentum_buf, ParamStarts starts) {
  with_flag(grad_avg != nullptr, [&](auto centered) {
    with_flag(momentum_buf != nullptr, [&](auto has_buf) {
      for_each_element(n, starts, o, [&](const RmspropOptions& c, int64_t i) {
        rmsprop_step<decltype(centered)::value, decltype(has_buf)::value>(
            c, w[i], g[i], square_avg[i], at(centered, grad_avg, i), at(has_buf, momentum_buf, i));
      });
    });
  });
}

// The per-call scalars in double, rounded once to float; the optimizer micro-kernel (optim.inc) does
// the rest.
// Measured (native/bench/optim_bench.cc, ns per parameter, best of 9, 235k | 4M parameters, shared
// 2-core Sapphire Rapids), per-element double before -> float micro-kernels after:
//   adam            1 thread 2.33 | 2.59 -> 0.53 | 0.56    2 threads 1.49 | 1.22 -> 0.39 | 0.29
//   adamw amsgrad   1 thread 2.49 | 2.64 -> 0.68 | 0.73    2 threads 1.52 | 1.30 -> 0.45 | 0.38
// AVX-512 and AVX2 versions landed within ~5% of the portable (SSE2 auto-vectorized) kernel, so only
// the portable one is kept: in float the update streams 4-5 buffers and is memory-bound even at 235k.
// SGD momentum and Adagrad, float portable loops (1 thread, 235k | 4M): 0.86 | 0.88 -> 0.32 | 0.41,
// 1.25 | 1.31 -> 0.37 | 0.41. RMSprop stays in double (1.27 | 1.33): in float its momentum sums of
// g/avg (up to 1/sqrt(1-alpha) = 10 per step) and centered sq - ga² drift past the parity tolerance.
AdamUkernelParams adam_ukernel_params(const AdamOptions& o) {
  const double step = static_cast<double>(o.step);
  const bool decoupled = o.decoupled_weight_decay;
  AdamUkernelParams p;
  p.beta1 = static_cast<float>(o.beta1);
  p.one_minus_beta1 = static_cast<float>(1.0 - o.beta1);
  p.beta2 = static_cast<float>(o.beta2);
  p.one_minus_beta2 = static_cast<float>(1.0 - o.beta2);
  p.decay = static_cast<float>(decoupled ? 1.0 - o.lr * o.weight_decay : 1.0);
  p.l2 = static_cast<float>(decoupled ? 0.0 : o.weight_decay);
  p.inv_sqrt_bc2 = static_cast<float>(1.0 / std::sqrt(1.0 - std::pow(o.beta2, step)));
  p.eps = eps_as_float(o.eps);
  p.neg_step_size = static_cast<float>(-o.lr / (1.0 - std::pow(o.beta1, step)));
  return p;
}

void adam_update(const AdamOptions& o, int64_t n, float* w, const float* g, float* m, float* v, float* v_max,
                 ParamStarts starts) {
  const AdamUkernelParams p = adam_ukernel_params(o);
  const OptimUkernels& uk = kernels().optim;
  const AdamUkernelFn fn = v_max != nullptr ? uk.adam_amsgrad : uk.adam;
  for_each_range(n, starts, [&](int64_t begin, int64_t end) {
    fn(p, end - begin, w + begin, g + begin, m + begin, v + begin, v_max != nullptr ? v_max + begin : nullptr);
  });
}

}  // namespace tf
