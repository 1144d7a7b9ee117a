// Bindings for the conv kernel family: argument checks, then a call into native/kernels/conv2d.
//
//   conv2d(args, epilogue, x, w, bias, y)
//   conv2dBackwardInput(args, dx, dy, w)
//   conv2dBackwardFilter(args, dw, dbias, dy, x)
#include <napi.h>

#include <string>

#include "binding/args.h"
#include "binding/conv_args.h"
#include "binding/epilogue.h"
#include "binding/export.h"
#include "binding/plan.h"
#include "kernels/conv2d.h"
#include "kernels/gemm.h"

namespace tf::binding {
namespace {

Conv2dEpilogue read_conv_epilogue(const Args& args, size_t i) {
  const EpilogueArg e = read_epilogue(args, args.object(i, "epilogue"));
  return Conv2dEpilogue{e.activation, e.alpha};
}

std::string x_how(const Conv2dShape& s) { return size_how({{"n", s.n}, {"h", s.h}, {"w", s.w}, {"c", s.c}}); }
std::string w_how(const Conv2dShape& s) {
  return size_how({{"kh", s.kh}, {"kw", s.kw}, {"c/groups", s.c_per_group()}, {"oc", s.oc}});
}
std::string y_how(const Conv2dShape& s) { return size_how({{"n", s.n}, {"oh", s.oh}, {"ow", s.ow}, {"oc", s.oc}}); }
std::string bias_how(const Conv2dShape& s) { return size_how({{"oc", s.oc}}); }

Napi::Value conv2d(const Napi::CallbackInfo& info) {
  Args args(info, "conv2d");
  args.expect_count(6);
  const Conv2dShape s = read_conv2d_shape(args, 0);
  const Conv2dEpilogue epilogue = read_conv_epilogue(args, 1);
  const F32Arg x = args.f32(2, "x", s.x_size(), x_how(s));
  const F32Arg w = args.f32(3, "w", s.w_size(), w_how(s));
  const F32Arg bias = args.f32_or_null(4, "bias", s.oc, bias_how(s));
  const F32Arg y = args.f32(5, "y", s.y_size(), y_how(s));
  run_or_record(info, [=] { conv2d_forward(s, epilogue, x.data, w.data, bias.data, y.data); });
  return info.Env().Undefined();
}

Napi::Value conv2d_backward_input_binding(const Napi::CallbackInfo& info) {
  Args args(info, "conv2dBackwardInput");
  args.expect_count(4);
  const Conv2dShape s = read_conv2d_shape(args, 0);
  const F32Arg dx = args.f32(1, "dx", s.x_size(), x_how(s));
  const F32Arg dy = args.f32(2, "dy", s.y_size(), y_how(s));
  const F32Arg w = args.f32(3, "w", s.w_size(), w_how(s));
  run_or_record(info, [=] { conv2d_backward_input(s, dx.data, dy.data, w.data); });
  return info.Env().Undefined();
}

Napi::Value conv2d_backward_filter_binding(const Napi::CallbackInfo& info) {
  Args args(info, "conv2dBackwardFilter");
  args.expect_count(5);
  const Conv2dShape s = read_conv2d_shape(args, 0);
  const F32Arg dw = args.f32(1, "dw", s.w_size(), w_how(s));
  const F32Arg dbias = args.f32_or_null(2, "dbias", s.oc, bias_how(s));
  const F32Arg dy = args.f32(3, "dy", s.y_size(), y_how(s));
  const F32Arg x = args.f32(4, "x", s.x_size(), x_how(s));
  run_or_record(info, [=] { conv2d_backward_filter(s, dw.data, dbias.data, dy.data, x.data); });
  return info.Env().Undefined();
}

}  // namespace

void register_conv(Napi::Env env, Napi::Object exports) {
  export_function(env, exports, "conv2d", conv2d);
  export_function(env, exports, "conv2dBackwardInput", conv2d_backward_input_binding);
  export_function(env, exports, "conv2dBackwardFilter", conv2d_backward_filter_binding);
}

}  // namespace tf::binding
