#include "binding/export.h"

#include <new>
#include <string>

#include "binding/args.h"
#include "binding/plan.h"

namespace tf::binding {
namespace {

struct Entry {
  const char* name;
  BindingFn fn;
};

Napi::Value trampoline(const Napi::CallbackInfo& info) {
  const auto* entry = static_cast<const Entry*>(info.Data());
  const Napi::Env env = info.Env();
  try {
    // While a plan is recorded on this thread, every kernel must have kept its call (plan.h).
    const size_t recorded_before = recorder_steps();
    Napi::Value result = entry->fn(info);
    check_recorded(entry->name, recorded_before);
    return result;
  } catch (const ArgError& e) {
    if (e.kind == ArgError::Kind::type) throw Napi::TypeError::New(env, e.what());
    throw Napi::RangeError::New(env, e.what());
  } catch (const Napi::Error&) {
    throw;  // already a JS error (e.g. a pending exception from a JS call)
  } catch (const std::bad_alloc&) {
    throw Napi::RangeError::New(env, std::string(entry->name) + ": out of memory (allocation failed)");
  } catch (const std::exception& e) {
    throw Napi::Error::New(env, std::string(entry->name) + ": internal error: " + e.what());
  } catch (...) {
    throw Napi::Error::New(env, std::string(entry->name) + ": internal error (unknown C++ exception)");
  }
}

}  // namespace

void export_function(Napi::Env env, Napi::Object exports, const char* name, BindingFn fn) {
  // Entries live as long as the process: each environment (worker) registers its own copy of the
  // functions, and a function may be called until its environment is torn down.
  auto* entry = new Entry{name, fn};
  exports.Set(name, Napi::Function::New(env, trampoline, name, entry));
}

}  // namespace tf::binding
