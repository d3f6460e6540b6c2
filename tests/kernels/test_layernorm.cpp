// layernorm against layernorm_ref (which sums in double), including rows whose large common offset
// defeats the one-pass E[x²] - E[x]² formula.
#include <cfloat>
#include <cmath>
#include <vector>

#include <catch2/catch.hpp>

#include "kernels/kernel_test_util.hpp"
#include "vitscope/kernels/layernorm.hpp"
#include "kernels/reference.hpp"

namespace vitscope::kernels {
namespace {

using test::random_vector;

void check_layernorm(int rows, int cols, int pad, float offset, float scale, bool in_place) {
  INFO("rows=" << rows << " cols=" << cols << " pad=" << pad << " offset=" << offset
               << " scale=" << scale << (in_place ? " in place" : ""));
  const int ld = cols + pad;
  const float eps = 1e-6f;
  std::vector<float> x = random_vector(std::size_t(rows) * ld, rows * 17 + cols, -scale, scale);
  for (float& v : x) v += offset;
  const std::vector<float> gamma = random_vector(cols, cols, 0.5f, 1.5f);
  const std::vector<float> beta = random_vector(cols, cols + 1, -0.5f, 0.5f);
  std::vector<float> ref(x.size(), 0.0f);
  layernorm_ref(x.data(), ld, ref.data(), ld, rows, cols, gamma.data(), beta.data(), eps);

  for (int threads : {1, 2}) {
    INFO("threads=" << threads);
    ThreadPool pool(threads);
    std::vector<float> fast = in_place ? x : std::vector<float>(x.size(), 0.0f);
    layernorm(in_place ? fast.data() : x.data(), ld, fast.data(), ld, rows, cols, gamma.data(),
              beta.data(), eps, &pool);
    double worst = 0.0;
    int worst_at = 0;
    for (int r = 0; r < rows; ++r)
      for (int j = 0; j < cols; ++j) {
        const std::size_t at = std::size_t(r) * ld + j;
        const double d = std::abs(double(fast[at]) - ref[at]);
        if (d > worst || std::isnan(fast[at])) {
          worst = std::isnan(fast[at]) ? INFINITY : d;
          worst_at = int(at);
        }
      }
    INFO("worst |fast - ref| " << worst << " at " << worst_at << " (fast " << fast[worst_at]
                               << " ref " << ref[worst_at] << ")");
    // Normalised outputs are O(1); the rounding of the offset itself (ulp(offset) / std) bounds how
    // well any fp32 computation can centre a row.
    const double centring = std::abs(offset) * FLT_EPSILON / scale;
    const double tolerance = 16 * FLT_EPSILON + 4 * centring;
    CHECK(worst <= tolerance);
  }
}

TEST_CASE("layernorm matches the reference on odd widths, strided and in place", "[layernorm]") {
  for (int cols : {1, 7, 17, 192, 197, 385, 768}) {
    check_layernorm(11, cols, 0, 0.0f, 1.0f, false);
    check_layernorm(6, cols, 5, 0.0f, 3.0f, true);
  }
  check_layernorm(197, 192, 0, 0.0f, 2.0f, false);  // DeiT-Tiny tokens
  check_layernorm(394, 768, 0, 0.0f, 2.0f, true);   // ViT-Base, batch of 2
}

TEST_CASE("layernorm is two-pass: rows with a large mean offset keep their precision",
          "[layernorm]") {
  // A one-pass variance E[x²] - E[x]² at offset 1000 and spread 0.01 loses every significant digit
  // (x² ≈ 1e6, variance ≈ 3e-5); the two-pass form keeps the result to the ulp(offset) limit.
  check_layernorm(9, 192, 0, 1000.0f, 0.01f, false);
  check_layernorm(9, 197, 3, -300.0f, 0.1f, true);
  check_layernorm(9, 768, 0, 50.0f, 1.0f, false);
}

TEST_CASE("layernorm of a constant row is beta (eps keeps it finite)", "[layernorm]") {
  const int cols = 40;
  std::vector<float> x(cols, 3.0f), out(cols);
  const std::vector<float> gamma(cols, 2.0f), beta = random_vector(cols, 5);
  layernorm(x.data(), cols, out.data(), cols, 1, cols, gamma.data(), beta.data(), 1e-6f, nullptr);
  for (int j = 0; j < cols; ++j) CHECK(out[j] == beta[j]);
}

}  // namespace
}  // namespace vitscope::kernels
