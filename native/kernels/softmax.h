// Softmax and log-softmax over the middle axis of [outer, dim, inner], their backward passes, and fused
// softmax cross-entropy over logits [N, C]. Numerically stable: every row subtracts its maximum before
// exp; log-softmax is x - max - log(sum exp(x - max)). The exponentials come from the active ISA's
// vector-math kernel (ukernels/vmath_ukernels.h, within a few ulps of libm).
//
// Layout: element (o, d, i) is at (o*dim + d)*inner + i. inner == 1 rows are contiguous; inner > 1 is
// processed a strip of `i` at a time so the loops over i stay contiguous. Threaded over rows (o, i),
// each row computed whole by one thread: bit-identical for any thread count.
//
// Preconditions (checked by the binding): sizes >= 1, exact buffer lengths, class indices in [0, C),
// label smoothing in [0, 1).
#pragma once

#include <cstdint>

namespace tf::kernels {

// x [outer,dim,inner] -> y = softmax(x) over dim
void softmax(int64_t outer, int64_t dim, int64_t inner, const float* x, float* y);
// dy, y -> dx = y·(dy - Σ_d dy·y) (overwrite)
void softmax_backward(int64_t outer, int64_t dim, int64_t inner, float* dx, const float* dy, const float* y);
// x -> y = x - max - log Σ exp(x - max)
void log_softmax(int64_t outer, int64_t dim, int64_t inner, const float* x, float* y);
// dy, y (log-probabilities) -> dx = dy - exp(y)·Σ_d dy (overwrite)
void log_softmax_backward(int64_t outer, int64_t dim, int64_t inner, float* dx, const float* dy, const float* y);

// The cross-entropy target: class indices [N] or probabilities [N,C] (exactly one is non-null).
struct CrossEntropyTarget {
  const int32_t* index = nullptr;
  const float* prob = nullptr;
};

// logits [N,C], target -> loss [N] = -Σ_j q_j log p_j, probs [N,C] = p, where the target distribution
// q = (1-s)·onehot(index) + s/C, or (1-s)·prob + s/C (PyTorch label smoothing).
void softmax_cross_entropy(int64_t n, int64_t c, float label_smoothing, const float* logits,
                           CrossEntropyTarget target, float* loss, float* probs);
// dloss [N], probs [N,C], target -> dlogits [N,C] = (probs - q)·dloss[row] (overwrite)
void softmax_cross_entropy_backward(int64_t n, int64_t c, float label_smoothing, float* dlogits, const float* dloss,
                                    const float* probs, CrossEntropyTarget target);

}  // namespace tf::kernels
