// CPU feature detection: which SIMD level this machine (and its OS) can run.
#pragma once

namespace tf {

// Ordered: a higher level can run everything a lower one can (on x86). NEON is arm64's baseline.
enum class Isa { scalar = 0, neon = 1, avx2 = 2, avx512 = 3 };

const char* isa_name(Isa isa);
// Parses "scalar" | "neon" | "avx2" | "avx512"; returns false for anything else.
bool parse_isa(const char* text, Isa* out);

// The best level both compiled into this binary and supported by the CPU and OS.
Isa detect_best_isa();

}  // namespace tf
