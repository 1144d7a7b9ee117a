// Bindings for the norm kernel family: argument checks, then a call into native/kernels/.
#include <napi.h>

#include "binding/args.h"
#include "binding/export.h"

namespace tf::binding {

void register_norm(Napi::Env env, Napi::Object exports) {
  (void)env;
  (void)exports;
}

}  // namespace tf::binding
