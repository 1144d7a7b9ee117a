// Binding for dropout: p in [0, 1), seed an unsigned 32-bit integer, x/y/mask of one length.
#include <napi.h>

#include <cmath>
#include <sstream>

#include "binding/args.h"
#include "binding/export.h"
#include "binding/plan.h"
#include "kernels/dropout.h"

namespace tf::binding {
namespace {

// dropout(p, seed, x, y, mask)
Napi::Value dropout(const Napi::CallbackInfo& info) {
  Args a(info, "dropout");
  a.expect_count(5);
  const double p = a.number(0, "p");
  if (p < 0 || p >= 1) {
    std::ostringstream s;
    s << "p must be in [0, 1), got " << p;
    a.range_error(s.str());
  }
  if (!a.at(1).IsNumber()) a.type_error("seed must be a number, got " + describe(a.at(1)));
  const double seed = a.at(1).As<Napi::Number>().DoubleValue();
  if (!(seed >= 0 && seed < 4294967296.0 && std::floor(seed) == seed)) {
    std::ostringstream s;
    s << "seed must be an integer in [0, 2^32), got " << seed;
    a.range_error(s.str());
  }
  const int64_t n = a.f32_length(2, "x");
  const std::string how = "x.length";
  const F32Arg x = a.f32(2, "x", n, how);
  const F32Arg y = a.f32(3, "y", n, how);
  const F32Arg mask = a.f32(4, "mask", n, how);
  // Recorded: the seed comes from a cell each replay refills (plan.h), so every step gets its own mask.
  const uint32_t fixed = static_cast<uint32_t>(seed);
  const auto [cells, cell] = seed_cell(fixed);
  run_or_record(info, [=] { tf::dropout(n, p, cells ? (*cells)[cell] : fixed, x.data, y.data, mask.data); });
  return a.env().Undefined();
}

}  // namespace

void register_dropout(Napi::Env env, Napi::Object exports) { export_function(env, exports, "dropout", dropout); }

}  // namespace tf::binding
