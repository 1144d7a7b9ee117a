// Tests for the vector-math micro-kernels: every entry of vmath.inc this CPU can run (scalar
// included) against double-precision libm, in ulps of the float result, over
//  - a strided sweep of all 2^32 bit patterns (both signs, subnormals, ±inf, NaNs),
//  - every float in windows around the points where the algorithms switch or saturate,
//  - exact special values (±0, ±inf, NaN, overflow / underflow thresholds);
// plus lengths 1..67 (tails) in guard-page buffers, in place and out of place, each element bit-equal
// to the same input computed inside a long array (position independence -> thread independence).
//
// TF_VMATH_EXHAUSTIVE=1 ./build-cmake/tf_native_tests vmath_ulp sweeps every float instead and prints
// the max error per kernel (the table in vmath_impl.h).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <vector>

#include "runtime/dispatch.h"
#include "runtime/thread_pool.h"
#include "tests/testing.h"

using namespace tf;
using namespace tf::testing;

namespace {

float float_of(uint32_t b) {
  float v;
  std::memcpy(&v, &b, sizeof v);
  return v;
}

uint32_t bits_of(float v) {
  uint32_t b;
  std::memcpy(&b, &v, sizeof b);
  return b;
}

// The double-precision oracle of each op.
using Oracle = double (*)(double);
Oracle oracle_for(const char* op) {
  const std::string o = op;
  if (o == "exp") return [](double x) { return std::exp(x); };
  if (o == "expm1") return [](double x) { return std::expm1(x); };
  if (o == "log") return [](double x) { return std::log(x); };
  if (o == "tanh") return [](double x) { return std::tanh(x); };
  if (o == "sigmoid") {
    return [](double x) { return x >= 0 ? 1.0 / (1.0 + std::exp(-x)) : std::exp(x) / (1.0 + std::exp(x)); };
  }
  if (o == "softplus") return [](double x) { return x > 0 ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x)); };
  return [](double) { return static_cast<double>(NAN); };
}

// Error of `got` in ulps of the float nearest `want`; a mismatch of NaN, of an infinity, or of the
// sign of a zero counts as infinitely wrong. A `want` that rounds to ±inf in float must be exactly
// that; an infinite `got` for a finite float `want` counts as ±2^128 for the distance.
double ulp_error(float got, double want) {
  if (std::isnan(want) || std::isnan(got)) return std::isnan(want) && std::isnan(got) ? 0 : INFINITY;
  if (std::isinf(static_cast<float>(want))) return got == static_cast<float>(want) ? 0 : INFINITY;
  if (want == 0 && got == 0) return std::signbit(want) == std::signbit(got) ? 0 : INFINITY;
  const double g = std::isinf(got) ? std::copysign(0x1p128, got) : got;
  const double a = std::fabs(want);
  int e;
  std::frexp(a, &e);  // a = m 2^e, m in [0.5, 1): the float ulp at a is 2^(e-24), at least 2^-149
  const double ulp = std::ldexp(1.0, std::max(e - 24, -149));
  return std::fabs(g - want) / ulp;
}

// Max ulp error allowed per op: the exhaustive maximum over all floats and ISAs (table in
// vmath_impl.h: exp 0.99, expm1 1.50, log 0.95, tanh 2.46, sigmoid 2.40, softplus 2.04) plus a margin.
double allowed_ulps(const std::string& op) {
  if (op == "exp" || op == "log") return 1.5;
  if (op == "expm1") return 2;
  return 3;
}

std::vector<const VmathUkernelEntry*> runnable_entries() {
  int count = 0;
  const VmathUkernelEntry* entries = vmath_ukernel_entries(&count);
  std::vector<const VmathUkernelEntry*> out;
  for (int i = 0; i < count; ++i) {
    if (kernel_table_for(entries[i].isa) != nullptr) out.push_back(&entries[i]);
  }
  return out;
}

// Worst error of one kernel over the inputs produced by next(bits) starting at `first`, in blocks.
struct Worst {
  double ulps = 0;
  float x = 0, got = 0;
  double want = 0;
};

void check_inputs(const VmathUkernelEntry& e, const std::vector<float>& xs, Worst* worst) {
  std::vector<float> ys(xs.size());
  e.fn(static_cast<int64_t>(xs.size()), xs.data(), ys.data());
  const Oracle oracle = oracle_for(e.op);
  for (size_t i = 0; i < xs.size(); ++i) {
    const double want = oracle(xs[i]);
    const double err = ulp_error(ys[i], want);
    if (err > worst->ulps || (std::isnan(err) && !std::isnan(worst->ulps))) {
      *worst = Worst{err, xs[i], ys[i], want};
    }
  }
}

