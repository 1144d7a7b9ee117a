#include "kernels/elementwise.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "kernels/broadcast.h"
#include "kernels/reduce.h"
#include "runtime/thread_pool.h"
#include "ukernels/vmath_ukernels.h"

namespace tf::kernels {

namespace {

// Elements per parallel chunk for elementwise work.
constexpr int64_t kGrain = int64_t{1} << 14;

template <class F>
void map1(int64_t n, const float* x, float* y, F f) {
  parallel_for(n, kGrain, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) y[i] = f(x[i]);
  });
}

template <class F>
void map2(int64_t n, const float* u, const float* v, float* y, F f) {
  parallel_for(n, kGrain, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) y[i] = f(u[i], v[i]);
  });
}

// y = f(x) with a vector-math micro-kernel of the active ISA (exp, log, tanh, ...). Every element's
// bits are independent of where a chunk starts (vmath_ukernels.h), so threads do not change them.
void map_vmath(VmathFn f, int64_t n, const float* x, float* y) {
  parallel_for(n, kGrain, [&](int64_t b, int64_t e) { f(e - b, x + b, y + b); });
}

// m ? a : b through a bit mask. GCC will not turn a float `?:` into vector code while
// -ftrapping-math (the default) is on; this form it vectorizes. Same result, NaNs included.
inline float select_bits(bool m, float a, float b) {
  uint32_t ua, ub;
  std::memcpy(&ua, &a, sizeof ua);
  std::memcpy(&ub, &b, sizeof ub);
  const uint32_t k = 0u - static_cast<uint32_t>(m);
  const uint32_t r = (ua & k) | (ub & ~k);
  float out;
  std::memcpy(&out, &r, sizeof out);
  return out;
}

// Elements per block of a vector-math result kept on the stack.
constexpr int64_t kVmathBlock = 256;

// body(i, len, t) with t[0..len) = f(x[i..i+len)), block by block: the caller combines t with other
// inputs, and the output may alias any input (t is a separate buffer).
template <class Body>
void for_vmath_blocks(VmathFn f, int64_t n, const float* x, Body body) {
  parallel_for(n, kGrain, [&](int64_t b, int64_t e) {
    float t[kVmathBlock];
    for (int64_t i = b; i < e; i += kVmathBlock) {
      const int64_t len = std::min(kVmathBlock, e - i);
      f(len, x + i, t);
      body(i, len, t);
    }
  });
}

// NaN propagates from either side (PyTorch); a tie keeps a.
inline float maximum(float a, float b) { return (a != a || a >= b) ? a : b; }
inline float minimum(float a, float b) { return (a != a || a <= b) ? a : b; }

// The part of dy that one input of maximum/minimum receives: all when it wins, half on a tie, none
// when it loses or a NaN is involved.
inline float max_grad(float g, float mine, float other) { return mine == other ? 0.5f * g : (mine > other ? g : 0.0f); }
inline float min_grad(float g, float mine, float other) { return mine == other ? 0.5f * g : (mine < other ? g : 0.0f); }

// out[i] = f(dy[i], a[i*sa], b[i*sb]) with inner strides 0 or 1, one loop per pattern.
template <class F>
inline void apply_row3(F f, const float* dy, const float* a, int64_t sa, const float* b, int64_t sb, float* out,
                       int64_t n) {
  if (sa == 1 && sb == 1) {
    for (int64_t i = 0; i < n; ++i) out[i] = f(dy[i], a[i], b[i]);
  } else if (sa == 1) {
    const float bv = *b;
    for (int64_t i = 0; i < n; ++i) out[i] = f(dy[i], a[i], bv);
  } else if (sb == 1) {
    const float av = *a;
    for (int64_t i = 0; i < n; ++i) out[i] = f(dy[i], av, b[i]);
  } else {
    const float av = *a, bv = *b;
    for (int64_t i = 0; i < n; ++i) out[i] = f(dy[i], av, bv);
  }
}

template <class F>
void broadcast_map(const BroadcastPlan& p, const float* a, const float* b, float* y, F f) {
  parallel_for(p.total, kGrain, [&](int64_t begin, int64_t end) {
    for_each_row(p, begin, end, [&](int64_t oa, int64_t sa, int64_t ob, int64_t sb, int64_t pos, int64_t len) {
      apply_row(f, a + oa, sa, b + ob, sb, y + pos, len);
    });
  });
}

