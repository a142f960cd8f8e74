// Deterministic, counter-based random numbers: the same (seed, counter) gives the same value on
// every backend and thread count, so dropout masks and initialisations are reproducible.
#pragma once
#include <cstdint>

namespace tessera {

// A 64-bit mix of (seed, counter) (splitmix64 finaliser over their combination).
uint64_t random_bits(uint64_t seed, uint64_t counter);
// Uniform in [0, 1) with 24 random bits.
float random_uniform(uint64_t seed, uint64_t counter);
// Standard normal (Box-Muller on two uniforms drawn at 2*counter and 2*counter+1).
float random_normal(uint64_t seed, uint64_t counter);

// A stream of numbers: a seed and a position. Its whole state is two integers, so it is
// checkpointed exactly.
struct Generator {
  uint64_t seed = 0;
  uint64_t offset = 0;
  // Reserves n draws and returns the first counter.
  uint64_t take(uint64_t n) {
    uint64_t first = offset;
    offset += n;
    return first;
  }
};

}  // namespace tessera
