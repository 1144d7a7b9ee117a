// Bindings for the reduce kernel family: argument checks, then a call into native/kernels/.
//   reduce(op, shape, axes, x, y)                       x [shape] -> y [shape without axes]
//   reduceBackward(op, shape, axes, dx, dy, x, y)
//   argmax(shape, axis, x, y: Int32Array)
#include <napi.h>

#include <string>

#include "binding/args.h"
#include "binding/export.h"
#include "binding/plan.h"
#include "kernels/reduce.h"

namespace tf::binding {
namespace {

using kernels::ReduceOp;

ReduceOp reduce_op(const Args& args, size_t i) {
  const std::string name = args.string(i, "op");
  if (name == "sum") return ReduceOp::sum;
  if (name == "mean") return ReduceOp::mean;
  if (name == "max") return ReduceOp::max;
  args.range_error("unknown op '" + name + "' (expected one of sum, mean, max)");
}

// Axes: sorted, unique, each in [0, rank).
std::vector<int64_t> read_axes(const Args& args, size_t i, size_t rank) {
  const std::vector<int64_t> axes = args.int_list(i, "axes");
  for (size_t k = 0; k < axes.size(); ++k) {
    if (axes[k] < 0 || axes[k] >= static_cast<int64_t>(rank)) {
      args.range_error("axis " + std::to_string(axes[k]) + " is out of range for rank " + std::to_string(rank));
    }
    if (k > 0 && axes[k] <= axes[k - 1]) args.range_error("axes must be sorted and unique");
  }
  return axes;
}

struct ReduceShapes {
  std::vector<int64_t> shape, axes;
  int64_t x_size, y_size;
  std::string x_how, y_how;
};

ReduceShapes reduce_shapes(const Args& args, size_t ishape, size_t iaxes) {
  ReduceShapes s;
  s.shape = args.shape(ishape, "shape");
  s.axes = read_axes(args, iaxes, s.shape.size());
  s.x_size = checked_product(args.op(), "shape", s.shape);
  std::vector<int64_t> kept;
  for (size_t d = 0, k = 0; d < s.shape.size(); ++d) {
    if (k < s.axes.size() && s.axes[k] == static_cast<int64_t>(d)) {
      ++k;
    } else {
      kept.push_back(s.shape[d]);
    }
  }
  s.y_size = checked_product(args.op(), "output", kept);
  s.x_how = "size of shape " + shape_string(s.shape);
  s.y_how = "size of " + shape_string(kept) + " (shape without axes)";
  return s;
}

Napi::Value reduce(const Napi::CallbackInfo& info) {
  Args args(info, "reduce");
  args.expect_count(5);
  const ReduceOp op = reduce_op(args, 0);
  const ReduceShapes s = reduce_shapes(args, 1, 2);
  const F32Arg x = args.f32(3, "x", s.x_size, s.x_how);
  const F32Arg y = args.f32(4, "y", s.y_size, s.y_how);
  run_or_record(info, [=] { kernels::reduce(op, s.shape, s.axes, x.data, y.data); });
  return info.Env().Undefined();
}

Napi::Value reduce_backward(const Napi::CallbackInfo& info) {
  Args args(info, "reduceBackward");
  args.expect_count(7);
  const ReduceOp op = reduce_op(args, 0);
  const ReduceShapes s = reduce_shapes(args, 1, 2);
  const F32Arg dx = args.f32(3, "dx", s.x_size, s.x_how);
  const F32Arg dy = args.f32(4, "dy", s.y_size, s.y_how);
  const F32Arg x = args.f32(5, "x", s.x_size, s.x_how);
  args.f32(6, "y", s.y_size, s.y_how);  // part of the interface; the first maximum is found from x
  run_or_record(info, [=] { kernels::reduce_backward(op, s.shape, s.axes, dx.data, dy.data, x.data); });
  return info.Env().Undefined();
}

Napi::Value argmax(const Napi::CallbackInfo& info) {
  Args args(info, "argmax");
  args.expect_count(4);
  const std::vector<int64_t> shape = args.shape(0, "shape");
  if (shape.empty()) args.range_error("shape must have rank >= 1, got []");
  const Napi::Value axis_value = args.at(1);
  if (!axis_value.IsNumber()) args.type_error("axis must be a number, got " + describe(axis_value));
  const double axis = axis_value.As<Napi::Number>().DoubleValue();
  if (!(axis >= 0 && axis < static_cast<double>(shape.size())) || axis != static_cast<double>(static_cast<int64_t>(axis))) {
    args.range_error("axis " + describe(axis_value) + " is out of range for rank " + std::to_string(shape.size()));
  }
  const auto ax = static_cast<int64_t>(axis);
  const int64_t x_size = checked_product(args.op(), "shape", shape);
  const int64_t y_size = x_size / shape[static_cast<size_t>(ax)];
  const F32Arg x = args.f32(2, "x", x_size, [&] { return "size of shape " + shape_string(shape); });
  const I32Arg y = args.i32(3, "y", y_size, [&] { return "size of shape without axis " + std::to_string(ax); });
  run_or_record(info, [=] { kernels::argmax(shape, ax, x.data, y.data); });
  return info.Env().Undefined();
}

}  // namespace

void register_reduce(Napi::Env env, Napi::Object exports) {
  export_function(env, exports, "reduce", reduce);
  export_function(env, exports, "reduceBackward", reduce_backward);
  export_function(env, exports, "argmax", argmax);
}

}  // namespace tf::binding
