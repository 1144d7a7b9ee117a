// Optimizer updates against naive double loops written here from PyTorch's formulas: five steps with
// changing gradients, every option combination, every ISA and 1/2 threads, guard-page buffers.
#include <algorithm>
#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "kernels/optim.h"
#include "runtime/dispatch.h"
#include "runtime/thread_pool.h"
#include "tests/testing.h"

using namespace tf;
using namespace tf::testing;

namespace {

constexpr int kSteps = 5;
constexpr int64_t kSizes[] = {1, 13, 40000};  // 40000 splits over two threads

struct State {
  std::vector<double> w, a, b, c;  // a/b/c: the optimizer's state buffers
};

void load(GuardedBuffer& dst, const std::vector<double>& src) {
  for (size_t i = 0; i < src.size(); ++i) dst[i] = static_cast<float>(src[i]);
}

std::vector<float> to_float(const std::vector<double>& v) { return std::vector<float>(v.begin(), v.end()); }

// Gradients for step s (1-based) of a run: different every step.
std::vector<std::vector<float>> gradients(Rng& rng, int64_t n) {
  std::vector<std::vector<float>> gs(kSteps, std::vector<float>(n));
  for (auto& g : gs) rng.fill(g.data(), n, -1, 1);
  return gs;
}

std::string label(const std::string& what, int64_t n, Isa isa, int threads) {
  return what + " n=" + std::to_string(n) + " " + isa_name(isa) + " x" + std::to_string(threads);
}

}  // namespace

TF_TEST(sgd_matches_naive_over_five_steps) {
  struct Case { double momentum, dampening, wd; bool nesterov; };
  const Case cases[] = {{0, 0, 0, false}, {0, 0, 0.01, false}, {0.9, 0, 0, false},
                        {0.9, 0.3, 0.01, false}, {0.9, 0, 0.01, true}, {0.5, 0, 0, true}};
  Rng rng(31);
  for (int64_t n : kSizes) {
    const auto gs = gradients(rng, n);
    std::vector<float> w0(n);
    rng.fill(w0.data(), n);
    for (const Case& cs : cases) {
      const double lr = 0.05;
      // naive
      std::vector<double> w(w0.begin(), w0.end()), buf(n, 0);
      for (int s = 0; s < kSteps; ++s) {
        for (int64_t i = 0; i < n; ++i) {
          double g = gs[s][i] + cs.wd * w[i];
          if (cs.momentum != 0) {
            buf[i] = s == 0 ? g : cs.momentum * buf[i] + (1 - cs.dampening) * g;
            g = cs.nesterov ? g + cs.momentum * buf[i] : buf[i];
          }
          w[i] -= lr * g;
        }
      }
      const auto w_ref = to_float(w), buf_ref = to_float(buf);
      for_each_isa([&](Isa isa) {
        for_each_thread_count([&](int threads) {
          GuardedBuffer gw(n), gbuf(n), gg(n);
          std::copy(w0.begin(), w0.end(), gw.data());
          for (int s = 0; s < kSteps; ++s) {
            std::copy(gs[s].begin(), gs[s].end(), gg.data());
            const SgdOptions o{lr, cs.momentum, cs.dampening, cs.wd, cs.nesterov, s == 0};
            sgd_update(o, n, gw.data(), gg.data(), cs.momentum != 0 ? gbuf.data() : nullptr);
          }
          const std::string ctx = label("sgd momentum=" + std::to_string(cs.momentum) + " dampening=" +
                                            std::to_string(cs.dampening) + " wd=" + std::to_string(cs.wd) +
                                            " nesterov=" + std::to_string(cs.nesterov),
                                        n, isa, threads);
          expect_close(gw.data(), w_ref.data(), n, 1e-6f, 1e-5f, ctx + " w");
          if (cs.momentum != 0) expect_close(gbuf.data(), buf_ref.data(), n, 1e-6f, 1e-5f, ctx + " buf");
        });
      });
    }
  }
}