template <class F>
void broadcast_map3(const BroadcastPlan& p, const float* dy, const float* a, const float* b, float* out, F f) {
  parallel_for(p.total, kGrain, [&](int64_t begin, int64_t end) {
    for_each_row(p, begin, end, [&](int64_t oa, int64_t sa, int64_t ob, int64_t sb, int64_t pos, int64_t len) {
      apply_row3(f, dy + pos, a + oa, sa, b + ob, sb, out + pos, len);
    });
  });
}

// Axes of the broadcast shape `out` (rank R) along which `in` (right-aligned) was repeated.
std::vector<int64_t> repeated_axes(const std::vector<int64_t>& out, const std::vector<int64_t>& in) {
  std::vector<int64_t> axes;
  const size_t offset = out.size() - in.size();
  for (size_t d = 0; d < out.size(); ++d) {
    const int64_t dim = d < offset ? 1 : in[d - offset];
    if (dim == 1 && out[d] > 1) axes.push_back(static_cast<int64_t>(d));
  }
  return axes;
}

int64_t product(const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

}  // namespace

bool unary_backward_reads_x(UnaryOp op) {
  return op == UnaryOp::softplus || op == UnaryOp::log || op == UnaryOp::square || op == UnaryOp::abs;
}

bool unary_backward_reads_y(UnaryOp op) {
  return op == UnaryOp::relu || op == UnaryOp::leaky_relu || op == UnaryOp::elu || op == UnaryOp::sigmoid ||
         op == UnaryOp::tanh || op == UnaryOp::exp || op == UnaryOp::sqrt;
}

// x [n] -> y [n]
void unary(UnaryOp op, float alpha, const float* x, float* y, int64_t n) {
  switch (op) {
    case UnaryOp::relu: return map1(n, x, y, [](float v) { return v < 0.0f ? 0.0f : v; });
    case UnaryOp::leaky_relu: return map1(n, x, y, [alpha](float v) { return v > 0.0f ? v : alpha * v; });
    case UnaryOp::elu:
      return for_vmath_blocks(active_vmath().expm1, n, x, [&](int64_t i, int64_t len, const float* em1) {
        for (int64_t j = 0; j < len; ++j) y[i + j] = select_bits(x[i + j] > 0.0f, x[i + j], alpha * em1[j]);
      });
    case UnaryOp::sigmoid: return map_vmath(active_vmath().sigmoid, n, x, y);
    case UnaryOp::tanh: return map_vmath(active_vmath().tanh, n, x, y);
    // log(1 + e^x) = max(x, 0) + log1p(e^-|x|): never overflows, and is exactly x above the threshold.
    case UnaryOp::softplus: return map_vmath(active_vmath().softplus, n, x, y);
    case UnaryOp::exp: return map_vmath(active_vmath().exp, n, x, y);
    case UnaryOp::log: return map_vmath(active_vmath().log, n, x, y);
    case UnaryOp::sqrt: return map1(n, x, y, [](float v) { return std::sqrt(v); });
    case UnaryOp::square: return map1(n, x, y, [](float v) { return v * v; });
    case UnaryOp::abs: return map1(n, x, y, [](float v) { return std::fabs(v); });
    case UnaryOp::neg: return map1(n, x, y, [](float v) { return -v; });
  }
}

// dy [n], x [n] | null, y [n] | null -> dx [n]
void unary_backward(UnaryOp op, float alpha, float* dx, const float* dy, const float* x, const float* y, int64_t n) {
  switch (op) {
    // From y: the sign of y is the sign of x for these (alpha >= 0 / > 0).
    case UnaryOp::relu: return map2(n, dy, y, dx, [](float g, float v) { return v > 0.0f ? g : 0.0f; });
    case UnaryOp::leaky_relu:
      return map2(n, dy, y, dx, [alpha](float g, float v) { return v > 0.0f ? g : alpha * g; });
    case UnaryOp::elu:  // d/dx alpha(e^x - 1) = alpha e^x = y + alpha
      return map2(n, dy, y, dx, [alpha](float g, float v) { return v > 0.0f ? g : g * (v + alpha); });
    case UnaryOp::sigmoid: return map2(n, dy, y, dx, [](float g, float v) { return g * v * (1.0f - v); });
    case UnaryOp::tanh: return map2(n, dy, y, dx, [](float g, float v) { return g * (1.0f - v * v); });
    case UnaryOp::exp: return map2(n, dy, y, dx, [](float g, float v) { return g * v; });
    case UnaryOp::sqrt: return map2(n, dy, y, dx, [](float g, float v) { return g / (2.0f * v); });
    // From x.
    case UnaryOp::softplus:  // d/dx log(1 + e^x) = sigmoid(x)
      return for_vmath_blocks(active_vmath().sigmoid, n, x, [&](int64_t i, int64_t len, const float* s) {
        for (int64_t j = 0; j < len; ++j) {
          dx[i + j] = select_bits(x[i + j] > kSoftplusThreshold, dy[i + j], dy[i + j] * s[j]);
        }
      });
    case UnaryOp::log: return map2(n, dy, x, dx, [](float g, float v) { return g / v; });
    case UnaryOp::square: return map2(n, dy, x, dx, [](float g, float v) { return 2.0f * v * g; });
    case UnaryOp::abs:
      return map2(n, dy, x, dx, [](float g, float v) { return v > 0.0f ? g : (v < 0.0f ? -g : 0.0f); });
    case UnaryOp::neg: return map1(n, dy, dx, [](float g) { return -g; });
  }
}

