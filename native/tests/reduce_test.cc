// Tests for reductions against naive loops written here: every axis subset of rank 1-4 shapes with odd
// sizes, sum/mean/max forward and backward, argmax along every axis, first-maximum tie breaking, and
// thread-count independence on shapes large enough to split.
#include <cmath>
#include <string>
#include <vector>

#include "kernels/reduce.h"
#include "tests/testing.h"

using namespace tf;
using namespace tf::kernels;
using namespace tf::testing;

namespace {

// Output index of every input element (row-major walk, so group members arrive in reduced order).
std::vector<int64_t> naive_out_index(const Shape& shape, const Shape& axes, int64_t* out_count) {
  const size_t rank = shape.size();
  std::vector<bool> red(rank, false);
  for (int64_t a : axes) red[static_cast<size_t>(a)] = true;
  std::vector<int64_t> map(static_cast<size_t>(count(shape)));
  std::vector<int64_t> idx(rank, 0);
  *out_count = 1;
  for (size_t d = 0; d < rank; ++d) {
    if (!red[d]) *out_count *= shape[d];
  }
  for (size_t i = 0; i < map.size(); ++i) {
    int64_t o = 0;
    for (size_t d = 0; d < rank; ++d) {
      if (!red[d]) o = o * shape[d] + idx[d];
    }
    map[i] = o;
    for (size_t d = rank; d-- > 0;) {
      if (++idx[d] < shape[d]) break;
      idx[d] = 0;
    }
  }
  return map;
}

const ReduceOp kOps[] = {ReduceOp::sum, ReduceOp::mean, ReduceOp::max};
const char* kNames[] = {"sum", "mean", "max"};

void check_reduction(const Shape& shape, const Shape& axes, int threads, Rng& rng) {
  int64_t out_count = 0;
  const auto map = naive_out_index(shape, axes, &out_count);
  const int64_t n = count(shape);
  GuardedBuffer x(n), dx(n), dy(out_count);
  rng.fill(x.data(), n, -3, 3);
  // Repeat a few values so that max has ties (first one must win).
  for (int64_t i = 5; i < n; i += 7) x[i] = x[i - 5];
  rng.fill(dy.data(), out_count);
  for (size_t k = 0; k < 3; ++k) {
    const ReduceOp op = kOps[k];
    GuardedBuffer y(out_count);
    reduce(op, shape, axes, x.data(), y.data());
    reduce_backward(op, shape, axes, dx.data(), dy.data(), x.data());
    std::vector<double> acc(out_count, 0.0);
    std::vector<int64_t> first(out_count, -1);
    for (int64_t i = 0; i < n; ++i) {
      const int64_t o = map[i];
      acc[o] += x[i];
      if (first[o] < 0 || x[i] > x[first[o]]) first[o] = i;
    }
    const int64_t per = n / out_count;
    std::vector<float> ey(out_count), edx(n);
    for (int64_t o = 0; o < out_count; ++o) {
      ey[o] = static_cast<float>(op == ReduceOp::max ? x[first[o]] : op == ReduceOp::mean ? acc[o] / per : acc[o]);
    }
    for (int64_t i = 0; i < n; ++i) {
      const int64_t o = map[i];
      edx[i] = op == ReduceOp::max ? (first[o] == i ? dy[o] : 0.0f)
                                   : static_cast<float>(op == ReduceOp::mean ? dy[o] / per : dy[o]);
    }
    const std::string ctx = std::string(kNames[k]) + " shape=" + str(shape) + " axes=" + str(axes) +
                            " threads=" + std::to_string(threads);
    expect_close(y.data(), ey.data(), out_count, 1e-5f + 4e-7f * per, 1e-5f, "forward " + ctx);
    expect_close(dx.data(), edx.data(), n, 1e-6f, 1e-6f, "backward " + ctx);
  }
}

}  // namespace

TF_TEST(reduce_every_axis_subset_rank_1_to_4) {
  const Shape shapes[] = {{1}, {13}, {5, 7}, {1, 9}, {3, 1, 5}, {4, 5, 3}, {2, 3, 1, 5}, {3, 4, 5, 6}};
  for_each_isa([&](Isa) {
    for_each_thread_count([&](int threads) {
      Rng rng(7);
      for (const Shape& shape : shapes) {
        const int rank = static_cast<int>(shape.size());
        for (int mask = 0; mask < (1 << rank); ++mask) {
          Shape axes;
          for (int d = 0; d < rank; ++d) {
            if (mask & (1 << d)) axes.push_back(d);
          }
          check_reduction(shape, axes, threads, rng);
        }
      }
    });
  });
}