TF_TEST(adagrad_matches_naive_over_five_steps) {
  struct Case { double lr_decay, wd; };
  const Case cases[] = {{0, 0}, {0.1, 0}, {0.05, 0.01}};
  Rng rng(32);
  for (int64_t n : kSizes) {
    const auto gs = gradients(rng, n);
    std::vector<float> w0(n);
    rng.fill(w0.data(), n);
    for (const Case& cs : cases) {
      const double lr = 0.1, eps = 1e-10;
      std::vector<double> w(w0.begin(), w0.end()), sum(n, 0.1);  // initial_accumulator_value 0.1
      for (int s = 0; s < kSteps; ++s) {
        const double clr = lr / (1 + s * cs.lr_decay);
        for (int64_t i = 0; i < n; ++i) {
          const double g = gs[s][i] + cs.wd * w[i];
          sum[i] += g * g;
          w[i] -= clr * g / (std::sqrt(sum[i]) + eps);
        }
      }
      const auto w_ref = to_float(w), sum_ref = to_float(sum);
      for_each_isa([&](Isa isa) {
        for_each_thread_count([&](int threads) {
          GuardedBuffer gw(n), gsum(n), gg(n);
          std::copy(w0.begin(), w0.end(), gw.data());
          std::fill(gsum.data(), gsum.data() + n, 0.1f);
          for (int s = 0; s < kSteps; ++s) {
            std::copy(gs[s].begin(), gs[s].end(), gg.data());
            adagrad_update(AdagradOptions{lr, cs.lr_decay, cs.wd, eps, s + 1}, n, gw.data(), gg.data(), gsum.data());
          }
          const std::string ctx = label("adagrad lrDecay=" + std::to_string(cs.lr_decay) + " wd=" +
                                            std::to_string(cs.wd), n, isa, threads);
          expect_close(gw.data(), w_ref.data(), n, 1e-6f, 1e-5f, ctx + " w");
          expect_close(gsum.data(), sum_ref.data(), n, 1e-6f, 1e-5f, ctx + " sumSq");
        });
      });
    }
  }
}

TF_TEST(rmsprop_matches_naive_over_five_steps) {
  struct Case { double momentum, wd; bool centered; };
  const Case cases[] = {{0, 0, false}, {0, 0.01, true}, {0.9, 0, false}, {0.9, 0.01, true}};
  Rng rng(33);
  for (int64_t n : kSizes) {
    const auto gs = gradients(rng, n);
    std::vector<float> w0(n);
    rng.fill(w0.data(), n);
    for (const Case& cs : cases) {
      const double lr = 0.01, alpha = 0.9, eps = 1e-8;
      std::vector<double> w(w0.begin(), w0.end()), sq(n, 0), ga(n, 0), buf(n, 0);
      for (int s = 0; s < kSteps; ++s) {
        for (int64_t i = 0; i < n; ++i) {
          const double g = gs[s][i] + cs.wd * w[i];
          sq[i] = alpha * sq[i] + (1 - alpha) * g * g;
          double avg;
          if (cs.centered) {
            ga[i] = alpha * ga[i] + (1 - alpha) * g;
            avg = std::sqrt(sq[i] - ga[i] * ga[i]) + eps;
          } else {
            avg = std::sqrt(sq[i]) + eps;
          }
          if (cs.momentum > 0) {
            buf[i] = cs.momentum * buf[i] + g / avg;
            w[i] -= lr * buf[i];
          } else {
            w[i] -= lr * g / avg;
          }
        }
      }
      const auto w_ref = to_float(w), sq_ref = to_float(sq);
      for_each_isa([&](Isa isa) {
        for_each_thread_count([&](int threads) {
          GuardedBuffer gw(n), gsq(n), gga(n), gbuf(n), gg(n);
          std::copy(w0.begin(), w0.end(), gw.data());
          std::fill(gsq.data(), gsq.data() + n, 0.0f);
          std::fill(gga.data(), gga.data() + n, 0.0f);
          std::fill(gbuf.data(), gbuf.data() + n, 0.0f);
          for (int s = 0; s < kSteps; ++s) {
            std::copy(gs[s].begin(), gs[s].end(), gg.data());
            rmsprop_update(RmspropOptions{lr, alpha, eps, cs.wd, cs.momentum, cs.centered}, n, gw.data(), gg.data(),
                           gsq.data(), cs.centered ? gga.data() : nullptr, cs.momentum > 0 ? gbuf.data() : nullptr);
          }
          const std::string ctx = label("rmsprop momentum=" + std::to_string(cs.momentum) + " wd=" +
                                            std::to_string(cs.wd) + " centered=" + std::to_string(cs.centered),
                                        n, isa, threads);
          expect_close(gw.data(), w_ref.data(), n, 1e-5f, 1e-5f, ctx + " w");
          expect_close(gsq.data(), sq_ref.data(), n, 1e-6f, 1e-5f, ctx + " squareAvg");
        });
      });
    }
  }
}

