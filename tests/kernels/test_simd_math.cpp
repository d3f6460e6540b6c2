// Accuracy of the vector functions the kernels rely on (erf for GELU, exp for softmax), measured
// against the double-precision std:: functions.
#include <cmath>
#include <cstdint>
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

TEST_CASE("xsimd::exp is within 2 ulp of exp on [-88, 0]", "[simd_math]") {
  // Softmax only takes exp of x - max <= 0.
  const UlpError e = measure(
      -87.0f, 0.0f, 2000001, [](const Batch& v) { return xsimd::exp(v); },
      [](double v) { return std::exp(v); });
  INFO("worst " << e.worst << " ulp at x=" << e.at << " (" << kLanes << " lanes)");
  CHECK(e.worst <= 2);
}

}  // namespace
}  // namespace vitscope::kernels
