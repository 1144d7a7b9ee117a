// Bindings for the fused optimizer updates. The options object is read and range-checked in full,
// every buffer must be a Float32Array as long as w, each optional state buffer must be present
// exactly when its option needs it, and the optional paramStarts is checked entry by entry.
#include <napi.h>

#include <cmath>
#include <sstream>
#include <string>
#include <vector>

#include "binding/args.h"
#include "binding/export.h"
#include "kernels/optim.h"

namespace tf::binding {
namespace {

// A finite option in [lo, hi] ([lo, hi) when hi_open); hi = INFINITY means no upper bound.
double option_in(const Args& a, const Napi::Object& o, const char* key, double lo, double hi, bool hi_open = false) {
  const double v = a.number_prop(o, key);
  if (v < lo || v > hi || (hi_open && v == hi)) {
    std::ostringstream s;
    if (std::isinf(hi)) {
      s << key << " must be >= " << lo << ", got " << v;
    } else {
      s << key << " must be in [" << lo << ", " << hi << (hi_open ? ")" : "]") << ", got " << v;
    }
    a.range_error(s.str());
  }
  return v;
}

double option_positive(const Args& a, const Napi::Object& o, const char* key) {
  const double v = a.number_prop(o, key);
  if (!(v > 0)) {
    std::ostringstream s;
    s << key << " must be > 0, got " << v;
    a.range_error(s.str());
  }
  return v;
}

// The parameter buffer w (argument 1) fixes n; g (argument 2) must match it.
struct Params {
  int64_t n;
  F32Arg w, g;
  std::string how;
};

Params read_params(const Args& a) {
  Params p;
  p.n = a.f32_length(1, "w");
  p.how = "w.length";
  p.w = a.f32(1, "w", p.n, p.how);
  p.g = a.f32(2, "g", p.n, p.how);
  return p;
}

// The options' optional paramStarts (kernels/optim.h: ParamStarts): where each parameter starts in w,
// an array of integer offsets, the first 0, strictly ascending, each below n. Absent (undefined): one
// parameter. Only the thread split depends on it, but the kernel indexes w with it, so every entry is
// checked here.
std::vector<int64_t> param_starts(const Args& a, const Napi::Object& o, int64_t n) {
  const Napi::Value v = o.Get("paramStarts");
  if (v.IsUndefined()) return {};
  if (!v.IsArray()) a.type_error("paramStarts must be an array of offsets into w, got " + describe(v));
  const auto arr = v.As<Napi::Array>();
  // Strictly ascending below n allows at most n entries; checked before reserving (a JS array's length
  // can be 2^32 - 1 with nothing in it).
  if (static_cast<int64_t>(arr.Length()) > n) {
    a.range_error("paramStarts has " + std::to_string(arr.Length()) + " entries, more than w.length " + std::to_string(n));
  }
  std::vector<int64_t> starts;
  starts.reserve(arr.Length());
  for (uint32_t k = 0; k < arr.Length(); ++k) {
    const Napi::Value e = arr.Get(k);
    const auto name = [k] { return "paramStarts[" + std::to_string(k) + "]"; };  // built only to fail
    if (!e.IsNumber()) a.type_error(name() + " must be a number, got " + describe(e));
    const double d = e.As<Napi::Number>().DoubleValue();
    const int64_t lo = k == 0 ? 0 : starts.back() + 1;
    const int64_t hi = k == 0 ? 0 : n - 1;
    if (!(d >= static_cast<double>(lo) && d <= static_cast<double>(hi)) || std::floor(d) != d) {
      const std::string got = e.ToString().Utf8Value();  // as JS prints it
      if (k == 0) a.range_error(name() + " must be 0, got " + got);
      a.range_error(name() + " must be an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "] (above paramStarts[" +
                    std::to_string(k - 1) + "], below w.length " + std::to_string(n) + "), got " + got);
    }
    starts.push_back(static_cast<int64_t>(d));
  }
  return starts;
}

ParamStarts as_param_starts(const std::vector<int64_t>& starts) {
  return {starts.data(), static_cast<int64_t>(starts.size())};
}

// An optional state buffer: must be a Float32Array of length n when `needed`, may be null otherwise
// (a buffer passed when not needed is length-checked and left untouched).
float* state(const Args& a, size_t i, const char* name, const Params& p, bool needed, const char* why) {
  const F32Arg s = a.f32_or_null(i, name, p.n, p.how);
  if (needed && s.data == nullptr) a.type_error(std::string(name) + " must be a Float32Array when " + why + ", got null");
  return needed ? s.data : nullptr;
}

// sgdUpdate(args, w, g, momentumBuf)
Napi::Value sgd_update(const Napi::CallbackInfo& info) {
  Args a(info, "sgdUpdate");
  a.expect_count(4);
  const Napi::Object o = a.object(0, "args");
  SgdOptions opt{};
  opt.lr = option_in(a, o, "lr", 0, INFINITY);
  opt.momentum = option_in(a, o, "momentum", 0, 1);
  opt.dampening = option_in(a, o, "dampening", 0, 1);
  opt.weight_decay = option_in(a, o, "weightDecay", 0, INFINITY);
  opt.nesterov = a.bool_prop(o, "nesterov");
  opt.first_step = a.bool_prop(o, "firstStep");
  if (opt.nesterov && (opt.momentum == 0 || opt.dampening != 0)) {
    std::ostringstream s;
    s << "nesterov requires momentum > 0 and dampening = 0, got momentum=" << opt.momentum
      << ", dampening=" << opt.dampening;
    a.range_error(s.str());
  }
  const Params p = read_params(a);
  float* buf = state(a, 3, "momentumBuf", p, opt.momentum != 0, "momentum != 0");
  const std::vector<int64_t> starts = param_starts(a, o, p.n);
  tf::sgd_update(opt, p.n, p.w.data, p.g.data, buf, as_param_starts(starts));
  return a.env().Undefined();
}

// adagradUpdate(args, w, g, sumSq)
Napi::Value adagrad_update(const Napi::CallbackInfo& info) {
  Args a(info, "adagradUpdate");
  a.expect_count(4);
  const Napi::Object o = a.object(0, "args");
  AdagradOptions opt{};
  opt.lr = option_in(a, o, "lr", 0, INFINITY);
  opt.lr_decay = option_in(a, o, "lrDecay", 0, INFINITY);
  opt.weight_decay = option_in(a, o, "weightDecay", 0, INFINITY);
  opt.eps = option_positive(a, o, "eps");
  opt.step = a.dim_prop(o, "step");
  const Params p = read_params(a);
  const F32Arg sum_sq = a.f32(3, "sumSq", p.n, p.how);
  const std::vector<int64_t> starts = param_starts(a, o, p.n);
  tf::adagrad_update(opt, p.n, p.w.data, p.g.data, sum_sq.data, as_param_starts(starts));
  return a.env().Undefined();
}

// rmspropUpdate(args, w, g, squareAvg, gradAvg, momentumBuf)
Napi::Value rmsprop_update(const Napi::CallbackInfo& info) {
  Args a(info, "rmspropUpdate");
  a.expect_count(6);
  const Napi::Object o = a.object(0, "args");
  RmspropOptions opt{};
  opt.lr = option_in(a, o, "lr", 0, INFINITY);
  opt.alpha = option_in(a, o, "alpha", 0, 1);
  opt.eps = option_positive(a, o, "eps");
  opt.weight_decay = option_in(a, o, "weightDecay", 0, INFINITY);
  opt.momentum = option_in(a, o, "momentum", 0, 1);
  opt.centered = a.bool_prop(o, "centered");
  const Params p = read_params(a);
  const F32Arg square_avg = a.f32(3, "squareAvg", p.n, p.how);
  float* grad_avg = state(a, 4, "gradAvg", p, opt.centered, "centered");
  float* buf = state(a, 5, "momentumBuf", p, opt.momentum != 0, "momentum != 0");
  const std::vector<int64_t> starts = param_starts(a, o, p.n);
  tf::rmsprop_update(opt, p.n, p.w.data, p.g.data, square_avg.data, grad_avg, buf, as_param_starts(starts));
  return a.env().Undefined();
}

// adamUpdate(args, w, g, m, v, vMax)
Napi::Value adam_update(const Napi::CallbackInfo& info) {
  Args a(info, "adamUpdate");
  a.expect_count(6);
  const Napi::Object o = a.object(0, "args");
  AdamOptions opt{};
  opt.lr = option_in(a, o, "lr", 0, INFINITY);
  opt.beta1 = option_in(a, o, "beta1", 0, 1, true);
  opt.beta2 = option_in(a, o, "beta2", 0, 1, true);
  opt.eps = option_positive(a, o, "eps");
  opt.weight_decay = option_in(a, o, "weightDecay", 0, INFINITY);
  opt.decoupled_weight_decay = a.bool_prop(o, "decoupledWeightDecay");
  opt.amsgrad = a.bool_prop(o, "amsgrad");
  opt.step = a.dim_prop(o, "step");
  const Params p = read_params(a);
  const F32Arg m = a.f32(3, "m", p.n, p.how);
  const F32Arg v = a.f32(4, "v", p.n, p.how);
  float* v_max = state(a, 5, "vMax", p, opt.amsgrad, "amsgrad");
  const std::vector<int64_t> starts = param_starts(a, o, p.n);
  tf::adam_update(opt, p.n, p.w.data, p.g.data, m.data, v.data, v_max, as_param_starts(starts));
  return a.env().Undefined();
}

}  // namespace

void register_optim(Napi::Env env, Napi::Object exports) {
  export_function(env, exports, "sgdUpdate", sgd_update);
  export_function(env, exports, "adagradUpdate", adagrad_update);
  export_function(env, exports, "rmspropUpdate", rmsprop_update);
  export_function(env, exports, "adamUpdate", adam_update);
}

}  // namespace tf::binding
