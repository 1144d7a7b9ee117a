// Inverted dropout with a counter-based mask: element i's fate depends only on (seed, i), so the mask
// is the same on every backend, thread count and ISA (see Backend.dropout in lib/backend/backend.ts).
#pragma once

#include <cstdint>

namespace tf {

// lowbias32 integer hash (Chris Wellons' "hash prospector" constants), all arithmetic mod 2^32.
inline uint32_t lowbias32(uint32_t v) {
  v ^= v >> 16;
  v *= 0x7feb352dU;
  v ^= v >> 15;
  v *= 0x846ca68bU;
  v ^= v >> 16;
  return v;
}

// true iff element i is kept: u = (h >> 8) / 2^24 >= p, h = lowbias32(i·0x9E3779B9 + lowbias32(seed)).
// seed_hash is lowbias32(seed), computed once per call.
inline bool dropout_keep(uint32_t seed_hash, int64_t i, double p) {
  const uint32_t h = lowbias32(static_cast<uint32_t>(i) * 0x9E3779B9U + seed_hash);
  return static_cast<double>(h >> 8) * (1.0 / 16777216.0) >= p;
}

// x [n] -> y [n], mask [n]: mask[i] = keep ? 1/(1-p) : 0 (rounded to float once), y = x·mask.
// p in [0, 1).
void dropout(int64_t n, double p, uint32_t seed, const float* x, float* y, float* mask);

}  // namespace tf
