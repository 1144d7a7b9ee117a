#include "binding/args.h"

#include <cmath>
#include <sstream>

namespace tf::binding {

void throw_type_error(const std::string& op, const std::string& message) {
  throw ArgError(ArgError::Kind::type, op + ": " + message);
}

void throw_range_error(const std::string& op, const std::string& message) {
  throw ArgError(ArgError::Kind::range, op + ": " + message);
}

namespace {
template <typename Sizes>
int64_t checked_product_of(const char* op, const char* what, const Sizes& sizes) {
  int64_t product = 1;
  for (int64_t s : sizes) {
    if (s < 0 || (s != 0 && product > kMaxElements / s)) {
      throw_range_error(op, std::string(what) + " has too many elements (more than 2^32)");
    }
    product *= s;
  }
  return product;
}
}  // namespace

int64_t checked_product(const char* op, const char* what, const std::vector<int64_t>& sizes) {
  return checked_product_of(op, what, sizes);
}

int64_t checked_product(const char* op, const char* what, std::initializer_list<int64_t> sizes) {
  return checked_product_of(op, what, sizes);
}

std::string shape_string(const std::vector<int64_t>& shape) {
  std::ostringstream s;
  s << '[';
  for (size_t i = 0; i < shape.size(); ++i) s << (i ? "," : "") << shape[i];
  s << ']';
  return s.str();
}

std::string describe(const Napi::Value& v) {
  if (v.IsUndefined()) return "undefined";
  if (v.IsNull()) return "null";
  if (v.IsTypedArray()) {
    static const char* names[] = {"Int8Array",    "Uint8Array",   "Uint8ClampedArray", "Int16Array",
                                  "Uint16Array",  "Int32Array",   "Uint32Array",       "Float32Array",
                                  "Float64Array", "BigInt64Array", "BigUint64Array"};
    const auto ta = v.As<Napi::TypedArray>();
    const auto type = static_cast<size_t>(ta.TypedArrayType());
    const char* name = type < sizeof(names) / sizeof(names[0]) ? names[type] : "TypedArray";
    return std::string(name) + "(" + std::to_string(ta.ElementLength()) + ")";
  }
  if (v.IsArray()) return "Array(" + std::to_string(v.As<Napi::Array>().Length()) + ")";
  if (v.IsNumber()) {
    std::ostringstream s;
    s << "number " << v.As<Napi::Number>().DoubleValue();
    return s.str();
  }
  if (v.IsBoolean()) return v.As<Napi::Boolean>().Value() ? "boolean true" : "boolean false";
  if (v.IsString()) return "string '" + v.As<Napi::String>().Utf8Value() + "'";
  if (v.IsFunction()) return "function";
  if (v.IsObject()) return "object";
  return "a value of another type";
}

Args::Args(const Napi::CallbackInfo& info, const char* op) : info_(info), op_(op) {}

void Args::expect_count(size_t n) const {
  if (info_.Length() != n) {
    type_error("expected " + std::to_string(n) + " arguments, got " + std::to_string(info_.Length()));
  }
}

Napi::Value Args::at(size_t i) const { return info_[i]; }

int64_t Args::integer(const Napi::Value& v, const std::string& name, int64_t min) const {
  if (!v.IsNumber()) type_error(name + " must be a number, got " + describe(v));
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(d) || std::floor(d) != d || d < static_cast<double>(min) ||
      d > static_cast<double>(kMaxDim)) {
    std::ostringstream s;
    s << name << " must be an integer >= " << min << ", got " << d;
    range_error(s.str());
  }
  return static_cast<int64_t>(d);
}

int64_t Args::dim(size_t i, const char* name) const { return integer(info_[i], name, 1); }

double Args::number(size_t i, const char* name) const {
  const Napi::Value v = info_[i];
  if (!v.IsNumber()) type_error(std::string(name) + " must be a number, got " + describe(v));
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(d)) {
    std::ostringstream s;
    s << name << " must be a finite number, got " << d;
    range_error(s.str());
  }
  return d;
}

bool Args::boolean(size_t i, const char* name) const {
  const Napi::Value v = info_[i];
  if (!v.IsBoolean()) type_error(std::string(name) + " must be a boolean, got " + describe(v));
  return v.As<Napi::Boolean>().Value();
}

std::string Args::string(size_t i, const char* name) const {
  const Napi::Value v = info_[i];
  if (!v.IsString()) type_error(std::string(name) + " must be a string, got " + describe(v));
  return v.As<Napi::String>().Utf8Value();
}

Napi::Object Args::object(size_t i, const char* name) const {
  const Napi::Value v = info_[i];
  if (!v.IsObject() || v.IsArray() || v.IsTypedArray() || v.IsFunction()) {
    type_error(std::string(name) + " must be an options object, got " + describe(v));
  }
  return v.As<Napi::Object>();
}

