// Unpacking JS arguments into plain C++ values, checking every one before any kernel touches memory.
//
// Every failed check throws ArgError, which the export trampoline (export.h) turns into a JS TypeError
// or RangeError whose message starts with the op name. Kernels only ever see validated pointers and
// sizes; nothing coming from JS is trusted.
#pragma once

#include <napi.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

namespace tf::binding {

class ArgError : public std::runtime_error {
 public:
  enum class Kind { type, range };
  ArgError(Kind kind, const std::string& message) : std::runtime_error(message), kind(kind) {}
  Kind kind;
};

[[noreturn]] void throw_type_error(const std::string& op, const std::string& message);
[[noreturn]] void throw_range_error(const std::string& op, const std::string& message);

// Largest element count we accept for one buffer (typed arrays cannot be longer anyway).
constexpr int64_t kMaxElements = int64_t{1} << 32;
// Largest single dimension.
constexpr int64_t kMaxDim = (int64_t{1} << 31) - 1;

// Multiplies sizes, throwing a RangeError naming `what` on overflow past kMaxElements.
int64_t checked_product(const char* op, const char* what, std::initializer_list<int64_t> sizes);
int64_t checked_product(const char* op, const char* what, const std::vector<int64_t>& sizes);

struct F32Arg {
  float* data = nullptr;  // nullptr when the JS value was null (only from *_or_null readers)
  int64_t length = 0;
};
struct I32Arg {
  int32_t* data = nullptr;
  int64_t length = 0;
};

// Explains an expected buffer length in an error message ("m*k (m=3, k=4)"). Built only when a check
// fails: formatting the explanation on every call cost more than a small kernel. Holds a string, or a
// callable returning one; either must outlive the check (a temporary in the call expression does).
class How {
 public:
  How(const char* text) : text_(text) {}                   // NOLINT(google-explicit-constructor)
  How(const std::string& text) : string_(&text) {}         // NOLINT(google-explicit-constructor)
  template <typename Fn, std::enable_if_t<std::is_invocable_r_v<std::string, const Fn&> &&
                                              !std::is_convertible_v<const Fn&, std::string>, int> = 0>
  How(const Fn& fn)                                         // NOLINT(google-explicit-constructor)
      : callable_(&fn), call_([](const void* f) { return (*static_cast<const Fn*>(f))(); }) {}

  std::string str() const {
    if (call_ != nullptr) return call_(callable_);
    if (string_ != nullptr) return *string_;
    return text_ != nullptr ? text_ : "";
  }

 private:
  const char* text_ = nullptr;
  const std::string* string_ = nullptr;
  const void* callable_ = nullptr;
  std::string (*call_)(const void*) = nullptr;
};

// Reads positional arguments of one call. `op` names the kernel in every error.
class Args {
 public:
  Args(const Napi::CallbackInfo& info, const char* op);

  const char* op() const { return op_; }
  Napi::Env env() const { return info_.Env(); }
  size_t count() const { return info_.Length(); }
  // Throws unless exactly `n` arguments were passed.
  void expect_count(size_t n) const;

  Napi::Value at(size_t i) const;

  // Integer in [1, kMaxDim].
  int64_t dim(size_t i, const char* name) const;
  // Finite number.
  double number(size_t i, const char* name) const;
  bool boolean(size_t i, const char* name) const;
  std::string string(size_t i, const char* name) const;
  Napi::Object object(size_t i, const char* name) const;
  // Array of integers in [1, kMaxDim] (rank 0..8) with a checked element count.
  std::vector<int64_t> shape(size_t i, const char* name) const;
  // Array of integers (axes), unvalidated range: callers check against a rank.
  std::vector<int64_t> int_list(size_t i, const char* name) const;

  // Length of a non-empty Float32Array argument of any length (the buffer that defines a size).
  int64_t f32_length(size_t i, const char* name) const;
  // Float32Array whose length must equal `expected`; `how` explains it ("m*k (m=3, k=4)").
  F32Arg f32(size_t i, const char* name, int64_t expected, const How& how) const;
  F32Arg f32_or_null(size_t i, const char* name, int64_t expected, const How& how) const;
  I32Arg i32(size_t i, const char* name, int64_t expected, const How& how) const;
  bool is_int32_array(size_t i) const;

  // Properties of an options object (e.g. Conv2dArgs).
  int64_t dim_prop(const Napi::Object& o, const char* key) const;       // integer in [1, kMaxDim]
  int64_t nonneg_prop(const Napi::Object& o, const char* key) const;    // integer in [0, kMaxDim]
  double number_prop(const Napi::Object& o, const char* key) const;    // finite
  bool bool_prop(const Napi::Object& o, const char* key) const;
  std::string string_prop(const Napi::Object& o, const char* key) const;

  [[noreturn]] void type_error(const std::string& message) const { throw_type_error(op_, message); }
  [[noreturn]] void range_error(const std::string& message) const { throw_range_error(op_, message); }

 private:
  int64_t integer(const Napi::Value& v, const std::string& name, int64_t min) const;
  F32Arg f32_impl(size_t i, const char* name, int64_t expected, const How& how, bool nullable) const;

  const Napi::CallbackInfo& info_;
  const char* op_;
};

// "[2,3,4]" for messages.
std::string shape_string(const std::vector<int64_t>& shape);
// Describes a JS value for a type error: "Float64Array(12)", "number 3", "undefined".
std::string describe(const Napi::Value& v);

}  // namespace tf::binding
