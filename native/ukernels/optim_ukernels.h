// The optimizer micro-kernel contract: one fused float32 update over contiguous buffers, one variant
// per ISA (listed in optim.inc), chosen through the dispatch table. Portable header: no intrinsics here
// (they live only in the files named for their ISA).
//
// Adam / AdamW over elements [0, n) (PyTorch torch.optim.Adam / AdamW, per element):
//   w = w·decay;  g = g + l2·w;  m = b1·m + (1-b1)·g;  v = b2·v + (1-b2)·g²;
//   amsgrad: v_max = max(v_max, v), which replaces v below;
//   w = w - step_size · m / (sqrt(v)·inv_sqrt_bc2 + eps).
// The per-call scalars (bias corrections, step size, decay) are computed once per call in double by
// kernels/optim.cc and rounded to float; the kernels compute in float (FMA where the ISA has it).
//  - each kernel reads and writes exactly [0, n) of each buffer (tails are masked or done one element
//    at a time with the same formula: buffers ending at a guard page are fine);
//  - each element's result depends only on its own inputs, never on its index, n or the alignment,
//    so any split of a buffer into chunks (threads) gives the same bits. ISAs may differ by an ulp.
#pragma once

#include <cstdint>

namespace tf {

struct AdamUkernelParams {
  float beta1, one_minus_beta1;  // b1, 1 - b1
  float beta2, one_minus_beta2;  // b2, 1 - b2
  float decay;                   // AdamW: 1 - lr·wd; Adam: exactly 1 (w·1 is w)
  float l2;                      // Adam: wd; AdamW: 0 (the kernels skip the add when it is 0)
  float inv_sqrt_bc2;            // 1 / sqrt(1 - b2^step)
  float eps;
  float neg_step_size;           // -lr / (1 - b1^step)
};

// v_max is used by the amsgrad variant only (nullptr for the other).
using AdamUkernelFn = void (*)(const AdamUkernelParams& p, int64_t n, float* w, const float* g, float* m, float* v,
                               float* v_max);

// One function per update: the fields a dispatch level fills (see optim.inc).
struct OptimUkernels {
  AdamUkernelFn adam = nullptr;
  AdamUkernelFn adam_amsgrad = nullptr;
};

// Declarations of every kernel in the list.
#define TF_OPTIM_UKERNEL(isa, op, name)                                                                   \
  void name(const AdamUkernelParams& p, int64_t n, float* w, const float* g, float* m, float* v, float* v_max);
#include "ukernels/optim.inc"
#undef TF_OPTIM_UKERNEL

}  // namespace tf
