#pragma once
// Shared helpers of the kernel tests: seeded random data and error measures.
#include <cmath>
#include <cstring>
#include <cstddef>
#include <cstdint>
#include <random>
#include <vector>

namespace vitscope::kernels::test {

// n floats uniform in [lo, hi), the same for the same seed.
inline std::vector<float> random_vector(std::size_t n, std::uint32_t seed, float lo = -1.0f,
                                        float hi = 1.0f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

// The largest difference between two arrays, and where it is.
struct WorstDiff {
  double diff = 0.0;  // |a[index] - b[index]|, or a normalised form of it
  std::size_t index = 0;
  float a = 0.0f, b = 0.0f;
};

// Units in the last place between two floats of the same sign (large when the signs differ).
inline std::int64_t ulp_distance(float a, float b) {
  auto ordered = [](float x) {
    std::int32_t i;
    static_assert(sizeof(i) == sizeof(x));
    std::memcpy(&i, &x, sizeof(x));
    return i < 0 ? std::int64_t{INT32_MIN} - i : std::int64_t{i};
  };
  const std::int64_t d = ordered(a) - ordered(b);
  return d < 0 ? -d : d;
}

}  // namespace vitscope::kernels::test
