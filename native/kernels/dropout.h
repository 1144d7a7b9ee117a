// Inverted dropout with a counter-based mask: element i's fate depends only on (seed, i), so the mask
// is the same on every backend, thread count and ISA (see Backend.dropout in lib/backend/backend.ts).
#pragma once

#include <cmath>
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

// The keep test u = (h >> 8) / 2^24 >= p, as an integer compare: for an integer k, k/2^24 >= p iff
// k >= ceil(p·2^24), and p·2^24 is exact in double. Returns that threshold, in [0, 2^24].
inline uint32_t dropout_threshold(double p) { return static_cast<uint32_t>(std::ceil(p * 16777216.0)); }

// true iff element i is kept; h = lowbias32(i·0x9E3779B9 + lowbias32(seed)), seed_hash = lowbias32(seed).
inline bool dropout_keep(uint32_t seed_hash, int64_t i, uint32_t threshold) {
  const uint32_t h = lowbias32(static_cast<uint32_t>(i) * 0x9E3779B9U + seed_hash);
  return (h >> 8) >= threshold;
}

// x [n] -> y [n], mask [n]: mask[i] = keep ? 1/(1-p) : 0 (rounded to float once), y = x·mask.
// p in [0, 1).
void dropout(int64_t n, double p, uint32_t seed, const float* x, float* y, float* mask);

}  // namespace tf
