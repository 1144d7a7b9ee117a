// Bindings for the matmul kernel family: argument checks, then a call into native/kernels/gemm.
#include <napi.h>

#include <cstdint>
#include <memory>
#include <string>

#include "binding/args.h"
#include "binding/epilogue.h"
#include "binding/export.h"
#include "binding/plan.h"
#include "kernels/gemm.h"

namespace tf::binding {
namespace {

bool overlaps(const F32Arg& x, const F32Arg& y) {
  if (x.data == nullptr || y.data == nullptr) return false;
  const auto xb = reinterpret_cast<uintptr_t>(x.data), yb = reinterpret_cast<uintptr_t>(y.data);
  const auto xe = xb + static_cast<uintptr_t>(x.length) * sizeof(float);
  const auto ye = yb + static_cast<uintptr_t>(y.length) * sizeof(float);
  return xb < ye && yb < xe;
}

// The options and buffers matmul and matmulPacked share: {m,n,k,transA,accumulate,activation,alpha},
// a (argument 1), bias (3) and c (4).
struct MatmulCall {
  int64_t m = 0, n = 0, k = 0;
  bool trans_a = false, accumulate = false;
  EpilogueArg epilogue;
  F32Arg a, bias, c;
};

MatmulCall read_options(const Args& in, const Napi::Object& o) {
  MatmulCall call;
  call.m = in.dim_prop(o, "m");
  call.n = in.dim_prop(o, "n");
  call.k = in.dim_prop(o, "k");
  call.trans_a = in.bool_prop(o, "transA");
  call.accumulate = in.bool_prop(o, "accumulate");
  call.epilogue = read_epilogue(in, o);
  return call;
}

void read_a_bias_c(const Args& in, MatmulCall& call) {
  const int64_t m = call.m, n = call.n, k = call.k;
  call.a = in.f32(1, "a", checked_product(in.op(), "a", {m, k}), [&] {
    return (call.trans_a ? "k*m (m=" : "m*k (m=") + std::to_string(m) + ", k=" + std::to_string(k) + ")";
  });
  call.bias = in.f32_or_null(3, "bias", n, [&] { return "n (n=" + std::to_string(n) + ")"; });
  call.c = in.f32(4, "c", checked_product(in.op(), "c", {m, n}),
                  [&] { return "m*n (m=" + std::to_string(m) + ", n=" + std::to_string(n) + ")"; });
}

// GemmArgs for c = act(op(a)·B + bias (+ c)) with B given by the caller (in memory, or prepacked: null).
GemmArgs gemm_args(const MatmulCall& call, const float* b, bool trans_b) {
  GemmArgs g = gemm_dense_args(call.m, call.n, call.k, call.a.data, call.trans_a, b, trans_b, call.c.data);
  g.bias = call.bias.data;
  g.accumulate = call.accumulate;
  g.activation = call.epilogue.activation;
  g.alpha = call.epilogue.alpha;
  return g;
}

// matmul(args {m,n,k,transA,transB,accumulate,activation,alpha}, a, b, bias|null, c)
//   a [M,K] (transA: [K,M]), b [K,N] (transB: [N,K]), bias [N] | null -> c [M,N]
Napi::Value matmul(const Napi::CallbackInfo& info) {
  Args in(info, "matmul");
  in.expect_count(5);
  const Napi::Object o = in.object(0, "args");
  MatmulCall call = read_options(in, o);
  const bool trans_b = in.bool_prop(o, "transB");
  read_a_bias_c(in, call);
  const int64_t n = call.n, k = call.k;
  const F32Arg b = in.f32(2, "b", checked_product(in.op(), "b", {k, n}), [&] {
    return (trans_b ? "n*k (k=" : "k*n (k=") + std::to_string(k) + ", n=" + std::to_string(n) + ")";
  });
  if (overlaps(call.c, call.a) || overlaps(call.c, b) || overlaps(call.c, call.bias)) {
    in.range_error("c must not share memory with a, b or bias");
  }
  const GemmArgs g = gemm_args(call, b.data, trans_b);
  run_or_record(info, [g] { gemm(g); });
  return info.Env().Undefined();
}

// --- prepacked B ---------------------------------------------------------------------------------
// packMatmulB returns a plain frozen object {k, n, transB, kernel} that owns the packed panels through
// napi_wrap; a type tag marks it, so matmulPacked can tell it from any other object before unwrapping.

const napi_type_tag kPackedBTag = {0x7f1e3c2a9b8d4e61ULL, 0xa3c5e7f90b1d2f43ULL};

void finalize_packed(napi_env env, void* data, void* /*hint*/) {
  auto* packed = static_cast<GemmPackedB*>(data);
  int64_t ignored = 0;
  napi_adjust_external_memory(env, -static_cast<int64_t>(packed->size() * sizeof(float)), &ignored);
  delete packed;
}

// Throws the op's TypeError unless `handle` is an object packMatmulB made (its type tag).
void expect_packed_handle(Args& in, const Napi::Value& handle) {
  if (!handle.IsObject() || !handle.As<Napi::Object>().CheckTypeTag(&kPackedBTag)) {
    in.type_error("packedB must be a handle returned by packMatmulB, got " + describe(handle));
  }
}

// packMatmulB(args {k,n,transB}, b) -> handle;  b [K,N] (transB: [N,K])
Napi::Value pack_matmul_b(const Napi::CallbackInfo& info) {
  Args in(info, "packMatmulB");
  in.expect_count(2);
  const Napi::Object o = in.object(0, "args");
  const int64_t k = in.dim_prop(o, "k");
  const int64_t n = in.dim_prop(o, "n");
  const bool trans_b = in.bool_prop(o, "transB");
  const std::string kn = "(k=" + std::to_string(k) + ", n=" + std::to_string(n) + ")";
  const F32Arg b = in.f32(1, "b", checked_product(in.op(), "b", {k, n}), trans_b ? "n*k " + kn : "k*n " + kn);

  auto packed = std::make_unique<GemmPackedB>(gemm_pack_b(k, n, b.data, trans_b ? k : n, trans_b));
  const Napi::Env env = info.Env();
  Napi::Object handle = Napi::Object::New(env);
  handle.Set("k", Napi::Number::New(env, static_cast<double>(k)));
  handle.Set("n", Napi::Number::New(env, static_cast<double>(n)));
  handle.Set("transB", Napi::Boolean::New(env, trans_b));
  handle.Set("kernel", Napi::String::New(env, packed->ukernel.name));
  const int64_t bytes = packed->size() * static_cast<int64_t>(sizeof(float));
  NAPI_THROW_IF_FAILED(env, napi_wrap(env, handle, packed.get(), finalize_packed, nullptr, nullptr), Napi::Value());
  packed.release();  // owned by the handle now; finalize_packed frees it
  int64_t ignored = 0;
  napi_adjust_external_memory(env, bytes, &ignored);
  handle.TypeTag(&kPackedBTag);
  handle.Freeze();
  return handle;
}

// matmulPacked(args {m,n,k,transA,accumulate,activation,alpha}, a, packedB, bias|null, c)
//   a [M,K] (transA: [K,M]), packedB from packMatmulB with the same k and n, bias [N] | null -> c [M,N]
Napi::Value matmul_packed(const Napi::CallbackInfo& info) {
  Args in(info, "matmulPacked");
  in.expect_count(5);
  MatmulCall call = read_options(in, in.object(0, "args"));

  const Napi::Value handle = in.at(2);
  expect_packed_handle(in, handle);
  void* raw = nullptr;
  if (napi_unwrap(info.Env(), handle, &raw) != napi_ok || raw == nullptr) {
    in.type_error("packedB is not a live packMatmulB handle");
  }
  const GemmPackedB& packed = *static_cast<const GemmPackedB*>(raw);
  if (packed.k != call.k || packed.n != call.n) {
    in.range_error("packedB was packed for k=" + std::to_string(packed.k) + ", n=" + std::to_string(packed.n) +
                   ", got k=" + std::to_string(call.k) + ", n=" + std::to_string(call.n));
  }

  read_a_bias_c(in, call);
  if (overlaps(call.c, call.a) || overlaps(call.c, call.bias)) in.range_error("c must not share memory with a or bias");

  const GemmArgs g = gemm_args(call, nullptr, false);
  // A recorded plan keeps its own copy, which shares the panels: releasePackedB may free the handle's.
  run_or_record(info, [g, packed_b = packed] { gemm_packed(g, packed_b); });
  return info.Env().Undefined();
}

}  // namespace

// releasePackedB(packedB): frees the handle's panels now instead of at garbage collection (a batched
// inference call packs its weights afresh and drops them when it returns; left to the GC, each call's
// megabytes of external memory pile up and hasten full collections). Later matmulPacked calls with the
// handle throw; releasing twice is a no-op. Plans recorded with it hold their own share of the panels.
Napi::Value release_packed_b(const Napi::CallbackInfo& info) {
  Args in(info, "releasePackedB");
  in.expect_count(1);
  const Napi::Value handle = in.at(0);
  expect_packed_handle(in, handle);
  void* raw = nullptr;
  if (napi_remove_wrap(info.Env(), handle, &raw) == napi_ok && raw != nullptr) {
    finalize_packed(info.Env(), raw, nullptr);
  }
  return info.Env().Undefined();
}

void register_matmul(Napi::Env env, Napi::Object exports) {
  export_function(env, exports, "matmul", matmul);
  export_function(env, exports, "packMatmulB", pack_matmul_b);
  export_function(env, exports, "matmulPacked", matmul_packed);
  export_function(env, exports, "releasePackedB", release_packed_b);
}

}  // namespace tf::binding
