// Convolution micro-kernel benchmark: GFLOP/s of every registered conv igemm micro-kernel this CPU can
// run, through the forward and backward-input drivers, on the issue-4 shapes (the end-to-end comparison
// with PyTorch is scripts/bench-conv.mjs).
//
//   ./build-cmake/conv_bench [--threads N]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "kernels/conv2d_paths.h"
#include "kernels/gemm.h"
#include "kernels/conv2d_tiles.h"
#include "runtime/dispatch.h"
#include "runtime/thread_pool.h"

using namespace tf;

namespace {

Conv2dShape make(int64_t n, int64_t hw, int64_t c, int64_t k, int64_t oc, int64_t stride, int64_t pad) {
  Conv2dShape s{n, hw, hw, c, k, k, oc, stride, stride, 1, 1, pad, pad, pad, pad, 1, 0, 0};
  s.oh = conv_output_size(hw, k, stride, 1, pad, pad);
  s.ow = s.oh;
  return s;
}

double now() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

// Best of 3 trials of >= 50 ms each, after a warm-up call; GFLOP/s.
template <typename F>
double rate(double flop, F f) {
  f();
  double best = 1e30;
  for (int t = 0; t < 3; ++t) {
    int reps = 0;
    const double start = now();
    do {
      f();
      ++reps;
    } while (now() - start < 0.05);
    best = std::min(best, (now() - start) / reps);
  }
  return flop / best / 1e9;
}

}  // namespace

