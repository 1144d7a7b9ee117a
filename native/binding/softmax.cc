// Bindings for the softmax kernel family: argument checks, then a call into native/kernels/.
//   softmax / logSoftmax(outer, dim, inner, x, y)
//   softmaxBackward / logSoftmaxBackward(outer, dim, inner, dx, dy, y)
//   softmaxCrossEntropy(n, c, labelSmoothing, logits, target, loss, probs)
//   softmaxCrossEntropyBackward(n, c, labelSmoothing, dlogits, dloss, probs, target)
// Class-index targets come from JS: every one is checked against [0, C) here, before any kernel runs.
#include <napi.h>

#include <string>

#include "binding/args.h"
#include "binding/export.h"
#include "binding/plan.h"
#include "kernels/softmax.h"

namespace tf::binding {
namespace {

struct SoftmaxDims {
  int64_t outer, dim, inner, size;
  std::string how;
};

SoftmaxDims softmax_dims(const Args& args) {
  SoftmaxDims s;
  s.outer = args.dim(0, "outer");
  s.dim = args.dim(1, "dim");
  s.inner = args.dim(2, "inner");
  s.size = checked_product(args.op(), "outer*dim*inner", {s.outer, s.dim, s.inner});
  s.how = "outer*dim*inner (" + std::to_string(s.outer) + "*" + std::to_string(s.dim) + "*" +
          std::to_string(s.inner) + ")";
  return s;
}

using ForwardFn = void (*)(int64_t, int64_t, int64_t, const float*, float*);
using BackwardFn = void (*)(int64_t, int64_t, int64_t, float*, const float*, const float*);

Napi::Value run_forward(const Napi::CallbackInfo& info, const char* op, ForwardFn fn) {
  Args args(info, op);
  args.expect_count(5);
  const SoftmaxDims s = softmax_dims(args);
  const F32Arg x = args.f32(3, "x", s.size, s.how);
  const F32Arg y = args.f32(4, "y", s.size, s.how);
  run_or_record(info, [=] { fn(s.outer, s.dim, s.inner, x.data, y.data); });
  return info.Env().Undefined();
}

Napi::Value run_backward(const Napi::CallbackInfo& info, const char* op, BackwardFn fn) {
  Args args(info, op);
  args.expect_count(6);
  const SoftmaxDims s = softmax_dims(args);
  const F32Arg dx = args.f32(3, "dx", s.size, s.how);
  const F32Arg dy = args.f32(4, "dy", s.size, s.how);
  const F32Arg y = args.f32(5, "y", s.size, s.how);
  run_or_record(info, [=] { fn(s.outer, s.dim, s.inner, dx.data, dy.data, y.data); });
  return info.Env().Undefined();
}

Napi::Value softmax(const Napi::CallbackInfo& info) { return run_forward(info, "softmax", kernels::softmax); }
Napi::Value log_softmax(const Napi::CallbackInfo& info) {
  return run_forward(info, "logSoftmax", kernels::log_softmax);
}
Napi::Value softmax_backward(const Napi::CallbackInfo& info) {
  return run_backward(info, "softmaxBackward", kernels::softmax_backward);
}
Napi::Value log_softmax_backward(const Napi::CallbackInfo& info) {
  return run_backward(info, "logSoftmaxBackward", kernels::log_softmax_backward);
}

struct CrossEntropyArgs {
  int64_t n, c;
  float label_smoothing;
  std::string nc_how;
};

CrossEntropyArgs cross_entropy_args(const Args& args) {
  CrossEntropyArgs a;
  a.n = args.dim(0, "n");
  a.c = args.dim(1, "c");
  checked_product(args.op(), "n*c", {a.n, a.c});
  const double s = args.number(2, "labelSmoothing");
  if (!(s >= 0 && s < 1)) args.range_error("labelSmoothing must be in [0, 1), got " + std::to_string(s));
  a.label_smoothing = static_cast<float>(s);
  a.nc_how = "n*c (n=" + std::to_string(a.n) + ", c=" + std::to_string(a.c) + ")";
  return a;
}

// Throws (naming op) unless every class index of t is in [0, c). Run at every call, recorded ones
// included: a replayed plan reads whatever labels were copied into its target buffer since.
void check_class_indices(const std::string& op, const kernels::CrossEntropyTarget& t, int64_t n, int64_t c) {
  if (t.index == nullptr) return;
  for (int64_t r = 0; r < n; ++r) {
    if (t.index[r] < 0 || t.index[r] >= c) {
      throw_range_error(op, "target[" + std::to_string(r) + "] = " + std::to_string(t.index[r]) +
                                " is not a class index in [0, " + std::to_string(c) + ")");
    }
  }
}

// Class indices [N] (checked against [0, C) by check_class_indices before each kernel run) or
// probabilities [N,C].
kernels::CrossEntropyTarget read_target(const Args& args, size_t i, const CrossEntropyArgs& a) {
  kernels::CrossEntropyTarget t;
  if (args.is_int32_array(i)) {
    t.index = args.i32(i, "target", a.n, "n (n=" + std::to_string(a.n) + ")").data;
    return t;
  }
  const Napi::Value v = args.at(i);
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
    args.type_error("target must be an Int32Array of class indices or a Float32Array of probabilities, got " +
                    describe(v));
  }
  t.prob = args.f32(i, "target", a.n * a.c, a.nc_how).data;
  return t;
}

Napi::Value softmax_cross_entropy(const Napi::CallbackInfo& info) {
  Args args(info, "softmaxCrossEntropy");
  args.expect_count(7);
  const CrossEntropyArgs a = cross_entropy_args(args);
  const F32Arg logits = args.f32(3, "logits", a.n * a.c, a.nc_how);
  const kernels::CrossEntropyTarget target = read_target(args, 4, a);
  const F32Arg loss = args.f32(5, "loss", a.n, [&] { return "n (n=" + std::to_string(a.n) + ")"; });
  const F32Arg probs = args.f32(6, "probs", a.n * a.c, a.nc_how);
  const std::string op = args.op();
  run_or_record(info, [=] {
    check_class_indices(op, target, a.n, a.c);
    kernels::softmax_cross_entropy(a.n, a.c, a.label_smoothing, logits.data, target, loss.data, probs.data);
  });
  return info.Env().Undefined();
}

Napi::Value softmax_cross_entropy_backward(const Napi::CallbackInfo& info) {
  Args args(info, "softmaxCrossEntropyBackward");
  args.expect_count(7);
  const CrossEntropyArgs a = cross_entropy_args(args);
  const F32Arg dlogits = args.f32(3, "dlogits", a.n * a.c, a.nc_how);
  const F32Arg dloss = args.f32(4, "dloss", a.n, [&] { return "n (n=" + std::to_string(a.n) + ")"; });
  const F32Arg probs = args.f32(5, "probs", a.n * a.c, a.nc_how);
  const kernels::CrossEntropyTarget target = read_target(args, 6, a);
  const std::string op = args.op();
  run_or_record(info, [=] {
    check_class_indices(op, target, a.n, a.c);
    kernels::softmax_cross_entropy_backward(a.n, a.c, a.label_smoothing, dlogits.data, dloss.data, probs.data, target);
  });
  return info.Env().Undefined();
}

}  // namespace

void register_softmax(Napi::Env env, Napi::Object exports) {
  export_function(env, exports, "softmax", softmax);
  export_function(env, exports, "softmaxBackward", softmax_backward);
  export_function(env, exports, "logSoftmax", log_softmax);
  export_function(env, exports, "logSoftmaxBackward", log_softmax_backward);
  export_function(env, exports, "softmaxCrossEntropy", softmax_cross_entropy);
  export_function(env, exports, "softmaxCrossEntropyBackward", softmax_cross_entropy_backward);
}

}  // namespace tf::binding
