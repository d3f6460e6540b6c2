// softmax_rows against softmax_rows_ref: rows sum to 1, values agree within a few ulp-scaled units.
#include <cfloat>
#include <cmath>
#include <vector>

#include <catch2/catch.hpp>

#include "kernels/kernel_test_util.hpp"
#include "vitscope/kernels/softmax.hpp"
#include "kernels/reference.hpp"

namespace vitscope::kernels {
namespace {

using test::random_vector;

void check_softmax(int rows, int cols, int ld, float spread, float offset) {
  INFO("rows=" << rows << " cols=" << cols << " ld=" << ld << " spread=" << spread
               << " offset=" << offset);
  std::vector<float> x = random_vector(std::size_t(rows) * ld, rows * 131 + cols, -spread, spread);
  for (float& v : x) v += offset;
  std::vector<float> ref = x;
  softmax_rows_ref(ref.data(), rows, cols, ld);

  for (int threads : {1, 2}) {
    INFO("threads=" << threads);
    ThreadPool pool(threads);
    std::vector<float> fast = x;
    softmax_rows(fast.data(), rows, cols, ld, &pool);

    // Probabilities are compared absolutely (attention maps must match PyTorch within 1e-5); the
    // sum of a row relatively to cols rounding steps.
    double worst = 0.0, worst_sum = 0.0;
    int worst_at = 0;
    bool padding_kept = true;
    for (int r = 0; r < rows; ++r) {
      double sum = 0.0;
      for (int j = 0; j < ld; ++j) {
        const std::size_t at = std::size_t(r) * ld + j;
        if (j >= cols) {
          padding_kept = padding_kept && fast[at] == x[at];
          continue;
        }
        sum += fast[at];
        const double d = std::abs(double(fast[at]) - ref[at]);
        if (d > worst) {
          worst = d;
          worst_at = int(at);
        }
      }
      worst_sum = std::max(worst_sum, std::abs(sum - 1.0));
    }
    INFO("worst |fast - ref| " << worst << " at " << worst_at << " (fast " << fast[worst_at]
                               << " ref " << ref[worst_at] << "), worst |row sum - 1| "
                               << worst_sum);
    CHECK(worst <= 4 * FLT_EPSILON);
    CHECK(worst_sum <= (cols + 4) * double(FLT_EPSILON));
    CHECK(padding_kept);
  }
}

TEST_CASE("softmax_rows matches the reference and rows sum to 1", "[softmax]") {
  for (int cols : {1, 2, 7, 16, 17, 197, 385, 1000}) {
    check_softmax(13, cols, cols, 4.0f, 0.0f);
    check_softmax(5, cols, cols + 3, 20.0f, 0.0f);  // strided, wide spread (most exps underflow)
  }
  check_softmax(197, 197, 197, 8.0f, 0.0f);  // one head of attention
  check_softmax(197 * 3, 197, 200, 8.0f, 0.0f);
}

TEST_CASE("softmax_rows subtracts the row maximum", "[softmax]") {
  // exp(100) overflows fp32: only a max-subtracted softmax gives finite results here.
  check_softmax(7, 197, 197, 4.0f, 100.0f);
  check_softmax(7, 33, 33, 4.0f, -100.0f);
}

TEST_CASE("softmax_rows of a constant row is uniform", "[softmax]") {
  std::vector<float> x(3 * 50, 7.5f);
  softmax_rows(x.data(), 3, 50, 50, nullptr);
  for (float v : x) CHECK(v == Approx(1.0f / 50).epsilon(1e-6));
}

}  // namespace
}  // namespace vitscope::kernels
