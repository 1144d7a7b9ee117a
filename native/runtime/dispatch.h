// The dispatch table: which micro-kernels run, chosen once at load from the CPU's features and
// TENSORFORGE_ISA, and re-chosen only when a caller forces a lower level (tests, benchmarks).
//
// Each ISA contributes its micro-kernels through native/ukernels/ukernels.inc (one list feeding both
// this table and the native tests, so every registered variant is tested).
#pragma once

#include "runtime/cpu.h"
#include "ukernels/gemm_ukernels.h"
#include "ukernels/vmath_ukernels.h"

namespace tf {

struct KernelTable {
  Isa isa;
  // Micro-kernel entries are added here by the kernel families that dispatch on ISA (see ukernels.inc).
  // GEMM: the `is_default` entry of ukernels.inc for this level (neon reuses the portable scalar kernel
  // until a NEON one is written and compile-checked on arm64).
  GemmUkernel gemm;
  // GEMM with m <= 8 and B not transposed: the level's TF_GEMM_SMALLM_UKERNEL entry (scalar for neon).
  GemmSmallMUkernel gemm_small_m;
  // Vector math (exp, log, tanh, ...): this level's entries of vmath.inc, the scalar ones for any op
  // it has none for (neon today).
  VmathUkernels vmath;
};

// Every GEMM micro-kernel compiled into this binary, from ukernels.inc (tests run each of them).
struct GemmUkernelEntry {
  Isa isa;
  GemmUkernel ukernel;
  bool is_default;
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

// The table in use. Cheap: a pointer load.
const KernelTable& kernels();

Isa active_isa();
// Best level this binary and CPU support (what runs when nothing is forced).
Isa detected_isa();
// The table for a given level, or nullptr if this binary/CPU cannot run it (tests iterate all of them).
const KernelTable* kernel_table_for(Isa isa);
// Forces a level <= detected_isa(). Returns false (and changes nothing) if it cannot run here.
bool set_active_isa(Isa isa);

}  // namespace tf