// Every `stride`-th bit pattern.
Worst sweep_bits(const VmathUkernelEntry& e, uint64_t stride) {
  Worst worst;
  std::vector<float> xs;
  xs.reserve(1 << 16);
  for (uint64_t b = 0; b < (uint64_t{1} << 32); b += stride) {
    xs.push_back(float_of(static_cast<uint32_t>(b)));
    if (xs.size() == (1 << 16)) {
      check_inputs(e, xs, &worst);
      xs.clear();
    }
  }
  check_inputs(e, xs, &worst);
  return worst;
}

// All 2^32 inputs for every runnable entry, each op's oracle computed once for all its ISAs, on the
// thread pool (blocks of 2^16 consecutive bit patterns). Returns the worst case per entry.
std::vector<Worst> sweep_all_floats(const std::vector<const VmathUkernelEntry*>& entries) {
  std::vector<Worst> worst(entries.size());
  std::mutex mu;
  for (const char* op : {"exp", "expm1", "log", "tanh", "sigmoid", "softplus"}) {
    std::vector<size_t> mine;
    for (size_t k = 0; k < entries.size(); ++k) {
      if (std::strcmp(entries[k]->op, op) == 0) mine.push_back(k);
    }
    const Oracle oracle = oracle_for(op);
    const int64_t kBlock = int64_t{1} << 16;
    parallel_for((int64_t{1} << 32) / kBlock, 1, [&](int64_t begin, int64_t end) {
      std::vector<float> xs(kBlock), ys(kBlock);
      std::vector<double> want(kBlock);
      std::vector<Worst> local(entries.size());
      for (int64_t blk = begin; blk < end; ++blk) {
        for (int64_t i = 0; i < kBlock; ++i) {
          xs[i] = float_of(static_cast<uint32_t>(blk * kBlock + i));
          want[i] = oracle(xs[i]);
        }
        for (size_t k : mine) {
          entries[k]->fn(kBlock, xs.data(), ys.data());
          for (int64_t i = 0; i < kBlock; ++i) {
            const double err = ulp_error(ys[i], want[i]);
            if (err > local[k].ulps) local[k] = Worst{err, xs[i], ys[i], want[i]};
          }
        }
      }
      std::lock_guard<std::mutex> lock(mu);
      for (size_t k : mine) {
        if (local[k].ulps > worst[k].ulps) worst[k] = local[k];
      }
    });
  }
  return worst;
}

// Every float within `radius` steps of each centre (both signs).
Worst sweep_windows(const VmathUkernelEntry& e) {
  const float centres[] = {0.0f,      0x1p-126f, 0x1p-26f,  0x1p-12f, 0.34657359f, 0.5f,     0.625f,
                           1.0f,      1.41421356f, 2.0f,    9.01f,    10.0f,       17.0f,    20.0f,
                           30.0f,     87.33655f, 88.72284f, 89.0f,    103.27893f,  103.97208f, 104.0f};
  const uint32_t radius = 1 << 14;
  std::vector<float> xs;
  for (float c : centres) {
    for (float s : {1.0f, -1.0f}) {
      const uint32_t mid = bits_of(c);
      for (uint32_t k = mid > radius ? mid - radius : 0; k <= mid + radius; ++k) xs.push_back(s * float_of(k));
    }
  }
  Worst worst;
  check_inputs(e, xs, &worst);
  return worst;
}

std::string describe(const VmathUkernelEntry& e, const Worst& w) {
  char buf[256];
  std::snprintf(buf, sizeof buf, "%s: %.2f ulp at x=%.9g (0x%08x): got %.9g want %.12g", e.name, w.ulps, w.x,
                bits_of(w.x), w.got, w.want);
  return buf;
}

}  // namespace

TF_TEST(vmath_ulp_error_within_bound_over_float_range) {
  const std::vector<const VmathUkernelEntry*> entries = runnable_entries();
  const bool exhaustive = std::getenv("TF_VMATH_EXHAUSTIVE") != nullptr;
  const std::vector<Worst> all = exhaustive ? sweep_all_floats(entries) : std::vector<Worst>(entries.size());
  for (size_t k = 0; k < entries.size(); ++k) {
    const VmathUkernelEntry* e = entries[k];
    // 2039 is odd and prime: the sweep visits every exponent with ever-changing mantissa bits.
    Worst w = exhaustive ? all[k] : sweep_bits(*e, 2039);
    const Worst local = sweep_windows(*e);
    if (local.ulps > w.ulps) w = local;
    if (exhaustive) std::printf("       %s\n", describe(*e, w).c_str());
    TF_CHECK(w.ulps <= allowed_ulps(e->op), describe(*e, w));
  }
}