TF_TEST(adam_matches_naive_over_five_steps) {
  struct Case { double wd; bool decoupled, amsgrad; };
  const Case cases[] = {{0, false, false}, {0.01, false, false}, {0.01, true, false},
                        {0, false, true}, {0.1, true, true}};
  Rng rng(34);
  for (int64_t n : kSizes) {
    auto gs = gradients(rng, n);
    // Shrink the gradient on later steps so that v decreases and amsgrad's max matters.
    for (int s = 2; s < kSteps; ++s)
      for (float& g : gs[s]) g *= 0.1f;
    std::vector<float> w0(n);
    rng.fill(w0.data(), n);
    for (const Case& cs : cases) {
      const double lr = 0.01, b1 = 0.9, b2 = 0.999, eps = 1e-8;
      std::vector<double> w(w0.begin(), w0.end()), m(n, 0), v(n, 0), vmax(n, 0);
      for (int s = 1; s <= kSteps; ++s) {
        for (int64_t i = 0; i < n; ++i) {
          double g = gs[s - 1][i];
          if (cs.decoupled) w[i] *= 1 - lr * cs.wd;
          else g += cs.wd * w[i];
          m[i] = b1 * m[i] + (1 - b1) * g;
          v[i] = b2 * v[i] + (1 - b2) * g * g;
          vmax[i] = std::max(vmax[i], v[i]);
          const double vhat = (cs.amsgrad ? vmax[i] : v[i]) / (1 - std::pow(b2, s));
          w[i] -= lr * m[i] / (1 - std::pow(b1, s)) / (std::sqrt(vhat) + eps);
        }
      }
      const auto w_ref = to_float(w), m_ref = to_float(m), v_ref = to_float(v), vmax_ref = to_float(vmax);
      for_each_isa([&](Isa isa) {
        for_each_thread_count([&](int threads) {
          GuardedBuffer gw(n), gm(n), gv(n), gvmax(n), gg(n);
          std::copy(w0.begin(), w0.end(), gw.data());
          std::fill(gm.data(), gm.data() + n, 0.0f);
          std::fill(gv.data(), gv.data() + n, 0.0f);
          std::fill(gvmax.data(), gvmax.data() + n, 0.0f);
          for (int s = 1; s <= kSteps; ++s) {
            std::copy(gs[s - 1].begin(), gs[s - 1].end(), gg.data());
            adam_update(AdamOptions{lr, b1, b2, eps, cs.wd, cs.decoupled, cs.amsgrad, s}, n, gw.data(), gg.data(),
                        gm.data(), gv.data(), cs.amsgrad ? gvmax.data() : nullptr);
          }
          const std::string ctx = label("adam wd=" + std::to_string(cs.wd) + " decoupled=" +
                                            std::to_string(cs.decoupled) + " amsgrad=" + std::to_string(cs.amsgrad),
                                        n, isa, threads);
          expect_close(gw.data(), w_ref.data(), n, 1e-6f, 1e-5f, ctx + " w");
          expect_close(gm.data(), m_ref.data(), n, 1e-7f, 1e-5f, ctx + " m");
          expect_close(gv.data(), v_ref.data(), n, 1e-9f, 1e-5f, ctx + " v");
          if (cs.amsgrad) expect_close(gvmax.data(), vmax_ref.data(), n, 1e-9f, 1e-5f, ctx + " vMax");
        });
      });
    }
  }
}

