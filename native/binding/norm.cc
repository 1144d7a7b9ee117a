// Bindings for batch norm and layer norm: every size, option and buffer length is checked here, then
// the kernels in native/kernels/norm.h run on plain pointers.
#include <napi.h>

#include <sstream>
#include <string>

#include "binding/args.h"
#include "binding/export.h"
#include "binding/plan.h"
#include "kernels/norm.h"

namespace tf::binding {
namespace {

double positive_eps(const Args& a, size_t i) {
  const double eps = a.number(i, "eps");
  if (!(eps > 0)) {
    std::ostringstream s;
    s << "eps must be > 0, got " << eps;
    a.range_error(s.str());
  }
  return eps;
}

std::string rows_by(const char* rows, int64_t m, const char* cols, int64_t c) {
  return std::string(rows) + "*" + cols + " (" + rows + "=" + std::to_string(m) + ", " + cols + "=" +
         std::to_string(c) + ")";
}

std::string just(const char* name, int64_t v) { return std::string(name) + " (" + std::to_string(v) + ")"; }

// batchNormTrain(m, c, eps, momentum, x, gamma, beta, runningMean, runningVar, y, saveMean, saveInvStd)
Napi::Value batch_norm_train(const Napi::CallbackInfo& info) {
  Args a(info, "batchNormTrain");
  a.expect_count(12);
  const int64_t m = a.dim(0, "m"), c = a.dim(1, "c");
  const int64_t mc = checked_product(a.op(), "x", {m, c});
  const double eps = positive_eps(a, 2);
  const double momentum = a.number(3, "momentum");
  if (momentum < 0 || momentum > 1) {
    std::ostringstream s;
    s << "momentum must be in [0, 1], got " << momentum;
    a.range_error(s.str());
  }
  const std::string how = rows_by("m", m, "c", c);
  const F32Arg x = a.f32(4, "x", mc, how);
  const F32Arg gamma = a.f32_or_null(5, "gamma", c, just("c", c));
  const F32Arg beta = a.f32_or_null(6, "beta", c, just("c", c));
  const F32Arg running_mean = a.f32_or_null(7, "runningMean", c, just("c", c));
  const F32Arg running_var = a.f32_or_null(8, "runningVar", c, just("c", c));
  const F32Arg y = a.f32(9, "y", mc, how);
  const F32Arg save_mean = a.f32(10, "saveMean", c, just("c", c));
  const F32Arg save_inv_std = a.f32(11, "saveInvStd", c, just("c", c));
  if ((running_mean.data == nullptr) != (running_var.data == nullptr)) {
    a.type_error("runningMean and runningVar must both be Float32Arrays or both be null");
  }
  if (running_mean.data != nullptr && m < 2) {
    a.range_error("m must be >= 2 to update the running variance (unbiased, divides by m-1), got m=" +
                  std::to_string(m));
  }
  run_or_record(info, [=] {
    tf::batch_norm_train(m, c, eps, momentum, x.data, gamma.data, beta.data, running_mean.data, running_var.data,
                         y.data, save_mean.data, save_inv_std.data);
  });
  return a.env().Undefined();
}

// batchNormInference(m, c, eps, x, gamma, beta, runningMean, runningVar, y)
Napi::Value batch_norm_inference(const Napi::CallbackInfo& info) {
  Args a(info, "batchNormInference");
  a.expect_count(9);
  const int64_t m = a.dim(0, "m"), c = a.dim(1, "c");
  const int64_t mc = checked_product(a.op(), "x", {m, c});
  const double eps = positive_eps(a, 2);
  const std::string how = rows_by("m", m, "c", c);
  const F32Arg x = a.f32(3, "x", mc, how);
  const F32Arg gamma = a.f32_or_null(4, "gamma", c, just("c", c));
  const F32Arg beta = a.f32_or_null(5, "beta", c, just("c", c));
  const F32Arg running_mean = a.f32(6, "runningMean", c, just("c", c));
  const F32Arg running_var = a.f32(7, "runningVar", c, just("c", c));
  const F32Arg y = a.f32(8, "y", mc, how);
  run_or_record(info, [=] { tf::batch_norm_inference(m, c, eps, x.data, gamma.data, beta.data, running_mean.data, running_var.data, y.data); });
  return a.env().Undefined();
}

// batchNormBackward / layerNormBackward share one argument list:
// (m, c|d, dx, dgamma, dbeta, dy, x, gamma, saveMean, saveInvStd); the saved stats have `stats` elements.
struct NormBackwardArgs {
  int64_t m, width;
  F32Arg dx, dgamma, dbeta, dy, x, gamma, save_mean, save_inv_std;
};

NormBackwardArgs read_norm_backward(const Args& a, const char* width_name, bool stats_per_row) {
  a.expect_count(10);
  NormBackwardArgs r;
  r.m = a.dim(0, "m");
  r.width = a.dim(1, width_name);
  const int64_t total = checked_product(a.op(), "x", {r.m, r.width});
  const std::string how = rows_by("m", r.m, width_name, r.width);
  const std::string per_col = just(width_name, r.width);
  const std::string per_stat = stats_per_row ? just("m", r.m) : per_col;
  const int64_t stats = stats_per_row ? r.m : r.width;
  r.dx = a.f32(2, "dx", total, how);
  r.dgamma = a.f32_or_null(3, "dgamma", r.width, per_col);
  r.dbeta = a.f32_or_null(4, "dbeta", r.width, per_col);
  r.dy = a.f32(5, "dy", total, how);
  r.x = a.f32(6, "x", total, how);
  r.gamma = a.f32_or_null(7, "gamma", r.width, per_col);
  r.save_mean = a.f32(8, "saveMean", stats, per_stat);
  r.save_inv_std = a.f32(9, "saveInvStd", stats, per_stat);
  return r;
}

Napi::Value batch_norm_backward(const Napi::CallbackInfo& info) {
  Args a(info, "batchNormBackward");
  const NormBackwardArgs r = read_norm_backward(a, "c", false);
  run_or_record(info, [=] {
    tf::batch_norm_backward(r.m, r.width, r.dx.data, r.dgamma.data, r.dbeta.data, r.dy.data, r.x.data, r.gamma.data,
                            r.save_mean.data, r.save_inv_std.data);
  });
  return a.env().Undefined();
}

// layerNorm(m, d, eps, x, gamma, beta, y, saveMean, saveInvStd)
Napi::Value layer_norm(const Napi::CallbackInfo& info) {
  Args a(info, "layerNorm");
  a.expect_count(9);
  const int64_t m = a.dim(0, "m"), d = a.dim(1, "d");
  const int64_t md = checked_product(a.op(), "x", {m, d});
  const double eps = positive_eps(a, 2);
  const std::string how = rows_by("m", m, "d", d);
  const F32Arg x = a.f32(3, "x", md, how);
  const F32Arg gamma = a.f32_or_null(4, "gamma", d, just("d", d));
  const F32Arg beta = a.f32_or_null(5, "beta", d, just("d", d));
  const F32Arg y = a.f32(6, "y", md, how);
  const F32Arg save_mean = a.f32(7, "saveMean", m, just("m", m));
  const F32Arg save_inv_std = a.f32(8, "saveInvStd", m, just("m", m));
  run_or_record(info, [=] { tf::layer_norm(m, d, eps, x.data, gamma.data, beta.data, y.data, save_mean.data, save_inv_std.data); });
  return a.env().Undefined();
}

Napi::Value layer_norm_backward(const Napi::CallbackInfo& info) {
  Args a(info, "layerNormBackward");
  const NormBackwardArgs r = read_norm_backward(a, "d", true);
  run_or_record(info, [=] {
    tf::layer_norm_backward(r.m, r.width, r.dx.data, r.dgamma.data, r.dbeta.data, r.dy.data, r.x.data, r.gamma.data,
                            r.save_mean.data, r.save_inv_std.data);
  });
  return a.env().Undefined();
}

}  // namespace

void register_norm(Napi::Env env, Napi::Object exports) {
  export_function(env, exports, "batchNormTrain", batch_norm_train);
  export_function(env, exports, "batchNormInference", batch_norm_inference);
  export_function(env, exports, "batchNormBackward", batch_norm_backward);
  export_function(env, exports, "layerNorm", layer_norm);
  export_function(env, exports, "layerNormBackward", layer_norm_backward);
}

}  // namespace tf::binding
