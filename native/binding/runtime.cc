// backendInfo / setNumThreads / setIsa, and the per-environment instance data that makes the addon
// safe to load in several worker_threads at once.
#include <napi.h>

#include <atomic>
#include <string>

#include "binding/args.h"
#include "binding/export.h"
#include "runtime/cpu.h"
#include "runtime/dispatch.h"
#include "runtime/thread_pool.h"

namespace tf::binding {
namespace {

// Per-environment state. Nothing JS-visible may be shared between environments; kernels themselves
// are stateless apart from the process-wide pool and dispatch table, which are thread-safe.
struct EnvData {
  int env_id;
};

std::atomic<int> next_env_id{0};

Napi::Value backend_info(const Napi::CallbackInfo& info) {
  Args args(info, "backendInfo");
  args.expect_count(0);
  Napi::Env env = info.Env();
  Napi::Object out = Napi::Object::New(env);
  out.Set("name", "native");
  out.Set("isa", isa_name(active_isa()));
  out.Set("detectedIsa", isa_name(detected_isa()));
  out.Set("numThreads", num_threads());
  Napi::Array compiled = Napi::Array::New(env);
  uint32_t k = 0;
  for (Isa isa : {Isa::scalar, Isa::neon, Isa::avx2, Isa::avx512}) {
    if (kernel_table_for(isa) != nullptr) compiled.Set(k++, isa_name(isa));
  }
  out.Set("availableIsas", compiled);
  out.Set("availableCores", available_cores());
  const auto* data = env.GetInstanceData<EnvData>();
  out.Set("envId", data != nullptr ? data->env_id : -1);
  return out;
}

Napi::Value set_num_threads_binding(const Napi::CallbackInfo& info) {
  Args args(info, "setNumThreads");
  args.expect_count(1);
  const int64_t n = args.dim(0, "n");
  if (n > 1024) args.range_error("n must be at most 1024, got " + std::to_string(n));
  set_num_threads(static_cast<int>(n));
  return info.Env().Undefined();
}

Napi::Value set_isa_binding(const Napi::CallbackInfo& info) {
  Args args(info, "setIsa");
  args.expect_count(1);
  const std::string name = args.string(0, "isa");
  Isa isa;
  if (!parse_isa(name.c_str(), &isa)) {
    args.range_error("unknown ISA '" + name + "' (expected scalar, neon, avx2 or avx512)");
  }
  if (!set_active_isa(isa)) {
    args.range_error("ISA '" + name + "' cannot run on this machine or was not compiled in (best: " +
                     isa_name(detected_isa()) + ")");
  }
  return info.Env().Undefined();
}

// alignOffset(buffer): the bytes from the start of an ArrayBuffer's memory to its first 64-byte
// boundary (0-63). The allocator (lib/backend/alloc.ts) starts large Float32Arrays there: the AVX-512
// tiles read B's rows and write C's in 64-byte vectors, and one that straddles two cache lines costs
// two. V8's backing stores come from malloc, 16 bytes past a boundary for large ones.
Napi::Value align_offset(const Napi::CallbackInfo& info) {
  Args args(info, "alignOffset");
  args.expect_count(1);
  if (!info[0].IsArrayBuffer()) {
    args.type_error("buffer must be an ArrayBuffer, got " + describe(info[0]));
  }
  const auto address = reinterpret_cast<uintptr_t>(info[0].As<Napi::ArrayBuffer>().Data());
  return Napi::Number::New(info.Env(), static_cast<double>((64 - address % 64) % 64));
}

}  // namespace

void register_runtime(Napi::Env env, Napi::Object exports) {
  export_function(env, exports, "alignOffset", align_offset);
  env.SetInstanceData(new EnvData{next_env_id.fetch_add(1)});
  export_function(env, exports, "backendInfo", backend_info);
  export_function(env, exports, "setNumThreads", set_num_threads_binding);
  export_function(env, exports, "setIsa", set_isa_binding);
}

}  // namespace tf::binding