TF_TEST(vmath_special_values_exact) {
  const float inf = INFINITY, nan = NAN;
  struct Case {
    const char* op;
    float x, want;
  };
  const Case cases[] = {
      {"exp", 0.0f, 1.0f},          {"exp", -0.0f, 1.0f},        {"exp", inf, inf},
      {"exp", -inf, 0.0f},          {"exp", 89.0f, inf},         {"exp", 88.8f, inf},
      {"exp", -104.0f, 0.0f},       {"exp", -1e30f, 0.0f},       {"exp", 1e30f, inf},
      {"exp", nan, nan},            {"expm1", 0.0f, 0.0f},       {"expm1", -0.0f, -0.0f},
      {"expm1", 1e-40f, 1e-40f},    {"expm1", -inf, -1.0f},      {"expm1", -50.0f, -1.0f},
      {"expm1", inf, inf},          {"expm1", 89.0f, inf},       {"expm1", nan, nan},
      {"log", 1.0f, 0.0f},          {"log", 0.0f, -inf},         {"log", -0.0f, -inf},
      {"log", -1.0f, nan},          {"log", -inf, nan},          {"log", inf, inf},
      {"log", nan, nan},            {"tanh", 0.0f, 0.0f},        {"tanh", -0.0f, -0.0f},
      {"tanh", inf, 1.0f},          {"tanh", -inf, -1.0f},       {"tanh", 10.0f, 1.0f},
      {"tanh", -1e30f, -1.0f},      {"tanh", 1e-40f, 1e-40f},    {"tanh", nan, nan},
      {"sigmoid", 0.0f, 0.5f},      {"sigmoid", -0.0f, 0.5f},    {"sigmoid", inf, 1.0f},
      {"sigmoid", -inf, 0.0f},      {"sigmoid", 100.0f, 1.0f},   {"sigmoid", -200.0f, 0.0f},
      {"sigmoid", nan, nan},        {"softplus", inf, inf},      {"softplus", -inf, 0.0f},
      {"softplus", 1e30f, 1e30f},   {"softplus", 0.0f, 0.69314718f}, {"softplus", -200.0f, 0.0f},
      {"softplus", nan, nan},
  };
  for (const VmathUkernelEntry* e : runnable_entries()) {
    for (const Case& c : cases) {
      if (std::strcmp(c.op, e->op) != 0) continue;
      GuardedBuffer x(1), y(1);
      x[0] = c.x;
      e->fn(1, x.data(), y.data());
      const bool same = (std::isnan(c.want) && std::isnan(y[0])) || bits_of(y[0]) == bits_of(c.want);
      TF_CHECK(same, std::string(e->name) + "(" + std::to_string(c.x) + ") = " + std::to_string(y[0]) +
                         ", want " + std::to_string(c.want));
    }
    // Results that must be nonzero subnormals (not flushed): e^-100, sigmoid(-100), softplus(-100).
    if (std::strcmp(e->op, "log") != 0 && std::strcmp(e->op, "tanh") != 0 && std::strcmp(e->op, "expm1") != 0) {
      GuardedBuffer x(1), y(1);
      x[0] = -100.0f;
      e->fn(1, x.data(), y.data());
      TF_CHECK(y[0] > 0.0f && y[0] < 0x1p-126f, std::string(e->name) + "(-100) is not a subnormal: " +
                                                     std::to_string(y[0]));
    }
  }
}

TF_TEST(vmath_tails_in_place_and_position_independent) {
  Rng rng(7);
  const int64_t kMax = 67;
  std::vector<float> base(static_cast<size_t>(kMax) + 16);
  rng.fill(base.data(), base.size(), -12.0f, 12.0f);
  base[3] = NAN;
  base[5] = INFINITY;
  base[11] = -0.0f;
  for (const VmathUkernelEntry* e : runnable_entries()) {
    // Reference bits: every input once, in a long array at offset 0.
    std::vector<float> want(base.size());
    e->fn(static_cast<int64_t>(base.size()), base.data(), want.data());
    for (int64_t n = 1; n <= kMax; ++n) {
      for (int64_t offset : {int64_t{0}, int64_t{1}, int64_t{7}, int64_t{13}}) {
        if (offset + n > static_cast<int64_t>(base.size())) continue;
        const std::string ctx = std::string(e->name) + " n=" + std::to_string(n) + " offset=" + std::to_string(offset);
        GuardedBuffer x(static_cast<size_t>(n)), y(static_cast<size_t>(n));
        std::memcpy(x.data(), base.data() + offset, static_cast<size_t>(n) * sizeof(float));
        e->fn(n, x.data(), y.data());
        expect_identical(y.data(), want.data() + offset, static_cast<size_t>(n), ctx);
        e->fn(n, x.data(), x.data());  // in place
        expect_identical(x.data(), want.data() + offset, static_cast<size_t>(n), ctx + " in place");
      }
    }
    e->fn(0, nullptr, nullptr);  // n = 0 touches nothing
  }
}

TF_TEST(vmath_every_level_has_every_op) {
  for (Isa isa : {Isa::scalar, Isa::neon, Isa::avx2, Isa::avx512}) {
    const KernelTable* t = kernel_table_for(isa);
    if (t == nullptr) continue;
    const VmathUkernels& v = t->vmath;
    TF_CHECK(v.exp && v.expm1 && v.log && v.tanh && v.sigmoid && v.softplus,
             std::string("missing vmath kernel at ") + isa_name(isa));
  }
}
