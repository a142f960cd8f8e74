// Counter-based random numbers (see random.h).
#include "base/random.h"

#include <cmath>

namespace tessera {

uint64_t random_bits(uint64_t seed, uint64_t counter) {
  uint64_t z = seed * 0x9E3779B97F4A7C15ull + counter * 0xD1B54A32D192ED03ull + 0x632BE59BD9B4E019ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

float random_uniform(uint64_t seed, uint64_t counter) {
  return static_cast<float>(random_bits(seed, counter) >> 40) * (1.0f / 16777216.0f);
}

float random_normal(uint64_t seed, uint64_t counter) {
  float u1 = random_uniform(seed, 2 * counter);
  float u2 = random_uniform(seed, 2 * counter + 1);
  double r = std::sqrt(-2.0 * std::log(1.0 - static_cast<double>(u1)));
  return static_cast<float>(r * std::cos(2.0 * M_PI * static_cast<double>(u2)));
}

}  // namespace tessera
