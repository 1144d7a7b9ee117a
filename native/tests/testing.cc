#include "tests/testing.h"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <new>

#include "runtime/dispatch.h"
#include "runtime/thread_pool.h"

#if defined(__unix__) || defined(__APPLE__)
#include <sys/mman.h>
#include <unistd.h>
#define TF_HAVE_MMAP 1
#endif

namespace tf::testing {
namespace {

struct Registered {
  const char* name;
  TestFn fn;
};

std::vector<Registered>& registry() {
  static std::vector<Registered> tests;
  return tests;
}

int failures_in_current_test = 0;

}  // namespace

int register_test(const char* name, TestFn fn) {
  registry().push_back({name, fn});
  return 0;
}

void fail(const std::string& message) {
  if (failures_in_current_test < 10) std::fprintf(stderr, "    FAIL %s\n", message.c_str());
  ++failures_in_current_test;
}

GuardedBuffer::GuardedBuffer(size_t n) : n_(n) {
  const size_t bytes = n * sizeof(float);
#ifdef TF_HAVE_MMAP
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  const size_t data_pages = (bytes + page - 1) / page;
  mapping_bytes_ = (data_pages + 1) * page;
  mapping_ = mmap(nullptr, mapping_bytes_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mapping_ == MAP_FAILED) throw std::bad_alloc();
  char* guard = static_cast<char*>(mapping_) + data_pages * page;
  mprotect(guard, page, PROT_NONE);
  data_ = reinterpret_cast<float*>(guard - bytes);
#else
  data_ = new float[n ? n : 1];
#endif
  for (size_t i = 0; i < n; ++i) data_[i] = std::nanf("");
}

GuardedBuffer::~GuardedBuffer() {
#ifdef TF_HAVE_MMAP
  munmap(mapping_, mapping_bytes_);
#else
  delete[] data_;
#endif
}

uint64_t Rng::next() {
  uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

float Rng::uniform(float lo, float hi) {
  const double u = static_cast<double>(next() >> 11) * (1.0 / 9007199254740992.0);
  return static_cast<float>(lo + (hi - lo) * u);
}

int64_t Rng::below(int64_t n) { return static_cast<int64_t>(next() % static_cast<uint64_t>(n)); }

void Rng::fill(float* p, size_t n, float lo, float hi) {
  for (size_t i = 0; i < n; ++i) p[i] = uniform(lo, hi);
}

bool expect_close(const float* actual, const float* expected, size_t n, float atol, float rtol,
                  const std::string& context) {
  for (size_t i = 0; i < n; ++i) {
    const float e = expected[i], a = actual[i];
    const bool both_nan = std::isnan(e) && std::isnan(a);
    if (!both_nan && !(std::fabs(a - e) <= atol + rtol * std::fabs(e))) {
      char buf[256];
      std::snprintf(buf, sizeof buf, "index %zu: expected %.9g, actual %.9g (of %zu) | ", i, e, a, n);
      fail(buf + context);
      return false;
    }
  }
  return true;
}

bool expect_identical(const float* a, const float* b, size_t n, const std::string& context) {
  for (size_t i = 0; i < n; ++i) {
    if (std::memcmp(&a[i], &b[i], sizeof(float)) != 0) {
      char buf[256];
      std::snprintf(buf, sizeof buf, "index %zu: %.9g vs %.9g not bit-identical | ", i, a[i], b[i]);
      fail(buf + context);
      return false;
    }
  }
  return true;
}

int64_t count(const Shape& s) {
  int64_t n = 1;
  for (int64_t d : s) n *= d;
  return n;
}

std::string str(const Shape& s) {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); ++i) out += (i ? "," : "") + std::to_string(s[i]);
  return out + "]";
}

void for_each_isa(const std::function<void(Isa)>& fn) {
  const Isa saved = active_isa();
  for (Isa isa : {Isa::scalar, Isa::neon, Isa::avx2, Isa::avx512}) {
    if (!set_active_isa(isa)) continue;
    fn(isa);
  }
  set_active_isa(saved);
}

void for_each_thread_count(const std::function<void(int)>& fn) {
  const int saved = num_threads();
  for (int t : {1, 2}) {
    set_num_threads(t);
    fn(t);
  }
  set_num_threads(saved);
}

}  // namespace tf::testing

int main(int argc, char** argv) {
  using namespace tf::testing;
  const char* filter = argc > 1 ? argv[1] : nullptr;
  int passed = 0, failed = 0;
  for (const auto& t : registry()) {
    if (filter && std::strstr(t.name, filter) == nullptr) continue;
    failures_in_current_test = 0;
    try {
      t.fn();
    } catch (const std::exception& e) {
      fail(std::string("exception: ") + e.what());
    }
    if (failures_in_current_test == 0) {
      ++passed;
      std::printf("  ok   %s\n", t.name);
    } else {
      ++failed;
      std::printf("  FAIL %s (%d failures)\n", t.name, failures_in_current_test);
    }
  }
  std::printf("%d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
