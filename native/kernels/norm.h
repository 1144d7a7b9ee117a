// Batch normalization and layer normalization, forward and backward (PyTorch semantics).
//
// Batch norm sees x as [M,C] (M = N·H·W in NHWC) and normalizes each channel over M; layer norm sees
// x as [M,D] and normalizes each row over D. gamma/beta may be nullptr (scale 1, shift 0). Sizes and
// lengths are validated by the bindings; these functions trust them. Results are bit-identical for any
// thread count: statistics over M are reduced in fixed-size row blocks combined in block order.
#pragma once

#include <cstdint>

namespace tf {

// x [M,C], gamma/beta [C]|null -> y [M,C], save_mean/save_inv_std [C].
// Normalizes with the batch mean and biased variance (inv_std = 1/sqrt(var+eps)). When running_mean
// and running_var are non-null (M >= 2), updates them in place with the unbiased variance:
// r = (1-momentum)·r + momentum·stat.
void batch_norm_train(int64_t m, int64_t c, double eps, double momentum, const float* x, const float* gamma,
                      const float* beta, float* running_mean, float* running_var, float* y, float* save_mean,
                      float* save_inv_std);

// x [M,C], running_mean/running_var [C], gamma/beta [C]|null -> y [M,C].
void batch_norm_inference(int64_t m, int64_t c, double eps, const float* x, const float* gamma, const float* beta,
                          const float* running_mean, const float* running_var, float* y);

// Backward of batch_norm_train. Overwrites dx [M,C] and, when non-null, dgamma/dbeta [C].
void batch_norm_backward(int64_t m, int64_t c, float* dx, float* dgamma, float* dbeta, const float* dy,
                         const float* x, const float* gamma, const float* save_mean, const float* save_inv_std);

// x [M,D], gamma/beta [D]|null -> y [M,D], save_mean/save_inv_std [M] (biased variance over D).
void layer_norm(int64_t m, int64_t d, double eps, const float* x, const float* gamma, const float* beta, float* y,
                float* save_mean, float* save_inv_std);

// Backward of layer_norm. Overwrites dx [M,D] and, when non-null, dgamma/dbeta [D].
void layer_norm_backward(int64_t m, int64_t d, float* dx, float* dgamma, float* dbeta, const float* dy,
                         const float* x, const float* gamma, const float* save_mean, const float* save_inv_std);

}  // namespace tf
