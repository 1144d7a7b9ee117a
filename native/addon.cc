// Module init: registration lines only. N-API addons are context-aware, so this runs once per
// environment (main thread and each worker_threads worker); see binding/runtime.cc for per-env data.
#include <napi.h>

#include "binding/export.h"
#include "binding/plan.h"

namespace {

Napi::Object init(Napi::Env env, Napi::Object exports) {
  using namespace tf::binding;
  register_runtime(env, exports);
  register_matmul(env, exports);
  register_conv(env, exports);
  register_pool(env, exports);
  register_elementwise(env, exports);
  register_reduce(env, exports);
  register_softmax(env, exports);
  register_norm(env, exports);
  register_dropout(env, exports);
  register_gather(env, exports);
  register_optim(env, exports);
  register_plan(env, exports);
  return exports;
}

}  // namespace

NODE_API_MODULE(tensorforge, init)
