#include "runtime/dispatch.h"

#include <atomic>
#include <cstdlib>

namespace tf {
namespace {

// The kernels with an in-place-A entry (TF_GEMM_STRIDED_A), by their packed entry, and their transposers.
const struct {
  GemmUkernelFn fn;
  GemmUkernelStridedAFn strided_a;
  GemmTransposeFn transpose;
  GemmUkernelStridedABFn strided_ab;
} strided_a_entries[] = {
#define TF_GEMM_STRIDED_A(name) {&name, &name##_strided_a, &name##_transpose, &name##_strided_ab},
#include "ukernels/ukernels.inc"
#undef TF_GEMM_STRIDED_A
    {nullptr, nullptr, nullptr, nullptr},
};

// The kernels that read a transposed A in place (TF_GEMM_STRIDED_AT), by their packed entry.
const struct {
  GemmUkernelFn fn;
  GemmUkernelStridedAFn strided_at;
  GemmUkernelStridedABFn strided_atb;
} strided_at_entries[] = {
#define TF_GEMM_STRIDED_AT(name) {&name, &name##_strided_at, &name##_strided_atb},
#include "ukernels/ukernels.inc"
#undef TF_GEMM_STRIDED_AT
    {nullptr, nullptr, nullptr},
};

GemmUkernel with_strided_a(GemmUkernel uk) {
  for (const auto& e : strided_a_entries) {
    if (e.fn == uk.fn && e.fn != nullptr) {
      uk.strided_a = e.strided_a;
      uk.transpose = e.transpose;
      uk.strided_ab = e.strided_ab;
    }
  }
  for (const auto& e : strided_at_entries) {
    if (e.fn == uk.fn && e.fn != nullptr) {
      uk.strided_at = e.strided_at;
      uk.strided_atb = e.strided_atb;
    }
  }
  return uk;
}

const GemmUkernelEntry gemm_entries[] = {
#define TF_GEMM_UKERNEL(isa, name, mr, nr, role) \
  {Isa::isa, with_strided_a(GemmUkernel{&name, mr, nr, #name, &name##_pack_a, &name##_pack_b, &name##_strided_b}), role == 1, role == 2},
#include "ukernels/ukernels.inc"
#undef TF_GEMM_UKERNEL
};

const GemmSmallMUkernelEntry small_m_entries[] = {
#define TF_GEMM_SMALLM_UKERNEL(isa, name, max_m, use_up_to_m) \
  {Isa::isa, GemmSmallMUkernel{&name, max_m, use_up_to_m, #name}},
#include "ukernels/ukernels.inc"
#undef TF_GEMM_SMALLM_UKERNEL
};

const GemmSmallMUkernel& small_m_gemm(Isa isa) {
  for (const auto& e : small_m_entries) {
    if (e.isa == isa) return e.ukernel;
  }
  return small_m_entries[0].ukernel;  // the scalar kernel (first in the list)
}

const ConvIgemmUkernelEntry conv_igemm_entries[] = {
#define TF_CONV_IGEMM_UKERNEL(isa, name, mr, nr, role) {Isa::isa, ConvIgemmUkernel{&name, mr, nr, #name}, role},
#include "ukernels/conv_ukernels.inc"
#undef TF_CONV_IGEMM_UKERNEL
};

const ConvIgemmUkernel& default_conv_igemm(Isa isa, int role) {
  for (const auto& e : conv_igemm_entries) {
    if (e.isa == isa && (e.role & role) != 0) return e.ukernel;
  }
  return conv_igemm_entries[0].ukernel;  // the portable kernel (first in the list)
}

const DwconvUkernelEntry dwconv_entries[] = {
#define TF_DWCONV_UKERNEL(isa, name) {Isa::isa, DwconvUkernel{&name##_fwd, &name##_grad, &name##_fwd_row, &name##_fwd_row2, &name##_grad_row, #name}},
#include "ukernels/dwconv_ukernels.inc"
#undef TF_DWCONV_UKERNEL
};

const DwconvUkernel& default_dwconv(Isa isa) {
  for (const auto& e : dwconv_entries) {
    if (e.isa == isa) return e.ukernel;
  }
  return dwconv_entries[0].ukernel;  // the portable pair (first in the list)
}

const struct {
  Isa isa;
  MaxpoolUkernel ukernel;
} maxpool_entries[] = {
#define TF_MAXPOOL_UKERNEL(isa, name) {Isa::isa, MaxpoolUkernel{&name##_max, &name##_route, #name}},
#include "ukernels/pool_ukernels.inc"
#undef TF_MAXPOOL_UKERNEL
};

const MaxpoolUkernel& default_maxpool(Isa isa) {
  for (const auto& e : maxpool_entries) {
    if (e.isa == isa) return e.ukernel;
  }
  return maxpool_entries[0].ukernel;  // the portable pair (first in the list)
}

const GemmUkernel& default_gemm(Isa isa) {
  for (const auto& e : gemm_entries) {
    if (e.isa == isa && e.is_default) return e.ukernel;
  }
  return gemm_entries[0].ukernel;  // the scalar kernel (first in the list): neon, or a level without one
}

// The level's alternative tile, or its default when it has none.
const GemmUkernel& alternative_gemm(Isa isa) {
  for (const auto& e : gemm_entries) {
    if (e.isa == isa && e.is_alternative) return e.ukernel;
  }
  return default_gemm(isa);
}

const VmathUkernelEntry vmath_entries[] = {
#define TF_VMATH_UKERNEL(isa, op, name) {Isa::isa, #op, &VmathUkernels::op, &name, #name},
#include "ukernels/vmath.inc"
#undef TF_VMATH_UKERNEL
};

// The scalar entries first (vmath.inc lists them first), then this level's own replace them.
VmathUkernels vmath_for(Isa isa) {
  VmathUkernels v;
  for (const auto& e : vmath_entries) {
    if (e.isa == Isa::scalar || e.isa == isa) v.*(e.field) = e.fn;
  }
  return v;
}

const OptimUkernelEntry optim_entries[] = {
#define TF_OPTIM_UKERNEL(isa, op, name) {Isa::isa, #op, &OptimUkernels::op, &name, #name},
#include "ukernels/optim.inc"
#undef TF_OPTIM_UKERNEL
};

// The scalar entries first (optim.inc lists them first), then this level's own replace them.
OptimUkernels optim_for(Isa isa) {
  OptimUkernels o;
  for (const auto& e : optim_entries) {
    if (e.isa == Isa::scalar || e.isa == isa) o.*(e.field) = e.fn;
  }
  return o;
}

KernelTable make_table(Isa isa) {
  KernelTable t{};
  t.isa = isa;
  t.gemm = default_gemm(isa);
  t.gemm_alt = alternative_gemm(isa);
  t.gemm_small_m = small_m_gemm(isa);
  t.vmath = vmath_for(isa);
  t.conv_igemm = default_conv_igemm(isa, 1);
  t.conv_igemm_narrow = default_conv_igemm(isa, 2);
  t.conv_igemm_small = default_conv_igemm(isa, 4);
  t.dwconv = default_dwconv(isa);
  t.maxpool = default_maxpool(isa);
  t.optim = optim_for(isa);
  return t;
}

const KernelTable scalar_table = make_table(Isa::scalar);
#if defined(TF_HAVE_NEON)
const KernelTable neon_table = make_table(Isa::neon);
#endif
#if defined(TF_HAVE_AVX2)
const KernelTable avx2_table = make_table(Isa::avx2);
#endif
#if defined(TF_HAVE_AVX512)
const KernelTable avx512_table = make_table(Isa::avx512);
#endif

const KernelTable* compiled_table(Isa isa) {
  switch (isa) {
    case Isa::scalar: return &scalar_table;
#if defined(TF_HAVE_NEON)
    case Isa::neon: return &neon_table;
#endif
#if defined(TF_HAVE_AVX2)
    case Isa::avx2: return &avx2_table;
#endif
#if defined(TF_HAVE_AVX512)
    case Isa::avx512: return &avx512_table;
#endif
    default: return nullptr;
  }
}

bool runnable(Isa isa, Isa best) {
  if (compiled_table(isa) == nullptr) return false;
  if (isa == Isa::scalar) return true;
  if (isa == Isa::neon) return best == Isa::neon;
  return best != Isa::neon && static_cast<int>(isa) <= static_cast<int>(best);
}

Isa initial_isa() {
  const Isa best = detect_best_isa();
  Isa forced;
  if (const char* env = std::getenv("TENSORFORGE_ISA")) {
    // An unknown or unavailable value is ignored here; the JS loader reports it (it can warn).
    if (parse_isa(env, &forced) && runnable(forced, best)) return forced;
  }
  return best;
}

std::atomic<const KernelTable*>& active_table() {
  static std::atomic<const KernelTable*> table{compiled_table(initial_isa())};
  return table;
}

}  // namespace

const GemmUkernelEntry* gemm_ukernel_entries(int* count) {
  *count = static_cast<int>(sizeof(gemm_entries) / sizeof(gemm_entries[0]));
  return gemm_entries;
}

const GemmSmallMUkernelEntry* gemm_small_m_ukernel_entries(int* count) {
  *count = static_cast<int>(sizeof(small_m_entries) / sizeof(small_m_entries[0]));
  return small_m_entries;
}

const VmathUkernelEntry* vmath_ukernel_entries(int* count) {
  *count = static_cast<int>(sizeof(vmath_entries) / sizeof(vmath_entries[0]));
  return vmath_entries;
}

const VmathUkernels& active_vmath() { return kernels().vmath; }

const ConvIgemmUkernelEntry* conv_igemm_ukernel_entries(int* count) {
  *count = static_cast<int>(sizeof(conv_igemm_entries) / sizeof(conv_igemm_entries[0]));
  return conv_igemm_entries;
}

const DwconvUkernelEntry* dwconv_ukernel_entries(int* count) {
  *count = static_cast<int>(sizeof(dwconv_entries) / sizeof(dwconv_entries[0]));
  return dwconv_entries;
}

const OptimUkernelEntry* optim_ukernel_entries(int* count) {
  *count = static_cast<int>(sizeof(optim_entries) / sizeof(optim_entries[0]));
  return optim_entries;
}

const KernelTable& kernels() { return *active_table().load(std::memory_order_acquire); }

Isa active_isa() { return kernels().isa; }

Isa detected_isa() {
  static const Isa best = detect_best_isa();
  return best;
}

const KernelTable* kernel_table_for(Isa isa) {
  return runnable(isa, detected_isa()) ? compiled_table(isa) : nullptr;
}

bool set_active_isa(Isa isa) {
  const KernelTable* table = kernel_table_for(isa);
  if (table == nullptr) return false;
  active_table().store(table, std::memory_order_release);
  return true;
}

}  // namespace tf
