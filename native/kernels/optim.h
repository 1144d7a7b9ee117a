// Fused optimizer updates over one flat parameter buffer (PyTorch torch.optim formulas).
//
// Each optimizer's per-element math lives in one small inline function (sgd_step, adagrad_step,
// rmsprop_step) or, for Adam, in the float32 micro-kernels of ukernels/optim_ukernels.h (one per ISA);
// the *_update functions only compute the per-call constants and split the buffer over threads. Every buffer
// has n elements; state buffers are updated in place. Options are validated by the bindings.
//
// Optional state buffers (momentum, centered average, amsgrad maximum) are template flags of the step
// functions: with their presence known at compile time the loops carry no branches and vectorize.
//
// RMSprop computes each step in double and rounds only when it stores, like the reference backend (it
// avoids float cancellation in the centered sq - ga², and in momentum sums of large g/avg terms).
// Adam, what training runs most, computes in float (vectorized per ISA): in double it was
// arithmetic-bound at 2.4 ns per parameter. SGD and Adagrad compute in float too, in portable loops
// the compiler vectorizes (as PyTorch does on float tensors; no cancellation-prone terms).
#pragma once

#include <algorithm>
#include <cmath>
#include <limits>
#include <cstdint>

#include "ukernels/optim_ukernels.h"