// The documented first Adam step: w1 = w - lr·g/(|g| + eps) whatever the betas.
TF_TEST(adam_first_step_is_sign_step) {
  float w[3] = {1.0f, -2.0f, 0.5f};
  const float g[3] = {0.5f, -4.0f, 1e-3f};
  float m[3] = {0, 0, 0}, v[3] = {0, 0, 0};
  adam_update(AdamOptions{0.1, 0.8, 0.99, 1e-8, 0, false, false, 1}, 3, w, g, m, v, nullptr);
  float expected[3];
  const double w0[3] = {1.0, -2.0, 0.5};
  for (int i = 0; i < 3; ++i) expected[i] = static_cast<float>(w0[i] - 0.1 * g[i] / (std::fabs(g[i]) + 1e-8));
  expect_close(w, expected, 3, 1e-6f, 1e-6f, "adam step 1");
}

// Every Adam micro-kernel of optim.inc this CPU can run (scalar included), called directly on lengths
// 1..67 (every tail of the 8- and 16-wide kernels) in guard-page buffers, for Adam, Adam + L2 and
// AdamW: each element against a one-step double loop, and bit-equal to the same element updated inside
// a long buffer at another offset (position independence, hence the same bits for any thread split).
TF_TEST(adam_ukernels_odd_lengths_guard_pages) {
  struct Case { double wd; bool decoupled; };
  const Case cases[] = {{0, false}, {0.1, false}, {0.1, true}};
  const int64_t kLong = 67 + 41;
  Rng rng(35);
  std::vector<float> w0(kLong), g0(kLong), m0(kLong), v0(kLong), vmax0(kLong);
  rng.fill(w0.data(), kLong);
  rng.fill(g0.data(), kLong);
  rng.fill(m0.data(), kLong, -0.1f, 0.1f);
  rng.fill(v0.data(), kLong, 0.0f, 0.01f);
  rng.fill(vmax0.data(), kLong, 0.0f, 0.01f);  // about half above v: both sides of amsgrad's max
  int count = 0;
  const OptimUkernelEntry* entries = optim_ukernel_entries(&count);
  for (int e = 0; e < count; ++e) {
    const OptimUkernelEntry& uk = entries[e];
    if (kernel_table_for(uk.isa) == nullptr) continue;
    const bool amsgrad = uk.field == &OptimUkernels::adam_amsgrad;
    for (const Case& cs : cases) {
      const AdamOptions o{0.01, 0.9, 0.999, 1e-8, cs.wd, cs.decoupled, amsgrad, 3};
      const AdamUkernelParams p = adam_ukernel_params(o);
      // The whole long buffer, updated once: the bits every shorter call must reproduce.
      std::vector<float> lw = w0, lm = m0, lv = v0, lvmax = vmax0;
      uk.fn(p, kLong, lw.data(), g0.data(), lm.data(), lv.data(), amsgrad ? lvmax.data() : nullptr);
      // Double one-step oracle for each element.
      std::vector<float> dw(kLong), dm(kLong), dv(kLong), dvmax(kLong);
      for (int64_t i = 0; i < kLong; ++i) {
        double w = w0[i], g = g0[i];
        if (cs.decoupled) w *= 1 - o.lr * cs.wd;
        else g += cs.wd * w;
        const double m = o.beta1 * m0[i] + (1 - o.beta1) * g;
        const double v = o.beta2 * v0[i] + (1 - o.beta2) * g * g;
        const double vmax = std::max(static_cast<double>(vmax0[i]), v);
        const double vhat = (amsgrad ? vmax : v) / (1 - std::pow(o.beta2, 3));
        w -= o.lr / (1 - std::pow(o.beta1, 3)) * m / (std::sqrt(vhat) + o.eps);
        dw[i] = static_cast<float>(w), dm[i] = static_cast<float>(m), dv[i] = static_cast<float>(v);
        dvmax[i] = static_cast<float>(vmax);
      }
      for (int64_t n = 1; n <= 67; ++n) {
        const int64_t off = (n * 7) % 41;
        GuardedBuffer w(n), g(n), m(n), v(n), vmax(n);
        std::copy_n(w0.data() + off, n, w.data());
        std::copy_n(g0.data() + off, n, g.data());
        std::copy_n(m0.data() + off, n, m.data());
        std::copy_n(v0.data() + off, n, v.data());
        std::copy_n(vmax0.data() + off, n, vmax.data());
        uk.fn(p, n, w.data(), g.data(), m.data(), v.data(), amsgrad ? vmax.data() : nullptr);
        const std::string ctx = std::string(uk.name) + " wd=" + std::to_string(cs.wd) +
                                " decoupled=" + std::to_string(cs.decoupled) + " n=" + std::to_string(n);
        expect_identical(w.data(), lw.data() + off, n, ctx + " w vs long buffer");
        expect_identical(m.data(), lm.data() + off, n, ctx + " m vs long buffer");
        expect_identical(v.data(), lv.data() + off, n, ctx + " v vs long buffer");
        // One float step: w, m, v within a few float roundings (|w| <= 1.1: 2e-7 absolute; the step
        // lr·m̂/sqrt(v̂) <= ~0.03 adds relative float error ~1e-6 of itself).
        expect_close(w.data(), dw.data() + off, n, 3e-7f, 1e-6f, ctx + " w");
        expect_close(m.data(), dm.data() + off, n, 1e-8f, 1e-6f, ctx + " m");
        expect_close(v.data(), dv.data() + off, n, 1e-10f, 1e-6f, ctx + " v");
        if (amsgrad) {
          expect_identical(vmax.data(), lvmax.data() + off, n, ctx + " vMax vs long buffer");
          expect_close(vmax.data(), dvmax.data() + off, n, 1e-10f, 1e-6f, ctx + " vMax");
        }
      }
    }
  }
}

