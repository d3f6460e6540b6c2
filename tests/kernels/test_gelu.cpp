// gelu against the erf formula evaluated in double precision, over [-10, 10] and beyond.
#include <cfloat>
#include <algorithm>
#include <cmath>
#include <vector>

#include <catch2/catch.hpp>

#include "kernels/kernel_test_util.hpp"
#include "vitscope/kernels/gelu.hpp"
#include "kernels/reference.hpp"

namespace vitscope::kernels {
namespace {

double gelu_exact(double x) { return 0.5 * x * (1.0 + std::erf(x / std::sqrt(2.0))); }

// Any fp32 evaluation of 0.5 · x · (1 + erf(x/√2)) rounds 1 + erf to a multiple of FLT_EPSILON / 2
// near 1, so for negative x it is off by up to |x| · FLT_EPSILON / 4 whatever erf's accuracy; the
// tolerance allows that and a few ulp of the result on top.
double tolerance(double x, double exact) {
  return 4 * FLT_EPSILON * std::abs(exact) + FLT_EPSILON * std::abs(x) / 2 + 1e-37;
}

// The vector gelu's erf is a rational approximation within 3.6e-7 absolute (test_simd_math.cpp),
// which reaches the result scaled by 0.5 · |x|.
double tolerance_fast(double x, double exact) {
  return tolerance(x, exact) + 0.5 * std::abs(x) * 3.6e-7;
}

TEST_CASE("gelu matches the exact erf GELU over [-10, 10]", "[gelu]") {
  // A dense grid plus the odd tail lengths of every batch width.
  std::vector<float> x;
  for (int i = -200000; i <= 200000; ++i) x.push_back(float(i) * 5e-5f);
  for (float v :
       {-1e4f, -100.0f, -10.0f, -9.5f, -5.0f, -1e-20f, 0.0f, 1e-20f, 5.0f, 10.0f, 100.0f, 1e4f})
    x.push_back(v);

  for (int threads : {1, 2}) {
    INFO("threads=" << threads);
    ThreadPool pool(threads);
    std::vector<float> fast = x, ref = x;
    gelu(fast.data(), fast.size(), &pool);
    gelu_ref(ref.data(), ref.size());
    double worst = 0.0, worst_ref = 0.0;
    std::size_t worst_at = 0;
    for (std::size_t i = 0; i < x.size(); ++i) {
      const double exact = gelu_exact(x[i]);
      const double rel = std::abs(fast[i] - exact) / tolerance_fast(x[i], exact);
      if (rel > worst) {
        worst = rel;
        worst_at = i;
      }
      worst_ref = std::max(worst_ref, std::abs(ref[i] - exact) / tolerance(x[i], exact));
    }
    INFO("worst error / tolerance: fast " << worst << " at x=" << x[worst_at] << " (fast "
                                          << fast[worst_at] << ", exact " << gelu_exact(x[worst_at])
                                          << "), ref " << worst_ref);
    CHECK(worst <= 1.0);
    CHECK(worst_ref <= 1.0);
  }
}

TEST_CASE("gelu handles every tail length", "[gelu]") {
  for (std::size_t n = 0; n <= 40; ++n) {
    INFO("n=" << n);
    const std::vector<float> input = test::random_vector(n + 1, unsigned(n), -6.0f, 6.0f);
    std::vector<float> x = input;
    gelu(x.data(), n, nullptr);
    double worst = 0.0;
    for (std::size_t i = 0; i < n; ++i) {
      const double exact = gelu_exact(input[i]);
      worst = std::max(worst, std::abs(x[i] - exact) / tolerance_fast(input[i], exact));
    }
    INFO("worst error / tolerance " << worst);
    CHECK(worst <= 1.0);
    CHECK(x[n] == input[n]);  // one past the end is not touched
  }
}

TEST_CASE("gelu limits: identity for large x, zero for very negative x", "[gelu]") {
  std::vector<float> x = {10.0f, 50.0f, -10.0f, -50.0f, INFINITY, -INFINITY};
  gelu(x.data(), x.size(), nullptr);
  CHECK(x[0] == 10.0f);
  CHECK(x[1] == 50.0f);
  CHECK(std::abs(x[2]) < 1e-20f);
  CHECK(x[3] == 0.0f);
  CHECK(x[4] == INFINITY);
  CHECK(std::isnan(x[5]));  // -inf · (1 + erf(-inf)) = -inf · 0, as in PyTorch
}

}  // namespace
}  // namespace vitscope::kernels
