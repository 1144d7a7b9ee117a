// A 16-lane float vector in GCC/Clang vector extensions, for kernels written once and compiled per ISA
// file (1 zmm with AVX-512, 2 ymm with AVX2, 4 xmm or NEON q registers in the portable build). Included
// inside each ISA file's anonymous namespace (by conv_width_impl.h and conv_ocvec_impl.h), so nothing
// here crosses a translation unit. The includer provides <cstdint> and <cstring>.
#pragma once

typedef float TfVec16f __attribute__((vector_size(64)));
typedef int32_t TfVec16i __attribute__((vector_size(64)));

// Unaligned loads and stores (memcpy compiles to one vector move).
inline TfVec16f load(const float* p) {
  TfVec16f v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
inline void store(float* p, TfVec16f v) { std::memcpy(p, &v, sizeof v); }