int main(int argc, char** argv) {
  int threads = 1;
  bool only_big = false;  // --big: only the depthwise / ResNet / 1x1 / strided passes below, in ms
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--big") == 0) only_big = true;
    if (i + 1 < argc && std::strcmp(argv[i], "--threads") == 0) threads = std::atoi(argv[i + 1]);
  }
  set_num_threads(threads);
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--exp3") != 0) continue;
    const Conv2dShape shs[] = {make(32, 56, 64, 3, 64, 1, 1), make(32, 56, 64, 3, 128, 2, 1)};
    for (const Conv2dShape& a : shs) {
      std::vector<float> x(a.x_size(), 0.5f), w(a.w_size(), 0.25f), y(a.y_size());
      const int pf[] = {0, 4, 0, 4, 2};
      double best[5] = {1e30, 1e30, 1e30, 1e30, 1e30};
      for (int round = 0; round < 8; ++round)
        for (int v = 0; v < 5; ++v) {
          const double t0 = now();
          conv2d_forward(a, Conv2dEpilogue{}, x.data(), w.data(), nullptr, y.data());
          best[v] = std::min(best[v], now() - t0);
        }
      for (int v = 0; v < 5; ++v) std::printf("oc %lld fwd prefetch %d: %.3f ms\n", (long long)a.oc, pf[v], best[v] * 1e3);
    }
    return 0;
  }
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--exp2") != 0) continue;
    const Conv2dShape shs[] = {make(32, 56, 64, 3, 64, 1, 1), make(32, 56, 64, 3, 128, 2, 1)};
    for (const Conv2dShape& a : shs) {
      std::vector<float> x(a.x_size(), 0.5f), dw(a.w_size()), db(a.oc), dy(a.y_size(), 0.25f);
      conv_detail::AlignedFloats dya(a.y_size());
      std::copy(dy.begin(), dy.end(), dya.get());
      const GemmUkernel* gk = conv_detail::inplace_filter_ukernel(a);
      double best[4] = {1e30, 1e30, 1e30, 1e30};
      for (int round = 0; round < 5; ++round)
        for (int v = 0; v < 4; ++v) {
          const double t0 = now();
          if (v == 0) conv2d_backward_filter(a, dw.data(), db.data(), dy.data(), x.data());
          if (v == 1) conv2d_backward_filter(a, dw.data(), db.data(), dya.get(), x.data());
          if (v == 2 && gk) conv_detail::backward_filter_inplace(a, dw.data(), db.data(), dy.data(), x.data(), *gk);
          if (v == 3) conv_detail::backward_filter_packed(a, dw.data(), db.data(), dy.data(), x.data());
          best[v] = std::min(best[v], now() - t0);
        }
      {
        // The x transposition alone (what backward_filter_rows does per image, into one image's planes).
        const int64_t wq = a.w + 2, plane = (a.h + 2) * wq;
        std::vector<float> xt(a.c * plane);
        double bt = 1e30, bs = 1e30;
        for (int round = 0; round < 5; ++round) {
          for (int v = 0; v < 2; ++v) {
            const ConvPlanesFn fn = v == 0 ? conv_detail::planes_ukernel().fn : &conv_planes_f32__scalar;
            const double t0 = now();
            for (int64_t n = 0; n < a.n; ++n)
              for (int64_t ih = 0; ih < a.h; ++ih)
                fn(a.w, a.c, x.data() + (n * a.h + ih) * a.w * a.c, a.c, xt.data() + (ih + 1) * wq + 1, plane);
            (v == 0 ? bt : bs) = std::min(v == 0 ? bt : bs, now() - t0);
          }
        }
        std::printf("x -> planes (%s): %.3f ms, scalar %.3f ms\n", conv_detail::planes_ukernel().name, bt * 1e3, bs * 1e3);
      }
      std::printf("oc %lld stride %lld: conv2d %.3f, conv2d aligned dy %.3f, inplace %.3f, packed %.3f ms\n",
                  (long long)a.oc, (long long)a.stride_w, best[0] * 1e3, best[1] * 1e3, best[2] * 1e3, best[3] * 1e3);
    }
    return 0;
  }
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--exp") != 0) continue;
    const int64_t nb = i + 1 < argc ? std::atoi(argv[i + 1]) : 4;
    const Conv2dShape s = make(nb, 28, 128, 1, 256, 1, 0);
    std::vector<float> x(s.x_size(), 0.5f), w(s.w_size(), 0.25f), y(s.y_size()), dx(s.x_size()), dw(s.w_size()),
        db(s.oc), dy(s.y_size(), 0.25f);
    const double flop = 2.0 * s.n * s.oh * s.ow * s.oc * s.kh * s.kw * s.c;
    const ConvIgemmUkernel& uk = kernels().conv_igemm;
    const GemmUkernel* gk = conv_detail::inplace_filter_ukernel(s);
    const struct {
      const char* name;
      std::function<void()> f;
    } vs[] = {
        {"fwd conv2d_forward", [&] { conv2d_forward(s, Conv2dEpilogue{}, x.data(), w.data(), nullptr, y.data()); }},
        {"fwd igemm", [&] { conv_detail::forward_igemm(s, Conv2dEpilogue{}, x.data(), w.data(), nullptr, y.data(), uk); }},
        {"fwd igemm narrow", [&] { conv_detail::forward_igemm(s, Conv2dEpilogue{}, x.data(), w.data(), nullptr, y.data(), kernels().conv_igemm_narrow); }},
        {"bwdin conv2d", [&] { conv2d_backward_input(s, dx.data(), dy.data(), w.data()); }},
        {"bwdf conv2d (inplace)", [&] { conv2d_backward_filter(s, dw.data(), db.data(), dy.data(), x.data()); }},
        {"bwdf pointwise", [&] { conv_detail::backward_filter_pointwise(s, dw.data(), db.data(), dy.data(), x.data()); }},
        {"bwdin gemm (old)", [&] { conv_detail::backward_input_pointwise(s, dx.data(), dy.data(), w.data()); }},
        {"bwdf inplace (old)", [&] { conv_detail::backward_filter_inplace(s, dw.data(), db.data(), dy.data(), x.data(), *gk); }},
        {"bwdf pointwise nobias", [&] { conv_detail::backward_filter_pointwise(s, dw.data(), nullptr, dy.data(), x.data()); }},
    };
    constexpr int kv = sizeof(vs) / sizeof(vs[0]);
    double best[kv];
    for (double& b : best) b = 1e30;
    for (int round = 0; round < (nb >= 16 ? 8 : 30); ++round) {
      for (int v = 0; v < kv; ++v) {
        const double t0 = now();
        vs[v].f();
        best[v] = std::min(best[v], now() - t0);
      }
    }
    std::printf("1x1 N=%lld, threads %d (inplace tile %s)\n", static_cast<long long>(nb), threads, gk ? gk->name : "-");
    for (int v = 0; v < kv; ++v) std::printf("  %-28s %8.3f ms %7.1f GFLOP/s\n", vs[v].name, best[v] * 1e3, flop / best[v] / 1e9);
    return 0;
  }
  // The three training passes of the larger issue-4 cases through conv2d.cc's path choice, in ms (best
  // of 3 trials of >= 50 ms); run two builds alternately to compare them.
  {
    Conv2dShape dws = make(32, 56, 64, 3, 64, 1, 1);
    dws.groups = 64;
    const struct {
      const char* name;
      Conv2dShape s;
    } big[] = {{"depthwise 3x3 32x56x56x64 g64", dws},
               {"resnet 3x3 32x56x56x64->64", make(32, 56, 64, 3, 64, 1, 1)},
               {"1x1 32x28x28x128->256", make(32, 28, 128, 1, 256, 1, 0)},
               {"strided 3x3 s2 32x56x56x64->128", make(32, 56, 64, 3, 128, 2, 1)}};
    std::printf("threads %d, ms per call\n%-34s %9s %9s %9s %9s\n", threads, "shape", "fwd", "bwd-in", "bwd-filt",
                "sum");
    for (const auto& sh : big) {
      const Conv2dShape& s = sh.s;
      std::vector<float> x(s.x_size(), 0.5f), w(s.w_size(), 0.25f), y(s.y_size()), dx(s.x_size()),
          dw(s.w_size()), db(s.oc), dy(s.y_size(), 0.25f);
      const double flop = 2.0 * s.n * s.oh * s.ow * s.oc * s.kh * s.kw * s.c / s.groups;
      const auto ms = [&](auto f) { return flop / rate(flop, f) / 1e6; };
      const double f = ms([&] { conv2d_forward(s, Conv2dEpilogue{}, x.data(), w.data(), nullptr, y.data()); });
      const double bi = ms([&] { conv2d_backward_input(s, dx.data(), dy.data(), w.data()); });
      const double bf = ms([&] { conv2d_backward_filter(s, dw.data(), db.data(), dy.data(), x.data()); });
      std::printf("%-34s %9.3f %9.3f %9.3f %9.3f\n", sh.name, f, bi, bf, f + bi + bf);
    }
    if (only_big) return 0;
  }
  const struct {
    const char* name;
    Conv2dShape s;
  } shapes[] = {{"resnet 3x3 32x56x56x64->64", make(32, 56, 64, 3, 64, 1, 1)},
                {"strided 3x3 s2 32x56x56x64->128", make(32, 56, 64, 3, 128, 2, 1)},
                {"lenet2 5x5 64x14x14x6->16", make(64, 14, 6, 5, 16, 1, 0)},
                {"lenet1 5x5 64x28x28x1->6 pad 2", make(64, 28, 1, 5, 6, 1, 2)},
                {"1x1 32x28x28x128->256 (igemm)", make(32, 28, 128, 1, 256, 1, 0)}};
  int count = 0;
  const ConvIgemmUkernelEntry* entries = conv_igemm_ukernel_entries(&count);
  std::printf("threads %d\n%-34s %-34s %9s %9s\n", threads, "shape", "ukernel", "fwd", "bwd-in");
  for (const auto& sh : shapes) {
    const Conv2dShape& s = sh.s;
    std::vector<float> x(s.x_size(), 0.5f), w(s.w_size(), 0.25f), y(s.y_size()), dx(s.x_size());
    const double flop = 2.0 * s.n * s.oh * s.ow * s.oc * s.kh * s.kw * s.c;
    for (int e = 0; e < count; ++e) {
      if (kernel_table_for(entries[e].isa) == nullptr) continue;
      const ConvIgemmUkernel& uk = entries[e].ukernel;
      const double fwd = rate(flop, [&] {
        conv_detail::forward_igemm(s, Conv2dEpilogue{}, x.data(), w.data(), nullptr, y.data(), uk);
      });
      const double bwd = rate(flop, [&] { conv_detail::backward_input_igemm(s, dx.data(), y.data(), w.data(), uk); });
      std::printf("%-34s %-34s %9.1f %9.1f\n", sh.name, uk.name, fwd, bwd);
    }
  }
  // Backward-filter (tf::gemm over im2col tiles).
  std::printf("\n%-34s %9s\n", "shape", "bwd-filter");
  for (const auto& sh : shapes) {
    const Conv2dShape& s = sh.s;
    std::vector<float> x(s.x_size(), 0.5f), dw(s.w_size()), db(s.oc), dy(s.y_size(), 0.25f);
    const double flop = 2.0 * s.n * s.oh * s.ow * s.oc * s.kh * s.kw * s.c;
    std::printf("%-34s %9.1f  (tf::gemm over im2col tiles)\n", sh.name,
                rate(flop, [&] { conv_detail::backward_filter_gemm(s, dw.data(), db.data(), dy.data(), x.data()); }));
    std::printf("%-34s %9.1f  (gemm micro-kernel, packed from x)\n", sh.name,
                rate(flop, [&] { conv_detail::backward_filter_packed(s, dw.data(), db.data(), dy.data(), x.data()); }));
    if (const GemmUkernel* gk = conv_detail::inplace_filter_ukernel(s); gk != nullptr) {
      std::printf("%-34s %9.1f  (%s strided-B, x read in place)\n", sh.name, rate(flop, [&] {
                    conv_detail::backward_filter_inplace(s, dw.data(), db.data(), dy.data(), x.data(), *gk);
                  }), gk->name);
    }
  }
  // LeNet conv2 (64x14x14x6 -> 16, 5x5 valid), each pass through the path conv2d.cc picks and the path
  // it replaced, in microseconds (best of 3 trials, alternating within the loop below).
  {
    const Conv2dShape s = make(64, 14, 6, 5, 16, 1, 0);
    std::vector<float> x(s.x_size(), 0.5f), w(s.w_size(), 0.25f), y(s.y_size()), dx(s.x_size()), dw(s.w_size()),
        db(s.oc), dy(s.y_size(), 0.25f);
    const double flop = 2.0 * s.n * s.oh * s.ow * s.oc * s.kh * s.kw * s.c;
    const auto us = [&](auto f) { return flop / rate(flop, f) / 1e3; };
    const ConvOcvecUkernel* ok = conv_detail::ocvec_ukernel();
    std::printf("\nLeNet conv2 64x14x14x6->16 5x5, us per call\n");
    for (int round = 0; round < 2; ++round) {
      std::printf("  forward (conv2d_forward)                 %8.1f\n",
                  us([&] { conv2d_forward(s, Conv2dEpilogue{}, x.data(), w.data(), nullptr, y.data()); }));
      std::printf("  backward-input few-channel dcol+col2im   %8.1f\n", us([&] {
                    conv_detail::backward_input_few_channels(s, dx.data(), dy.data(), w.data(), kernels().conv_igemm);
                  }));
      if (ok != nullptr)
        std::printf("  backward-input ocvec (%s) %8.1f\n", ok->name,
                    us([&] { conv_detail::backward_input_ocvec(s, dx.data(), dy.data(), w.data(), *ok); }));
      std::printf("  backward-filter (conv2d_backward_filter) %8.1f\n",
                  us([&] { conv2d_backward_filter(s, dw.data(), db.data(), dy.data(), x.data()); }));
    }
  }
  return 0;
}
