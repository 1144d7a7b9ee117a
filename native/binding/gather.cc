// Binding for gatherRows: rowSize >= 1, x a whole number of rows, every index checked in range.
#include <napi.h>

#include <stdexcept>
#include <string>

#include "binding/args.h"
#include "binding/export.h"
#include "binding/plan.h"
#include "kernels/gather.h"

namespace tf::binding {
namespace {

// gatherRows(rowSize, x, indices, y): x [rows, rowSize], indices [n] -> y [n, rowSize]
Napi::Value gather_rows_binding(const Napi::CallbackInfo& info) {
  Args a(info, "gatherRows");
  a.expect_count(4);
  const int64_t row_size = a.dim(0, "rowSize");
  const int64_t x_length = a.f32_length(1, "x");
  if (x_length % row_size != 0) {
    a.range_error("x has length " + std::to_string(x_length) + ", which is not a positive multiple of rowSize " +
                  std::to_string(row_size));
  }
  const F32Arg x = a.f32(1, "x", x_length, "x.length");
  if (!a.is_int32_array(2)) a.type_error("indices must be an Int32Array, got " + describe(a.at(2)));
  const auto n = static_cast<int64_t>(a.at(2).As<Napi::TypedArray>().ElementLength());
  if (n < 1) a.range_error("indices must not be empty");
  const I32Arg indices = a.i32(2, "indices", n, "indices.length");
  const F32Arg y = a.f32(3, "y", checked_product(a.op(), "y", {n, row_size}), [&] {
    return "indices.length*rowSize (" + std::to_string(n) + "*" + std::to_string(row_size) + ")";
  });
  const int64_t rows = x_length / row_size;
  for (int64_t i = 0; i < n; ++i) {
    if (indices.data[i] < 0 || indices.data[i] >= rows) {
      a.range_error("indices[" + std::to_string(i) + "] = " + std::to_string(indices.data[i]) + " is out of range for " +
                    std::to_string(rows) + " rows");
    }
  }
  const float* xd = x.data;
  const int32_t* id = indices.data;
  float* yd = y.data;
  // The indices are checked now; a replayed plan reads them again, so it re-checks them each time.
  run_or_record(info, [=] {
    for (int64_t i = 0; i < n; ++i) {
      if (id[i] < 0 || id[i] >= rows) throw std::out_of_range("gatherRows: an index changed out of range");
    }
    gather_rows(n, row_size, xd, id, yd);
  });
  return a.env().Undefined();
}

}  // namespace

void register_gather(Napi::Env env, Napi::Object exports) { export_function(env, exports, "gatherRows", gather_rows_binding); }

}  // namespace tf::binding
