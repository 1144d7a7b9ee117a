// Bindings for the pool kernel family: argument checks, then a call into native/kernels/pool.
//
//   maxPool2d(args, x, y)                       maxPool2dBackward(args, dx, dy, x)
//   avgPool2d(args, countIncludePad, x, y)      avgPool2dBackward(args, countIncludePad, dx, dy)
//   globalAvgPool2d(n, hw, c, x, y)             globalAvgPool2dBackward(n, hw, c, dx, dy)
//   globalMaxPool2d(n, hw, c, x, y)             globalMaxPool2dBackward(n, hw, c, dx, dy, x)
#include <napi.h>

#include <string>

#include "binding/args.h"
#include "binding/conv_args.h"
#include "binding/export.h"
#include "binding/plan.h"
#include "kernels/pool.h"

namespace tf::binding {
namespace {

std::string x_how(const Pool2dShape& s) { return size_how({{"n", s.n}, {"h", s.h}, {"w", s.w}, {"c", s.c}}); }
std::string y_how(const Pool2dShape& s) { return size_how({{"n", s.n}, {"oh", s.oh}, {"ow", s.ow}, {"c", s.c}}); }

Napi::Value max_pool2d_binding(const Napi::CallbackInfo& info) {
  Args args(info, "maxPool2d");
  args.expect_count(3);
  const Pool2dShape s = read_pool2d_shape(args, 0);
  const F32Arg x = args.f32(1, "x", s.x_size(), x_how(s));
  const F32Arg y = args.f32(2, "y", s.y_size(), y_how(s));
  run_or_record(info, [=] { max_pool2d(s, x.data, y.data); });
  return info.Env().Undefined();
}

Napi::Value max_pool2d_backward_binding(const Napi::CallbackInfo& info) {
  Args args(info, "maxPool2dBackward");
  args.expect_count(4);
  const Pool2dShape s = read_pool2d_shape(args, 0);
  const F32Arg dx = args.f32(1, "dx", s.x_size(), x_how(s));
  const F32Arg dy = args.f32(2, "dy", s.y_size(), y_how(s));
  const F32Arg x = args.f32(3, "x", s.x_size(), x_how(s));
  run_or_record(info, [=] { max_pool2d_backward(s, dx.data, dy.data, x.data); });
  return info.Env().Undefined();
}

Napi::Value avg_pool2d_binding(const Napi::CallbackInfo& info) {
  Args args(info, "avgPool2d");
  args.expect_count(4);
  const Pool2dShape s = read_pool2d_shape(args, 0);
  const bool count_include_pad = args.boolean(1, "countIncludePad");
  const F32Arg x = args.f32(2, "x", s.x_size(), x_how(s));
  const F32Arg y = args.f32(3, "y", s.y_size(), y_how(s));
  run_or_record(info, [=] { avg_pool2d(s, count_include_pad, x.data, y.data); });
  return info.Env().Undefined();
}

Napi::Value avg_pool2d_backward_binding(const Napi::CallbackInfo& info) {
  Args args(info, "avgPool2dBackward");
  args.expect_count(4);
  const Pool2dShape s = read_pool2d_shape(args, 0);
  const bool count_include_pad = args.boolean(1, "countIncludePad");
  const F32Arg dx = args.f32(2, "dx", s.x_size(), x_how(s));
  const F32Arg dy = args.f32(3, "dy", s.y_size(), y_how(s));
  run_or_record(info, [=] { avg_pool2d_backward(s, count_include_pad, dx.data, dy.data); });
  return info.Env().Undefined();
}

// (n, hw, c) of the global pools; x/dx is [N,HW,C], y/dy is [N,C].
struct GlobalShape {
  int64_t n, hw, c;
  std::string x_how() const { return size_how({{"n", n}, {"hw", hw}, {"c", c}}); }
  std::string y_how() const { return size_how({{"n", n}, {"c", c}}); }
};

GlobalShape read_global_shape(const Args& args) {
  GlobalShape s{args.dim(0, "n"), args.dim(1, "hw"), args.dim(2, "c")};
  checked_product(args.op(), "x", {s.n, s.hw, s.c});
  return s;
}

Napi::Value global_avg_pool2d_binding(const Napi::CallbackInfo& info) {
  Args args(info, "globalAvgPool2d");
  args.expect_count(5);
  const GlobalShape s = read_global_shape(args);
  const F32Arg x = args.f32(3, "x", s.n * s.hw * s.c, s.x_how());
  const F32Arg y = args.f32(4, "y", s.n * s.c, s.y_how());
  run_or_record(info, [=] { global_avg_pool2d(s.n, s.hw, s.c, x.data, y.data); });
  return info.Env().Undefined();
}

Napi::Value global_avg_pool2d_backward_binding(const Napi::CallbackInfo& info) {
  Args args(info, "globalAvgPool2dBackward");
  args.expect_count(5);
  const GlobalShape s = read_global_shape(args);
  const F32Arg dx = args.f32(3, "dx", s.n * s.hw * s.c, s.x_how());
  const F32Arg dy = args.f32(4, "dy", s.n * s.c, s.y_how());
  run_or_record(info, [=] { global_avg_pool2d_backward(s.n, s.hw, s.c, dx.data, dy.data); });
  return info.Env().Undefined();
}

Napi::Value global_max_pool2d_binding(const Napi::CallbackInfo& info) {
  Args args(info, "globalMaxPool2d");
  args.expect_count(5);
  const GlobalShape s = read_global_shape(args);
  const F32Arg x = args.f32(3, "x", s.n * s.hw * s.c, s.x_how());
  const F32Arg y = args.f32(4, "y", s.n * s.c, s.y_how());
  run_or_record(info, [=] { global_max_pool2d(s.n, s.hw, s.c, x.data, y.data); });
  return info.Env().Undefined();
}

Napi::Value global_max_pool2d_backward_binding(const Napi::CallbackInfo& info) {
  Args args(info, "globalMaxPool2dBackward");
  args.expect_count(6);
  const GlobalShape s = read_global_shape(args);
  const F32Arg dx = args.f32(3, "dx", s.n * s.hw * s.c, s.x_how());
  const F32Arg dy = args.f32(4, "dy", s.n * s.c, s.y_how());
  const F32Arg x = args.f32(5, "x", s.n * s.hw * s.c, s.x_how());
  run_or_record(info, [=] { global_max_pool2d_backward(s.n, s.hw, s.c, dx.data, dy.data, x.data); });
  return info.Env().Undefined();
}

}  // namespace

void register_pool(Napi::Env env, Napi::Object exports) {
  export_function(env, exports, "maxPool2d", max_pool2d_binding);
  export_function(env, exports, "maxPool2dBackward", max_pool2d_backward_binding);
  export_function(env, exports, "avgPool2d", avg_pool2d_binding);
  export_function(env, exports, "avgPool2dBackward", avg_pool2d_backward_binding);
  export_function(env, exports, "globalAvgPool2d", global_avg_pool2d_binding);
  export_function(env, exports, "globalAvgPool2dBackward", global_avg_pool2d_backward_binding);
  export_function(env, exports, "globalMaxPool2d", global_max_pool2d_binding);
  export_function(env, exports, "globalMaxPool2dBackward", global_max_pool2d_backward_binding);
}

}  // namespace tf::binding