namespace tf {

// Where each parameter starts in the flat buffer an update runs over: `count` ascending offsets, the
// first 0, each below n (checked by the bindings). count 0 means one parameter, the whole buffer.
// Only speed depends on it, never a result (elements are independent, so any split gives the same
// bits): with 2 or more threads, thread t (as parallel_for places its t-th range) updates the t-th
// share of every parameter of at least kShareParamMinSize floats, and the smaller ones whole, in turn.
// A training step's matmuls split a weight the same way, by rows: its gradient Xᵀ·dY by output rows,
// the first layer's forward by K blocks (gemm.cc). So each core updates the rows its own matmuls wrote and will read next, instead of
// the first half of the whole buffer, which put every weight of the later layers on the second core.
// MLP 784-256-128-10, fit at 2 threads (bench-train-profile, 8 alternating runs, µs per step): 408-448
// (median 430) -> 407-422 (median 411); the update itself 78-90 -> 76-79, the first layer's forward
// (its K split reads W1's two row halves) 108 -> 101-103 and its weight gradient 102 -> 94-96.
struct ParamStarts {
  const int64_t* data = nullptr;
  int64_t count = 0;
};
constexpr int64_t kShareParamMinSize = 1024;

// Optimizer state (momentum buffers, moment estimates, square averages) is stored with subnormal
// values flushed to zero. A parameter whose gradient has become exactly 0 (a dead ReLU unit, an input
// pixel that is always 0) sees its state decay geometrically through the subnormal range, and on x86
// every arithmetic operation on a subnormal costs a microcode assist (~100+ cycles): on Fashion-MNIST
// the Adam update of an MLP went from ~0.15 ms to ~2.8 ms per step once many states got there. The
// reference backend flushes the same values (lib/backend/reference/optim.ts), and a state below
// FLT_MIN (1.2e-38) changes no update by a representable amount anyway.
inline float flush_subnormal(float x) { return std::fabs(x) < std::numeric_limits<float>::min() ? 0.0f : x; }

// --- SGD: g += wd·w; buf = first ? g : momentum·buf + (1-dampening)·g; g = nesterov ? g + momentum·buf : buf;
//     w -= lr·g. kMomentum: momentum != 0 (buf is used; nullptr otherwise).
struct SgdOptions {
  double lr, momentum, dampening, weight_decay;
  bool nesterov, first_step;
};

// The per-call constants of sgd_step, rounded once to float.
struct SgdConsts {
  float lr, momentum, one_minus_dampening, weight_decay;
  bool nesterov, first_step;
};

template <bool kMomentum>
inline void sgd_step(const SgdConsts& k, float& w, float g_in, float* buf) {
  float g = g_in;
  if (k.weight_decay != 0) g += k.weight_decay * w;
  if constexpr (kMomentum) {
    *buf = flush_subnormal(k.first_step ? g : k.momentum * *buf + k.one_minus_dampening * g);
    g = k.nesterov ? g + k.momentum * *buf : *buf;
  }
  w -= k.lr * g;
}

// momentum_buf [n] or nullptr (no momentum).
void sgd_update(const SgdOptions& o, int64_t n, float* w, const float* g, float* momentum_buf, ParamStarts starts = {});

// --- Adagrad: g += wd·w; sum += g²; w -= clr·g/(sqrt(sum)+eps), clr = lr/(1 + (step-1)·lr_decay).
struct AdagradOptions {
  double lr, lr_decay, weight_decay, eps;
  int64_t step;
};

// The per-call constants of adagrad_step, rounded once to float (clr computed in double).
struct AdagradConsts {
  float clr, weight_decay, eps;
};

inline void adagrad_step(const AdagradConsts& k, float& w, float g_in, float& sum_sq) {
  float g = g_in;
  if (k.weight_decay != 0) g += k.weight_decay * w;
  sum_sq = flush_subnormal(sum_sq + g * g);
  w -= k.clr * (g / (std::sqrt(sum_sq) + k.eps));
}

void adagrad_update(const AdagradOptions& o, int64_t n, float* w, const float* g, float* sum_sq, ParamStarts starts = {});

// --- RMSprop: g += wd·w; sq = alpha·sq + (1-alpha)·g²;
//     centered: ga = alpha·ga + (1-alpha)·g, avg = sqrt(max(sq - ga², 0)) + eps; else avg = sqrt(sq) + eps;
//     momentum: buf = momentum·buf + g/avg, w -= lr·buf; else w -= lr·g/avg.
// The max(·, 0) only guards rounding: mathematically sq >= ga², and without it a rounding below zero
// would turn the weight into NaN. kCentered: grad_avg is used; kMomentum: buf is used.
struct RmspropOptions {
  double lr, alpha, eps, weight_decay, momentum;
  bool centered;
};

template <bool kCentered, bool kMomentum>
inline void rmsprop_step(const RmspropOptions& o, float& w, float g_in, float& square_avg, float* grad_avg,
                         float* buf) {
  double g = g_in;
  if (o.weight_decay != 0) g += o.weight_decay * w;
  square_avg = flush_subnormal(static_cast<float>(o.alpha * square_avg + (1 - o.alpha) * g * g));
  double avg;
  if constexpr (kCentered) {
    *grad_avg = flush_subnormal(static_cast<float>(o.alpha * *grad_avg + (1 - o.alpha) * g));
    const double ga = *grad_avg;
    avg = std::sqrt(std::max(square_avg - ga * ga, 0.0)) + o.eps;
  } else {
    avg = std::sqrt(static_cast<double>(square_avg)) + o.eps;
  }
  if constexpr (kMomentum) {
    *buf = flush_subnormal(static_cast<float>(o.momentum * *buf + g / avg));
    w = static_cast<float>(w - o.lr * *buf);
  } else {
    w = static_cast<float>(w - o.lr * g / avg);
  }
}

// grad_avg [n] iff centered, momentum_buf [n] iff momentum > 0 (otherwise nullptr).
void rmsprop_update(const RmspropOptions& o, int64_t n, float* w, const float* g, float* square_avg, float* grad_avg,
                    float* momentum_buf, ParamStarts starts = {});

// --- Adam / AdamW: decoupled ? w *= 1 - lr·wd : g += wd·w; m = b1·m + (1-b1)·g; v = b2·v + (1-b2)·g²;
//     kAmsgrad: vmax = max(vmax, v) and vmax replaces v below;
//     w -= (lr/(1-b1^step))·m / (sqrt(v)/sqrt(1-b2^step) + eps).
// The bias corrections are computed once per call in double; each element in float (optim_ukernels.h).
struct AdamOptions {
  double lr, beta1, beta2, eps, weight_decay;
  bool decoupled_weight_decay, amsgrad;
  int64_t step;
};
// The float scalars adam_update passes to the micro-kernels (bias corrections in double, rounded once).
AdamUkernelParams adam_ukernel_params(const AdamOptions& o);

// v_max [n] iff amsgrad (otherwise nullptr).
void adam_update(const AdamOptions& o, int64_t n, float* w, const float* g, float* m, float* v, float* v_max,
                 ParamStarts starts = {});

}  // namespace tf
