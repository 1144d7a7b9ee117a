// The dispatch table: which micro-kernels run, chosen once at load from the CPU's features and
// TENSORFORGE_ISA, and re-chosen only when a caller forces a lower level (tests, benchmarks).
//
// Each ISA contributes its micro-kernels through native/ukernels/ukernels.inc (one list feeding both
// this table and the native tests, so every registered variant is tested).
#pragma once

#include "runtime/cpu.h"
#include "ukernels/conv_ukernels.h"
#include "ukernels/dwconv_ukernels.h"
#include "ukernels/gemm_ukernels.h"
#include "ukernels/vmath_ukernels.h"
#include "ukernels/optim_ukernels.h"
#include "ukernels/pool_ukernels.h"

namespace tf {

struct KernelTable {
  Isa isa;
  // Micro-kernel entries are added here by the kernel families that dispatch on ISA (see ukernels.inc).
  // GEMM: the `role 1` (default) entry of ukernels.inc for this level (neon reuses the portable scalar kernel
  // until a NEON one is written and compile-checked on arm64).
  GemmUkernel gemm;
  // The `role 2` entry of this level (its alternative tile; `gemm` again when there is none). gemm()
  // picks between the two by shape (gemm_choose_ukernel).
  GemmUkernel gemm_alt;
  // GEMM with m <= 8 and B not transposed: the level's TF_GEMM_SMALLM_UKERNEL entry (scalar for neon).
  GemmSmallMUkernel gemm_small_m;
  // Vector math (exp, log, tanh, ...): this level's entries of vmath.inc, the scalar ones for any op
  // it has none for (neon today).
  VmathUkernels vmath;
  // Convolution: the entries of conv_ukernels.inc with that role at this level (neon: the portable
  // kernel). `conv_igemm` for groups with >= 64 output columns, `conv_igemm_narrow` for fewer,
  // `conv_igemm_small` for <= 16 (LeNet's 6 or 16 output channels would fill 6 or 16 of 32 columns).
  ConvIgemmUkernel conv_igemm;
  ConvIgemmUkernel conv_igemm_narrow;
  ConvIgemmUkernel conv_igemm_small;
  // Depthwise convolution: this level's entry of dwconv_ukernels.inc (neon: the portable one).
  DwconvUkernel dwconv;
  // Max pooling: this level's entry of pool_ukernels.inc (neon: the portable one).
  MaxpoolUkernel maxpool;
  // Optimizer updates (Adam): this level's entries of optim.inc, the scalar ones for any update it
  // has none for (neon today).
  OptimUkernels optim;
};

// Every GEMM micro-kernel compiled into this binary, from ukernels.inc (tests run each of them).
struct GemmUkernelEntry {
  Isa isa;
  GemmUkernel ukernel;
  bool is_default;
  bool is_alternative;
};
const GemmUkernelEntry* gemm_ukernel_entries(int* count);

struct GemmSmallMUkernelEntry {
  Isa isa;
  GemmSmallMUkernel ukernel;
};
const GemmSmallMUkernelEntry* gemm_small_m_ukernel_entries(int* count);
// Every vector-math micro-kernel compiled into this binary, from vmath.inc (tests run each of them).
struct VmathUkernelEntry {
  Isa isa;
  const char* op;                // the name of `field`: "exp", "log", ...
  VmathFn VmathUkernels::*field;  // which function of a level's table it provides
  VmathFn fn;
  const char* name;
};
const VmathUkernelEntry* vmath_ukernel_entries(int* count);
// Every convolution micro-kernel compiled into this binary, from conv_ukernels.inc.
struct ConvIgemmUkernelEntry {
  Isa isa;
  ConvIgemmUkernel ukernel;
  int role;  // bit 0: conv_igemm, bit 1: conv_igemm_narrow, bit 2: conv_igemm_small
};
const ConvIgemmUkernelEntry* conv_igemm_ukernel_entries(int* count);

// Every depthwise micro-kernel pair compiled into this binary, from dwconv_ukernels.inc.
struct DwconvUkernelEntry {
  Isa isa;
  DwconvUkernel ukernel;
};
const DwconvUkernelEntry* dwconv_ukernel_entries(int* count);

// Every optimizer micro-kernel compiled into this binary, from optim.inc (tests run each of them).
struct OptimUkernelEntry {
  Isa isa;
  const char* op;                       // the name of `field`: "adam", "adam_amsgrad"
  AdamUkernelFn OptimUkernels::*field;  // which function of a level's table it provides
  AdamUkernelFn fn;
  const char* name;
};
const OptimUkernelEntry* optim_ukernel_entries(int* count);

// The table in use. Cheap: a pointer load.
const KernelTable& kernels();

// For kernel families that keep their own per-ISA entries outside the table: the entry for the active
// level among those compiled in (nullptr = not compiled; neon and scalar take the portable entry).
template <typename Entry>
const Entry* entry_for_active_isa(const Entry* portable, const Entry* avx2, const Entry* avx512) {
  const Isa isa = kernels().isa;
  if (isa == Isa::avx512 && avx512 != nullptr) return avx512;
  if (isa == Isa::avx2 && avx2 != nullptr) return avx2;
  return portable;
}

Isa active_isa();
// Best level this binary and CPU support (what runs when nothing is forced).
Isa detected_isa();
// The table for a given level, or nullptr if this binary/CPU cannot run it (tests iterate all of them).
const KernelTable* kernel_table_for(Isa isa);
// Forces a level <= detected_isa(). Returns false (and changes nothing) if it cannot run here.
bool set_active_isa(Isa isa);

}  // namespace tf
