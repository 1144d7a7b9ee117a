// Elementwise kernels: unary activations and math, binary ops with NumPy broadcasting, and their
// backward passes. Portable C++ (contiguous inner loops that auto-vectorize), threaded over output
// elements, so every result is independent of the thread count. The transcendental functions (exp,
// log, tanh, sigmoid, elu's expm1, softplus and its sigmoid) run through the active ISA's vector-math
// micro-kernels (ukernels/vmath_ukernels.h), within a few ulps of libm.
//
// Preconditions (checked by the binding): sizes >= 1, buffers hold exactly the elements their shapes
// imply, shapes broadcast, leakyRelu alpha >= 0 and elu alpha > 0.
#pragma once

#include <cstdint>
#include <vector>

namespace tf::kernels {

enum class UnaryOp { relu, leaky_relu, elu, sigmoid, tanh, softplus, exp, log, sqrt, square, abs, neg };
enum class BinaryOp { add, sub, mul, div, maximum, minimum };

// Which saved tensor a unary backward reads (neg reads neither).
bool unary_backward_reads_x(UnaryOp op);  // softplus, log, square, abs
bool unary_backward_reads_y(UnaryOp op);  // relu, leakyRelu, elu, sigmoid, tanh, exp, sqrt

// PyTorch's softplus threshold (beta = 1): above it softplus(x) = x.
constexpr float kSoftplusThreshold = 20.0f;

// x [n] -> y [n]
void unary(UnaryOp op, float alpha, const float* x, float* y, int64_t n);
// dy [n], x [n] | null, y [n] | null -> dx [n] (overwrite); the one the op does not read may be null.
void unary_backward(UnaryOp op, float alpha, float* dx, const float* dy, const float* x, const float* y, int64_t n);

// a [a_shape], b [b_shape] -> y [broadcast(a_shape, b_shape)]
void binary(BinaryOp op, const std::vector<int64_t>& a_shape, const float* a, const std::vector<int64_t>& b_shape,
            const float* b, float* y);
// dy [broadcast] -> da [a_shape] | null, db [b_shape] | null (overwrite), each summed over the axes its
// input was repeated along. maximum/minimum: the winner takes dy, a tie splits it half and half.
void binary_backward(BinaryOp op, float* da, float* db, const float* dy, const std::vector<int64_t>& a_shape,
                     const float* a, const std::vector<int64_t>& b_shape, const float* b);

}  // namespace tf::kernels