// Adam on a buffer large enough to split: 1 and 2 threads give the same bits on every ISA.
TF_TEST(adam_thread_count_bit_identical) {
  const int64_t n = 100003;
  Rng rng(36);
  std::vector<float> w0(n), g(n);
  rng.fill(w0.data(), n);
  rng.fill(g.data(), n);
  for (bool amsgrad : {false, true}) {
    for_each_isa([&](Isa isa) {
      std::vector<std::vector<float>> results;
      for_each_thread_count([&](int) {
        std::vector<float> w = w0, m(n, 0.01f), v(n, 1e-4f), vmax(n, 2e-4f);
        adam_update(AdamOptions{0.01, 0.9, 0.999, 1e-8, 0.01, true, amsgrad, 2}, n, w.data(), g.data(), m.data(),
                    v.data(), amsgrad ? vmax.data() : nullptr);
        results.push_back(w);
      });
      for (size_t r = 1; r < results.size(); ++r) {
        expect_identical(results[r].data(), results[0].data(), n,
                         std::string("adam threads amsgrad=") + std::to_string(amsgrad) + " " + isa_name(isa));
      }
    });
  }
}

namespace {

// Parameter sizes in a flat buffer, for the ParamStarts tests below.
const std::vector<std::vector<int64_t>> kParamLayouts = {
    {40000},                                 // one parameter
    {200704, 256, 32768, 128, 1280, 10},     // the MLP 784-256-128-10 (without padding)
    {1, 1023, 1024, 5, 40001, 17, 2049, 3},  // odd sizes on both sides of the minimum
    {7, 33, 70000},                          // small ones first, then one big
    std::vector<int64_t>(300, 129),          // 300 biases, 38700 floats: all go whole to threads in turn
};

// Where each parameter of `sizes` starts when they lie back to back; *n = their total.
std::vector<int64_t> starts_of(const std::vector<int64_t>& sizes, int64_t* n) {
  std::vector<int64_t> starts;
  *n = 0;
  for (int64_t s : sizes) {
    starts.push_back(*n);
    *n += s;
  }
  return starts;
}

}  // namespace