TF_TEST(reduce_large_shapes_split_and_stay_correct) {
  // Bias-gradient-like [N, C] over axis 0 (few outputs, long columns) and a long inner reduction.
  for_each_thread_count([](int threads) {
    Rng rng(9);
    check_reduction({4001, 67}, {0}, threads, rng);
    check_reduction({67, 4001}, {1}, threads, rng);
    check_reduction({31, 77, 41}, {0, 2}, threads, rng);
    check_reduction({100003}, {0}, threads, rng);
  });
}

TF_TEST(reduce_is_identical_for_any_thread_count) {
  const struct {
    Shape shape, axes;
  } cases[] = {{{4001, 67}, {0}}, {{67, 4001}, {1}}, {{31, 77, 41}, {0, 2}}, {{31, 77, 41}, {1}}};
  for (const auto& c : cases) {
    int64_t out_count = 0;
    naive_out_index(c.shape, c.axes, &out_count);
    const int64_t n = count(c.shape);
    std::vector<float> x(n), dy(out_count);
    Rng rng(5);
    rng.fill(x.data(), n), rng.fill(dy.data(), out_count);
    for (size_t k = 0; k < 3; ++k) {
      std::vector<float> y[2], dx[2];
      for_each_thread_count([&](int threads) {
        const int t = threads - 1;
        y[t].assign(out_count, 0), dx[t].assign(n, 0);
        reduce(kOps[k], c.shape, c.axes, x.data(), y[t].data());
        reduce_backward(kOps[k], c.shape, c.axes, dx[t].data(), dy.data(), x.data());
      });
      const std::string ctx = std::string(kNames[k]) + " shape=" + str(c.shape) + " axes=" + str(c.axes);
      expect_identical(y[0].data(), y[1].data(), out_count, "forward " + ctx);
      expect_identical(dx[0].data(), dx[1].data(), n, "backward " + ctx);
    }
  }
}

TF_TEST(argmax_names_the_first_maximum_along_each_axis) {
  const Shape shapes[] = {{9}, {4, 7}, {3, 5, 2}, {2, 3, 4, 5}, {301, 67}};
  for_each_thread_count([&](int threads) {
    for (const Shape& shape : shapes) {
      const int64_t n = count(shape);
      std::vector<float> x(n);
      Rng rng(1);
      // Few distinct values: many ties, so "first" matters.
      for (auto& v : x) v = static_cast<float>(rng.below(4));
      for (int64_t axis = 0; axis < static_cast<int64_t>(shape.size()); ++axis) {
        int64_t out_count = 0;
        const auto map = naive_out_index(shape, {axis}, &out_count);
        std::vector<int32_t> y(out_count, -1);
        argmax(shape, axis, x.data(), y.data());
        int64_t stride = 1;
        for (size_t d = static_cast<size_t>(axis) + 1; d < shape.size(); ++d) stride *= shape[d];
        std::vector<int64_t> first(out_count, -1);
        for (int64_t i = 0; i < n; ++i) {
          if (first[map[i]] < 0 || x[i] > x[first[map[i]]]) first[map[i]] = i;
        }
        for (int64_t o = 0; o < out_count; ++o) {
          const int64_t expect = (first[o] / stride) % shape[axis];
          if (y[o] != expect) {
            fail("argmax shape=" + str(shape) + " axis=" + std::to_string(axis) + " out " + std::to_string(o) +
                 ": expected " + std::to_string(expect) + ", got " + std::to_string(y[o]) + " threads=" +
                 std::to_string(threads));
            break;
          }
        }
      }
    }
  });
}

TF_TEST(reduce_max_propagates_nan) {
  const float nan = std::nanf("");
  std::vector<float> x = {1, nan, 3, 4, 5, 6};
  std::vector<float> y(2);
  std::vector<int32_t> at(2);
  reduce(ReduceOp::max, {2, 3}, {1}, x.data(), y.data());
  argmax({2, 3}, 1, x.data(), at.data());
  TF_CHECK(std::isnan(y[0]) && y[1] == 6.0f, "max over a row with NaN is NaN");
  TF_CHECK(at[0] == 1 && at[1] == 2, "argmax names the NaN");
}
