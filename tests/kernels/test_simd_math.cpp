// Accuracy of the vector functions the kernels rely on (erf for GELU, exp for softmax), measured
// against the double-precision std:: functions.
#include <cmath>
#include <algorithm>
#include <cstdint>
#include <limits>
#include <vector>

#include <catch2/catch.hpp>

#include "kernels/kernel_test_util.hpp"
#include "kernels/simd.hpp"

namespace vitscope::kernels {
namespace {

using simd::Batch;
using simd::kLanes;

struct UlpError {
  std::int64_t worst = 0;
  float at = 0.0f;
};

// Worst ulp distance of f_simd(x) from float(f_exact(x)) over an evenly spaced grid on [lo, hi].
template <class Simd, class Exact>
UlpError measure(float lo, float hi, int points, Simd f_simd, Exact f_exact) {
  std::vector<float> x(static_cast<std::size_t>(points + kLanes - 1) / kLanes * kLanes, hi);
  for (int i = 0; i < points; ++i) x[i] = lo + (hi - lo) * float(i) / float(points - 1);
  std::vector<float> y(x.size());
  for (std::size_t i = 0; i < x.size(); i += kLanes)
    f_simd(xsimd::load_unaligned(&x[i])).store_unaligned(&y[i]);
  UlpError e;
  for (std::size_t i = 0; i < x.size(); ++i) {
    const std::int64_t d = test::ulp_distance(y[i], static_cast<float>(f_exact(double(x[i]))));
    if (d > e.worst) e = UlpError{d, x[i]};
  }
  return e;
}

TEST_CASE("erf_rational is within 3.6e-7 of erf on [-10, 10], and exactly ±1 beyond ±4", "[simd_math]") {
  // GELU's erf: an absolute bound (fp32 rounding of P/Q near |erf| = 1), not an ulp one.
  const int points = 2000001;
  std::vector<float> x(static_cast<std::size_t>(points + kLanes - 1) / kLanes * kLanes, 10.0f);
  for (int i = 0; i < points; ++i) x[i] = -10.0f + 20.0f * float(i) / float(points - 1);
  std::vector<float> y(x.size());
  for (std::size_t i = 0; i < x.size(); i += kLanes)
    simd::erf_rational(xsimd::load_unaligned(&x[i])).store_unaligned(&y[i]);
  double worst = 0.0;
  float worst_at = 0.0f;
  bool saturated = true;
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double d = std::abs(double(y[i]) - std::erf(double(x[i])));
    if (d > worst) {
      worst = d;
      worst_at = x[i];
    }
    if (std::abs(x[i]) >= 4.0f) saturated = saturated && std::abs(y[i]) == 1.0f;
    if (std::abs(y[i]) > 1.0f) saturated = false;
  }
  INFO("worst absolute error " << worst << " at x=" << worst_at << " (" << kLanes << " lanes)");
  CHECK(worst <= 3.6e-7);
  CHECK(worst > 1e-8);  // an approximation is being measured, not std::erf itself
  CHECK(saturated);
}

TEST_CASE("simd::exp is within 2 ulp of exp on [-87, 88]; 0, inf and NaN where they belong", "[simd_math]") {
  // Softmax takes exp of x - max <= 0; the positive side is checked too, the function being general.
  const UlpError e = measure(
      -87.0f, 88.0f, 4000001, [](const Batch& v) { return simd::exp(v); },
      [](double v) { return std::exp(v); });
  INFO("worst " << e.worst << " ulp at x=" << e.at << " (" << kLanes << " lanes)");
  CHECK(e.worst <= 2);
  // Exactly representable inputs around the integers n of x = n·ln 2 + r, where the reduction is
  // most exposed.
  const UlpError near_zero = measure(
      -1.0f, 1.0f, 200001, [](const Batch& v) { return simd::exp(v); }, [](double v) { return std::exp(v); });
  INFO("near 0: worst " << near_zero.worst << " ulp at x=" << near_zero.at);
  CHECK(near_zero.worst <= 2);

  const float inf = std::numeric_limits<float>::infinity();
  const std::vector<float> special = {-inf, -1e30f, -200.0f, -104.0f, -103.0f, -90.0f, 0.0f, 89.0f, 1e30f, inf,
                                      std::numeric_limits<float>::quiet_NaN()};
  std::vector<float> x(static_cast<std::size_t>((special.size() + kLanes - 1) / kLanes * kLanes), 0.0f);
  std::copy(special.begin(), special.end(), x.begin());
  std::vector<float> y(x.size());
  for (std::size_t i = 0; i < x.size(); i += kLanes) simd::exp(xsimd::load_unaligned(&x[i])).store_unaligned(&y[i]);
  CHECK(y[0] == 0.0f);   // −∞: the −∞ padding of softmax's tails must add nothing
  CHECK(y[1] == 0.0f);
  CHECK(y[2] == 0.0f);
  CHECK(y[3] == 0.0f);   // e^−104 is below half the smallest denormal
#if defined(__AVX512F__)
  // The AVX-512 path keeps the denormals (xsimd::exp, elsewhere, flushes below −88.4 to 0).
  CHECK(y[4] > 0.0f);    // e^−103 ≈ 1.4e−45, the smallest denormal
  CHECK(y[5] == Approx(std::exp(-90.0)).epsilon(1e-3));  // a denormal, a few digits
#endif
  CHECK(y[6] == 1.0f);
  CHECK(y[7] == inf);    // e^89 overflows
  CHECK(y[8] == inf);
  CHECK(y[9] == inf);
  CHECK(std::isnan(y[10]));
}

}  // namespace
}  // namespace vitscope::kernels
