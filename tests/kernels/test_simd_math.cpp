// Accuracy of the xsimd functions the kernels rely on (erf for GELU, exp for softmax), measured in
// ulp against the double-precision std:: functions rounded to float.
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

TEST_CASE("xsimd::erf is within 2 ulp of erf on [-10, 10]", "[simd_math]") {
  const UlpError e = measure(
      -10.0f, 10.0f, 2000001, [](const Batch& v) { return xsimd::erf(v); },
      [](double v) { return std::erf(v); });
  INFO("worst " << e.worst << " ulp at x=" << e.at << " (" << kLanes << " lanes)");
  CHECK(e.worst <= 2);
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
