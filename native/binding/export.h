// Registering binding functions so that no C++ exception can ever escape into Node.
//
// Every exported function goes through one trampoline that catches everything: ArgError becomes a
// TypeError/RangeError, std::bad_alloc a RangeError ("<op>: out of memory ..."), anything else an
// Error naming the op. The message always starts with the op name.
#pragma once

#include <napi.h>

namespace tf::binding {

using BindingFn = Napi::Value (*)(const Napi::CallbackInfo& info);

// exports[name] = a JS function running fn behind the exception trampoline.
void export_function(Napi::Env env, Napi::Object exports, const char* name, BindingFn fn);

// Each kernel family registers its functions here (one per native/binding/<family>.cc).
void register_runtime(Napi::Env env, Napi::Object exports);
void register_matmul(Napi::Env env, Napi::Object exports);
void register_conv(Napi::Env env, Napi::Object exports);
void register_pool(Napi::Env env, Napi::Object exports);
void register_elementwise(Napi::Env env, Napi::Object exports);
void register_reduce(Napi::Env env, Napi::Object exports);
void register_softmax(Napi::Env env, Napi::Object exports);
void register_norm(Napi::Env env, Napi::Object exports);
void register_dropout(Napi::Env env, Napi::Object exports);
void register_gather(Napi::Env env, Napi::Object exports);
void register_optim(Napi::Env env, Napi::Object exports);

}  // namespace tf::binding