// a [a_shape], b [b_shape] -> y [broadcast]
void binary(BinaryOp op, const std::vector<int64_t>& a_shape, const float* a, const std::vector<int64_t>& b_shape,
            const float* b, float* y) {
  const BroadcastPlan p = make_broadcast_plan(a_shape, b_shape);
  switch (op) {
    case BinaryOp::add: return broadcast_map(p, a, b, y, [](float u, float v) { return u + v; });
    case BinaryOp::sub: return broadcast_map(p, a, b, y, [](float u, float v) { return u - v; });
    case BinaryOp::mul: return broadcast_map(p, a, b, y, [](float u, float v) { return u * v; });
    case BinaryOp::div: return broadcast_map(p, a, b, y, [](float u, float v) { return u / v; });
    case BinaryOp::maximum: return broadcast_map(p, a, b, y, maximum);
    case BinaryOp::minimum: return broadcast_map(p, a, b, y, minimum);
  }
}

// dy [broadcast] -> da [a_shape] | null, db [b_shape] | null
void binary_backward(BinaryOp op, float* da, float* db, const float* dy, const std::vector<int64_t>& a_shape,
                     const float* a, const std::vector<int64_t>& b_shape, const float* b) {
  const BroadcastPlan p = make_broadcast_plan(a_shape, b_shape);
  const std::vector<int64_t> out_shape = broadcast_shape(a_shape, b_shape);
  const int64_t n = p.total;

  for (const bool for_a : {true, false}) {
    float* d = for_a ? da : db;
    if (d == nullptr) continue;
    const std::vector<int64_t>& shape = for_a ? a_shape : b_shape;
    const bool repeated = product(shape) != n;
    const std::vector<int64_t> axes = repeated_axes(out_shape, shape);
    const bool negate = op == BinaryOp::sub && !for_a;

    if (op == BinaryOp::add || op == BinaryOp::sub) {
      // The local gradient is ±dy: reduce dy itself, then flip the sign (exact in IEEE arithmetic).
      if (repeated) {
        reduce(ReduceOp::sum, out_shape, axes, dy, d);
        if (negate) map1(product(shape), d, d, [](float v) { return -v; });
      } else {
        map1(n, dy, d, [negate](float v) { return negate ? -v : v; });
      }
      continue;
    }
    // Per-output contributions, written straight into d when nothing is repeated, else into a
    // broadcast-sized scratch that is then summed back to the input shape in a fixed order.
    std::vector<float> scratch(repeated ? static_cast<size_t>(n) : 0);
    float* g = repeated ? scratch.data() : d;
    switch (op) {
      case BinaryOp::mul:
        if (for_a) broadcast_map3(p, dy, a, b, g, [](float t, float, float v) { return t * v; });
        else broadcast_map3(p, dy, a, b, g, [](float t, float u, float) { return t * u; });
        break;
      case BinaryOp::div:
        if (for_a) broadcast_map3(p, dy, a, b, g, [](float t, float, float v) { return t / v; });
        else broadcast_map3(p, dy, a, b, g, [](float t, float u, float v) { return -t * (u / v) / v; });
        break;
      case BinaryOp::maximum:
        if (for_a) broadcast_map3(p, dy, a, b, g, [](float t, float u, float v) { return max_grad(t, u, v); });
        else broadcast_map3(p, dy, a, b, g, [](float t, float u, float v) { return max_grad(t, v, u); });
        break;
      case BinaryOp::minimum:
        if (for_a) broadcast_map3(p, dy, a, b, g, [](float t, float u, float v) { return min_grad(t, u, v); });
        else broadcast_map3(p, dy, a, b, g, [](float t, float u, float v) { return min_grad(t, v, u); });
        break;
      default: break;
    }
    if (repeated) reduce(ReduceOp::sum, out_shape, axes, g, d);
  }
}

}  // namespace tf::kernels