std::vector<int64_t> Args::int_list(size_t i, const char* name) const {
  const Napi::Value v = info_[i];
  if (!v.IsArray()) type_error(std::string(name) + " must be an array, got " + describe(v));
  const auto arr = v.As<Napi::Array>();
  if (arr.Length() > 8) range_error(std::string(name) + " has " + std::to_string(arr.Length()) + " entries, at most 8");
  std::vector<int64_t> out;
  for (uint32_t k = 0; k < arr.Length(); ++k) {
    out.push_back(integer(arr.Get(k), std::string(name) + "[" + std::to_string(k) + "]", -kMaxDim));
  }
  return out;
}

std::vector<int64_t> Args::shape(size_t i, const char* name) const {
  const Napi::Value v = info_[i];
  if (!v.IsArray()) type_error(std::string(name) + " must be an array of sizes, got " + describe(v));
  const auto arr = v.As<Napi::Array>();
  if (arr.Length() > 8) range_error(std::string(name) + " has rank " + std::to_string(arr.Length()) + ", at most 8");
  std::vector<int64_t> out;
  for (uint32_t k = 0; k < arr.Length(); ++k) {
    out.push_back(integer(arr.Get(k), std::string(name) + "[" + std::to_string(k) + "]", 1));
  }
  checked_product(op_, name, out);
  return out;
}

F32Arg Args::f32_impl(size_t i, const char* name, int64_t expected, const How& how, bool nullable) const {
  const Napi::Value v = info_[i];
  if (nullable && v.IsNull()) return {};
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
    type_error(std::string(name) + " must be a Float32Array" + (nullable ? " or null" : "") + ", got " + describe(v));
  }
  auto arr = v.As<Napi::Float32Array>();
  const auto length = static_cast<int64_t>(arr.ElementLength());
  if (length != expected) {
    range_error(std::string(name) + " has length " + std::to_string(length) + ", expected " + how.str() + " = " +
                std::to_string(expected));
  }
  return {arr.Data(), length};
}

int64_t Args::f32_length(size_t i, const char* name) const {
  const Napi::Value v = info_[i];
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
    type_error(std::string(name) + " must be a Float32Array, got " + describe(v));
  }
  const auto n = static_cast<int64_t>(v.As<Napi::TypedArray>().ElementLength());
  if (n < 1) range_error(std::string(name) + " must not be empty");
  return n;
}

F32Arg Args::f32(size_t i, const char* name, int64_t expected, const How& how) const {
  return f32_impl(i, name, expected, how, false);
}

F32Arg Args::f32_or_null(size_t i, const char* name, int64_t expected, const How& how) const {
  return f32_impl(i, name, expected, how, true);
}

bool Args::is_int32_array(size_t i) const {
  const Napi::Value v = info_[i];
  return v.IsTypedArray() && v.As<Napi::TypedArray>().TypedArrayType() == napi_int32_array;
}

I32Arg Args::i32(size_t i, const char* name, int64_t expected, const How& how) const {
  const Napi::Value v = info_[i];
  if (!is_int32_array(i)) type_error(std::string(name) + " must be an Int32Array, got " + describe(v));
  auto arr = v.As<Napi::Int32Array>();
  const auto length = static_cast<int64_t>(arr.ElementLength());
  if (length != expected) {
    range_error(std::string(name) + " has length " + std::to_string(length) + ", expected " + how.str() + " = " +
                std::to_string(expected));
  }
  return {arr.Data(), length};
}

int64_t Args::dim_prop(const Napi::Object& o, const char* key) const { return integer(o.Get(key), key, 1); }

int64_t Args::nonneg_prop(const Napi::Object& o, const char* key) const { return integer(o.Get(key), key, 0); }

double Args::number_prop(const Napi::Object& o, const char* key) const {
  const Napi::Value v = o.Get(key);
  if (!v.IsNumber()) type_error(std::string(key) + " must be a number, got " + describe(v));
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(d)) {
    std::ostringstream s;
    s << key << " must be a finite number, got " << d;
    range_error(s.str());
  }
  return d;
}

bool Args::bool_prop(const Napi::Object& o, const char* key) const {
  const Napi::Value v = o.Get(key);
  if (!v.IsBoolean()) type_error(std::string(key) + " must be a boolean, got " + describe(v));
  return v.As<Napi::Boolean>().Value();
}

std::string Args::string_prop(const Napi::Object& o, const char* key) const {
  const Napi::Value v = o.Get(key);
  if (!v.IsString()) type_error(std::string(key) + " must be a string, got " + describe(v));
  return v.As<Napi::String>().Utf8Value();
}

}  // namespace tf::binding
