#include "runtime/cpu.h"

#include <cstring>

#if defined(__x86_64__) || defined(_M_X64) || defined(__i386__) || defined(_M_IX86)
#define TF_X86 1
#if defined(_MSC_VER)
#include <intrin.h>
#else
#include <cpuid.h>
#endif
#endif

namespace tf {

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::scalar: return "scalar";
    case Isa::neon: return "neon";
    case Isa::avx2: return "avx2";
    case Isa::avx512: return "avx512";
  }
  return "scalar";
}

bool parse_isa(const char* text, Isa* out) {
  static const Isa all[] = {Isa::scalar, Isa::neon, Isa::avx2, Isa::avx512};
  for (Isa isa : all) {
    if (std::strcmp(text, isa_name(isa)) == 0) {
      *out = isa;
      return true;
    }
  }
  return false;
}

#ifdef TF_X86
namespace {

struct CpuidRegs { unsigned eax, ebx, ecx, edx; };

CpuidRegs cpuid(unsigned leaf, unsigned subleaf) {
  CpuidRegs r{0, 0, 0, 0};
#if defined(_MSC_VER)
  int regs[4];
  __cpuidex(regs, static_cast<int>(leaf), static_cast<int>(subleaf));
  r = {static_cast<unsigned>(regs[0]), static_cast<unsigned>(regs[1]), static_cast<unsigned>(regs[2]),
       static_cast<unsigned>(regs[3])};
#else
  __cpuid_count(leaf, subleaf, r.eax, r.ebx, r.ecx, r.edx);
#endif
  return r;
}

// Which register state the OS saves on context switch (XCR0). Without it, the CPU flag is not enough.
unsigned long long xcr0() {
#if defined(_MSC_VER)
  return _xgetbv(0);
#else
  unsigned eax, edx;
  __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
  return (static_cast<unsigned long long>(edx) << 32) | eax;
#endif
}

struct X86Features { bool avx2_fma; bool avx512; };

X86Features read_x86_features() {
  X86Features f{false, false};
  if (cpuid(0, 0).eax < 7) return f;
  const CpuidRegs leaf1 = cpuid(1, 0);
  const bool osxsave = (leaf1.ecx >> 27) & 1;
  const bool avx = (leaf1.ecx >> 28) & 1;
  const bool fma = (leaf1.ecx >> 12) & 1;
  if (!osxsave || !avx) return f;
  const unsigned long long xcr = xcr0();
  const bool os_ymm = (xcr & 0x6) == 0x6;     // XMM and YMM state
  const bool os_zmm = (xcr & 0xE6) == 0xE6;   // plus opmask and ZMM state
  const CpuidRegs leaf7 = cpuid(7, 0);
  const bool avx2 = (leaf7.ebx >> 5) & 1;
  const bool avx512f = (leaf7.ebx >> 16) & 1;
  const bool avx512dq = (leaf7.ebx >> 17) & 1;
  const bool avx512bw = (leaf7.ebx >> 30) & 1;
  const bool avx512vl = (leaf7.ebx >> 31) & 1;
  f.avx2_fma = os_ymm && avx2 && fma;
  f.avx512 = f.avx2_fma && os_zmm && avx512f && avx512dq && avx512bw && avx512vl;
  return f;
}

}  // namespace
#endif

Isa detect_best_isa() {
#ifdef TF_X86
  const X86Features f = read_x86_features();
#if defined(TF_HAVE_AVX512)
  if (f.avx512) return Isa::avx512;
#endif
#if defined(TF_HAVE_AVX2)
  if (f.avx2_fma) return Isa::avx2;
#endif
  (void)f;
  return Isa::scalar;
#elif defined(TF_HAVE_NEON)
  return Isa::neon;
#else
  return Isa::scalar;
#endif
}

}  // namespace tf
