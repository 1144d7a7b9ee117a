// A small test framework for the native kernels: a registry of test functions, buffers that sit
// right before a PROT_NONE guard page (an out-of-bounds read or write past the end faults at once),
// and comparisons that print the index, expected and actual values and the case.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "runtime/cpu.h"

namespace tf::testing {

using TestFn = void (*)();
int register_test(const char* name, TestFn fn);

#define TF_TEST(name)                                                             \
  static void tf_test_##name();                                                   \
  static const int tf_test_registered_##name =                                    \
      ::tf::testing::register_test(#name, &tf_test_##name);                       \
  static void tf_test_##name()

// Records a failure for the running test (the test keeps going; main reports it).
void fail(const std::string& message);
#define TF_CHECK(cond, msg)                                                       \
  do {                                                                            \
    if (!(cond)) ::tf::testing::fail(std::string(__FILE__ ":") +                  \
                                     std::to_string(__LINE__) + ": " + (msg));    \
  } while (0)

// n floats ending exactly at a guard page. Contents start as a NaN pattern so that reading an
// element the kernel should have written shows up in the comparison.
class GuardedBuffer {
 public:
  explicit GuardedBuffer(size_t n);
  ~GuardedBuffer();
  GuardedBuffer(const GuardedBuffer&) = delete;
  GuardedBuffer& operator=(const GuardedBuffer&) = delete;
  float* data() { return data_; }
  const float* data() const { return data_; }
  size_t size() const { return n_; }
  float& operator[](size_t i) { return data_[i]; }
  float operator[](size_t i) const { return data_[i]; }

 private:
  void* mapping_ = nullptr;
  size_t mapping_bytes_ = 0;
  float* data_ = nullptr;
  size_t n_ = 0;
};

// Deterministic uniform floats in [lo, hi) (SplitMix64).
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t next();
  float uniform(float lo, float hi);
  int64_t below(int64_t n);  // [0, n)
  void fill(float* p, size_t n, float lo = -1.0f, float hi = 1.0f);

 private:
  uint64_t state_;
};

// Fails with the first mismatching index, its expected and actual values, and `context`
// (shapes/options) when |actual - expected| > atol + rtol*|expected|. Returns true on a match.
bool expect_close(const float* actual, const float* expected, size_t n, float atol, float rtol,
                  const std::string& context);
// Bit-for-bit equality (thread-count independence).
bool expect_identical(const float* a, const float* b, size_t n, const std::string& context);

// Shapes in test cases: element count and "[2,3,4]" for failure messages.
using Shape = std::vector<int64_t>;
int64_t count(const Shape& s);
std::string str(const Shape& s);

// Runs fn once per ISA level this machine can run (scalar always), with that level active.
void for_each_isa(const std::function<void(Isa)>& fn);
// Runs fn with 1 and with 2 pool threads.
void for_each_thread_count(const std::function<void(int)>& fn);

}  // namespace tf::testing
