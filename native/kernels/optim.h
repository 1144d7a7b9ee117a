// Fused optimizer updates over one flat parameter buffer (PyTorch torch.optim formulas).
//
// Each optimizer's per-element math lives in one small inline function (sgd_step, adagrad_step,
// rmsprop_step, adam_step); the *_update functions only split the buffer over threads. Every buffer
// has n elements; state buffers are updated in place. Options are validated by the bindings.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace tf {

// --- SGD: g += wd·w; buf = first ? g : momentum·buf + (1-dampening)·g; g = nesterov ? g + momentum·buf : buf;
//     w -= lr·g. The momentum lines run only when a buffer is given (momentum != 0).
struct SgdOptions {
  double lr, momentum, dampening, weight_decay;
  bool nesterov, first_step;
};
struct SgdCoeffs {
  float lr, momentum, one_minus_dampening, weight_decay;
  bool nesterov, first_step;
};

inline void sgd_step(const SgdCoeffs& k, float& w, float g, float* buf) {
  if (k.weight_decay != 0.0f) g += k.weight_decay * w;
  if (buf != nullptr) {
    *buf = k.first_step ? g : k.momentum * *buf + k.one_minus_dampening * g;
    g = k.nesterov ? g + k.momentum * *buf : *buf;
  }
  w -= k.lr * g;
}

// momentum_buf [n] or nullptr (no momentum).
void sgd_update(const SgdOptions& o, int64_t n, float* w, const float* g, float* momentum_buf);

// --- Adagrad: g += wd·w; sum += g²; w -= clr·g/(sqrt(sum)+eps), clr = lr/(1 + (step-1)·lr_decay).
struct AdagradOptions {
  double lr, lr_decay, weight_decay, eps;
  int64_t step;
};
struct AdagradCoeffs {
  float clr, weight_decay, eps;
};

inline void adagrad_step(const AdagradCoeffs& k, float& w, float g, float& sum_sq) {
  if (k.weight_decay != 0.0f) g += k.weight_decay * w;
  sum_sq += g * g;
  w -= k.clr * g / (std::sqrt(sum_sq) + k.eps);
}

void adagrad_update(const AdagradOptions& o, int64_t n, float* w, const float* g, float* sum_sq);

// --- RMSprop: g += wd·w; sq = alpha·sq + (1-alpha)·g²;
//     centered: ga = alpha·ga + (1-alpha)·g, avg = sqrt(max(sq - ga², 0)) + eps; else avg = sqrt(sq) + eps;
//     momentum: buf = momentum·buf + g/avg, w -= lr·buf; else w -= lr·g/avg.
// The max(·, 0) only guards rounding: mathematically sq >= ga², and without it a rounding below zero
// would turn the weight into NaN.
struct RmspropOptions {
  double lr, alpha, eps, weight_decay, momentum;
  bool centered;
};
struct RmspropCoeffs {
  float lr, alpha, one_minus_alpha, eps, weight_decay, momentum;
};

inline void rmsprop_step(const RmspropCoeffs& k, float& w, float g, float& square_avg, float* grad_avg,
                         float* buf) {
  if (k.weight_decay != 0.0f) g += k.weight_decay * w;
  square_avg = k.alpha * square_avg + k.one_minus_alpha * g * g;
  float avg;
  if (grad_avg != nullptr) {
    *grad_avg = k.alpha * *grad_avg + k.one_minus_alpha * g;
    avg = std::sqrt(std::max(square_avg - *grad_avg * *grad_avg, 0.0f)) + k.eps;
  } else {
    avg = std::sqrt(square_avg) + k.eps;
  }
  if (buf != nullptr) {
    *buf = k.momentum * *buf + g / avg;
    w -= k.lr * *buf;
  } else {
    w -= k.lr * g / avg;
  }
}

// grad_avg [n] iff centered, momentum_buf [n] iff momentum > 0 (otherwise nullptr).
void rmsprop_update(const RmspropOptions& o, int64_t n, float* w, const float* g, float* square_avg, float* grad_avg,
                    float* momentum_buf);

// --- Adam / AdamW: decoupled ? w *= 1 - lr·wd : g += wd·w; m = b1·m + (1-b1)·g; v = b2·v + (1-b2)·g²;
//     amsgrad: vmax = max(vmax, v) and vmax replaces v below;
//     w -= (lr/(1-b1^step))·m / (sqrt(v)/sqrt(1-b2^step) + eps).
struct AdamOptions {
  double lr, beta1, beta2, eps, weight_decay;
  bool decoupled_weight_decay, amsgrad;
  int64_t step;
};
struct AdamCoeffs {
  float beta1, one_minus_beta1, beta2, one_minus_beta2, eps;
  float step_size;       // lr / bias_correction1
  float sqrt_bc2;        // sqrt(bias_correction2)
  float l2;              // Adam: g += l2·w (0 for AdamW)
  float decay;           // AdamW: w *= decay (1 for Adam)
};

inline void adam_step(const AdamCoeffs& k, float& w, float g, float& m, float& v, float* v_max) {
  if (k.decay != 1.0f) w *= k.decay;
  if (k.l2 != 0.0f) g += k.l2 * w;
  m = k.beta1 * m + k.one_minus_beta1 * g;
  v = k.beta2 * v + k.one_minus_beta2 * g * g;
  float v_used = v;
  if (v_max != nullptr) {
    *v_max = std::max(*v_max, v);
    v_used = *v_max;
  }
  w -= k.step_size * m / (std::sqrt(v_used) / k.sqrt_bc2 + k.eps);
}

// v_max [n] iff amsgrad (otherwise nullptr).
void adam_update(const AdamOptions& o, int64_t n, float* w, const float* g, float* m, float* v, float* v_max);

}  // namespace tf
