// Convolution micro-kernel benchmark: GFLOP/s of every registered conv igemm micro-kernel this CPU can
// run, through the forward and backward-input drivers, on the issue-4 shapes (the end-to-end comparison
// with PyTorch is scripts/bench-conv.mjs).
//
//   ./build-cmake/conv_bench [--threads N] [--big] [--paths] [--tiles]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "kernels/conv2d_paths.h"
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
  bool paths = false;     // --paths: the alternative paths of the big cases, alternately
  bool tiles = false;     // --tiles: every AVX-512 igemm tile of >= 32 columns on the wide cases, alternately
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--big") == 0) only_big = true;
    if (std::strcmp(argv[i], "--tiles") == 0) tiles = true;
    if (std::strcmp(argv[i], "--paths") == 0) paths = true;
    if (i + 1 < argc && std::strcmp(argv[i], "--threads") == 0) threads = std::atoi(argv[i + 1]);
  }
  set_num_threads(threads);
  if (tiles) {
    // Forward and backward-input of the wide cases through every registered igemm tile with >= 32
    // columns that this CPU runs, one call each per round in turn, in GFLOP/s: the whole batch (best of
    // 12 rounds) and one image of it (x and y in L2; best of 300 rounds, steadier on a shared machine).
    int count = 0;
    const ConvIgemmUkernelEntry* entries = conv_igemm_ukernel_entries(&count);
    std::vector<const ConvIgemmUkernel*> uks;
    for (int e = 0; e < count; ++e)
      if (kernel_table_for(entries[e].isa) != nullptr && entries[e].ukernel.nr >= 32) uks.push_back(&entries[e].ukernel);
    const struct {
      const char* name;
      Conv2dShape s;
    } wide[] = {{"resnet 3x3 32x56x56x64->64", make(32, 56, 64, 3, 64, 1, 1)},
                {"strided 3x3 s2 32x56x56x64->128", make(32, 56, 64, 3, 128, 2, 1)},
                {"1x1 32x28x28x128->256", make(32, 28, 128, 1, 256, 1, 0)}};
    for (const auto& sh : wide) {
      for (const int64_t n : {sh.s.n, int64_t{1}}) {
        Conv2dShape s = sh.s;
        s.n = n;
        std::vector<float> x(s.x_size(), 0.5f), w(s.w_size(), 0.25f), y(s.y_size()), dy(s.y_size(), 0.25f);
        const double flop = 2.0 * s.n * s.oh * s.ow * s.oc * s.kh * s.kw * s.c;
        std::vector<double> fwd(uks.size(), 1e30), bwd(uks.size(), 1e30);
        for (int r = 0; r < (n == 1 ? 300 : 12); ++r)
          for (size_t v = 0; v < uks.size(); ++v) {
            double t0 = now();
            conv_detail::forward_igemm(s, Conv2dEpilogue{}, x.data(), w.data(), nullptr, y.data(), *uks[v]);
            fwd[v] = std::min(fwd[v], now() - t0);
            t0 = now();
            conv_detail::backward_input_igemm(s, x.data(), dy.data(), w.data(), *uks[v]);
            bwd[v] = std::min(bwd[v], now() - t0);
          }
        std::printf("%s, N = %lld, threads %d: GFLOP/s fwd, bwd-input\n", sh.name, static_cast<long long>(n), threads);
        for (size_t v = 0; v < uks.size(); ++v)
          std::printf("  %-34s %7.1f %7.1f\n", uks[v]->name, flop / fwd[v] / 1e9, flop / bwd[v] / 1e9);
      }
    }
    return 0;
  }
  if (paths) {
    // The alternatives conv2d.cc chooses between on the big issue-4 cases, run alternately (one call each
    // per round, best of the rounds), and the cost of one piece of the rows backward-filter alone.
    struct Alt {
      const char* name;
      std::function<void()> run;
    };
    auto best_of = [](std::vector<Alt>& alts, int rounds) {
      std::vector<double> best(alts.size(), 1e30);
      for (int r = 0; r < rounds; ++r)
        for (size_t v = 0; v < alts.size(); ++v) {
          const double t0 = now();
          alts[v].run();
          best[v] = std::min(best[v], now() - t0);
        }
      for (size_t v = 0; v < alts.size(); ++v) std::printf("  %-52s %9.3f ms\n", alts[v].name, best[v] * 1e3);
    };
    {
      const Conv2dShape s = make(32, 28, 128, 1, 256, 1, 0);
      std::vector<float> x(s.x_size(), 0.5f), w(s.w_size(), 0.25f), y(s.y_size()), dx(s.x_size()), dw(s.w_size()),
          db(s.oc), dy(s.y_size(), 0.25f);
      const GemmUkernel* gk = conv_detail::inplace_filter_ukernel(s);
      std::vector<Alt> alts = {
          {"fwd: igemm (chosen)", [&] { conv2d_forward(s, Conv2dEpilogue{}, x.data(), w.data(), nullptr, y.data()); }},
          {"fwd: tf::gemm", [&] {
             conv_detail::forward_pointwise(s, Conv2dEpilogue{}, x.data(), w.data(), nullptr, y.data());
           }},
          {"bwd-input: igemm (chosen)", [&] { conv2d_backward_input(s, dx.data(), dy.data(), w.data()); }},
          {"bwd-input: tf::gemm", [&] { conv_detail::backward_input_pointwise(s, dx.data(), dy.data(), w.data()); }},
          {"bwd-filter: tf::gemm chunks + column sums (chosen)",
           [&] { conv2d_backward_filter(s, dw.data(), db.data(), dy.data(), x.data()); }},
          {"bwd-filter: same, no dbias",
           [&] { conv_detail::backward_filter_pointwise(s, dw.data(), nullptr, dy.data(), x.data()); }},
          {"bwd-filter: in place (strided-B micro-kernel)", [&] {
             if (gk != nullptr) conv_detail::backward_filter_inplace(s, dw.data(), db.data(), dy.data(), x.data(), *gk);
           }},
      };
      std::printf("1x1 32x28x28x128->256, threads %d\n", threads);
      best_of(alts, 8);
    }
    const struct {
      const char* name;
      Conv2dShape s;
    } threes[] = {{"resnet 3x3 32x56x56x64->64", make(32, 56, 64, 3, 64, 1, 1)},
                  {"strided 3x3 s2 32x56x56x64->128", make(32, 56, 64, 3, 128, 2, 1)}};
    for (const auto& sh : threes) {
      const Conv2dShape& s = sh.s;
      std::vector<float> x(s.x_size(), 0.5f), dw(s.w_size()), db(s.oc), dy(s.y_size(), 0.25f);
      const GemmUkernel* gk = conv_detail::inplace_filter_ukernel(s);
      // The rows path's transposition of x into zero-bordered channel planes (one image's planes reused).
      const int64_t wq = s.w + s.pad_left + s.pad_right, plane = (s.h + s.pad_top + s.pad_bottom) * wq;
      std::vector<float> xt(static_cast<size_t>(s.c * plane));
      auto to_planes = [&](ConvPlanesFn fn) {
        for (int64_t n = 0; n < s.n; ++n)
          for (int64_t ih = 0; ih < s.h; ++ih)
            fn(s.w, s.c, x.data() + (n * s.h + ih) * s.w * s.c, s.c, xt.data() + (ih + s.pad_top) * wq + s.pad_left, plane);
      };
      std::vector<float> w(s.w_size(), 0.25f), y(s.y_size());
      Conv2dShape one = s;  // one image, 32 times: x and y stay in L2
      one.n = 1;
      std::vector<Alt> alts = {
          {"fwd (chosen)", [&] { conv2d_forward(s, Conv2dEpilogue{}, x.data(), w.data(), nullptr, y.data()); }},
          {"fwd, one image 32 times (in cache)", [&] {
             for (int64_t n = 0; n < s.n; ++n) conv2d_forward(one, Conv2dEpilogue{}, x.data(), w.data(), nullptr, y.data());
           }},
          {"bwd-input (chosen)", [&] { conv2d_backward_input(s, x.data(), dy.data(), w.data()); }},
          {"bwd-input, one image 32 times (in cache)", [&] {
             for (int64_t n = 0; n < s.n; ++n) conv2d_backward_input(one, x.data(), dy.data(), w.data());
           }},
          {"bwd-filter: rows, channel planes (chosen)",
           [&] { conv2d_backward_filter(s, dw.data(), db.data(), dy.data(), x.data()); }},
          {"bwd-filter: in place (strided-B micro-kernel)", [&] {
             if (gk != nullptr) conv_detail::backward_filter_inplace(s, dw.data(), db.data(), dy.data(), x.data(), *gk);
           }},
          {"bwd-filter: packed", [&] { conv_detail::backward_filter_packed(s, dw.data(), db.data(), dy.data(), x.data()); }},
          {"  x -> planes alone (stride 1 layout), active ISA", [&] { to_planes(conv_detail::planes_ukernel().fn); }},
          {"  x -> planes alone, plain loop", [&] { to_planes(&conv_planes_f32__scalar); }},
      };
      std::printf("%s, threads %d (in place: %s)\n", sh.name, threads, gk != nullptr ? gk->name : "does not apply");
      best_of(alts, 5);
    }
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