// Parameter starts (optim.h: ParamStarts) change only which thread updates which element. Layouts mix
// parameters below and above kShareParamMinSize, odd sizes (share boundaries that are not vector
// multiples, short last shares) and a first parameter of 1 float; each optimizer, with and without
// the starts, at 1, 2 and 3 threads, must give the same bits. Guard pages after every buffer.
TF_TEST(optimizers_param_starts_same_bits_any_split) {
  const int saved = num_threads();
  Rng rng(41);
  for (const auto& sizes : kParamLayouts) {
    int64_t n = 0;
    const std::vector<int64_t> starts = starts_of(sizes, &n);
    const ParamStarts param_starts{starts.data(), static_cast<int64_t>(starts.size())};
    std::vector<float> w0(n), g(n), s0(n);
    rng.fill(w0.data(), n);
    rng.fill(g.data(), n);
    rng.fill(s0.data(), n, 0.0f, 0.01f);  // non-negative: a valid second moment / square sum
    // Each optimizer as one call on (w, three state buffers) with or without the starts.
    using Update = std::function<void(float*, float*, float*, float*, ParamStarts)>;
    const std::pair<const char*, Update> updates[] = {
        {"sgd nesterov", [&](float* w, float* a, float*, float*, ParamStarts p) {
           sgd_update(SgdOptions{0.05, 0.9, 0, 0.01, true, false}, n, w, g.data(), a, p);
         }},
        {"adagrad", [&](float* w, float* a, float*, float*, ParamStarts p) {
           adagrad_update(AdagradOptions{0.05, 0.01, 0.01, 1e-10, 3}, n, w, g.data(), a, p);
         }},
        {"rmsprop centered momentum", [&](float* w, float* a, float* b, float* c, ParamStarts p) {
           rmsprop_update(RmspropOptions{0.01, 0.99, 1e-8, 0.01, 0.9, true}, n, w, g.data(), a, b, c, p);
         }},
        {"adamw amsgrad", [&](float* w, float* a, float* b, float* c, ParamStarts p) {
           adam_update(AdamOptions{0.01, 0.9, 0.999, 1e-8, 0.01, true, true, 3}, n, w, g.data(), a, b, c, p);
         }},
    };
    for (const auto& [name, update] : updates) {
      std::vector<float> expected;  // 1 thread, no starts
      for (int threads : {1, 2, 3}) {
        set_num_threads(threads);
        for (bool with_starts : {false, true}) {
          GuardedBuffer w(n), a(n), b(n), c(n);
          std::copy(w0.begin(), w0.end(), w.data());
          for (GuardedBuffer* s : {&a, &b, &c}) std::copy(s0.begin(), s0.end(), s->data());
          update(w.data(), a.data(), b.data(), c.data(), with_starts ? param_starts : ParamStarts{});
          std::vector<float> all(w.data(), w.data() + n);
          for (GuardedBuffer* s : {&a, &b, &c}) all.insert(all.end(), s->data(), s->data() + n);
          if (expected.empty()) {
            expected = all;
            continue;
          }
          expect_identical(all.data(), expected.data(), all.size(),
                           std::string(name) + " " + str(sizes) + " x" + std::to_string(threads) +
                               (with_starts ? " with" : " without") + " param starts");
        }
      }
    }
  }
  set_num_threads(saved);
}

// Every element is updated exactly once under any split: SGD with lr 1 and g = 1 moves each w from 0
// to -1 (an element updated twice would read -2, one left out 0), for every layout at 2 and 3 threads.
TF_TEST(optimizer_param_starts_cover_every_element_once) {
  const int saved = num_threads();
  for (const auto& sizes : kParamLayouts) {
    int64_t n = 0;
    const std::vector<int64_t> starts = starts_of(sizes, &n);
    const std::vector<float> g(n, 1.0f), minus_one(n, -1.0f);
    for (int threads : {2, 3}) {
      set_num_threads(threads);
      GuardedBuffer w(n);
      std::fill(w.data(), w.data() + n, 0.0f);
      sgd_update(SgdOptions{1, 0, 0, 0, false, true}, n, w.data(), g.data(), nullptr,
                 ParamStarts{starts.data(), static_cast<int64_t>(starts.size())});
      expect_identical(w.data(), minus_one.data(), n,
                       "sgd lr=1 g=1 " + std::to_string(sizes.size()) + " params n=" + std::to_string(n) + " x" +
                           std::to_string(threads));
    }
  }
  set_num_threads(saved);
}
