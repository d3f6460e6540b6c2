// The backward kernels (LayerNorm, GELU, softmax) against central finite differences of their
// forward functions computed in double, on odd sizes; and the unpacking of packed weights.
#include <cmath>
#include <vector>

#include <catch2/catch.hpp>

#include "kernels/kernel_test_util.hpp"
#include "vitscope/kernels/backward.hpp"
#include "vitscope/kernels/linear.hpp"

namespace vitscope::kernels {
namespace {

using test::random_vector;

constexpr int kSizes[] = {1, 7, 17, 197, 385};
constexpr double kStep = 1e-5;       // of the central difference, in double
constexpr double kTolerance = 2e-5;  // relative to the largest |gradient| (float32 results)

double max_abs(const std::vector<double>& v) {
  double m = 0;
  for (double x : v) m = std::max(m, std::abs(x));
  return m;
}

// Σ_j dy_j · layernorm(x)_j for one row, in double.
double layernorm_dot(const std::vector<double>& x, const std::vector<float>& gamma,
                     const std::vector<float>& dy, double eps) {
  const int n = static_cast<int>(x.size());
  double mean = 0, var = 0;
  for (double v : x) mean += v;
  mean /= n;
  for (double v : x) var += (v - mean) * (v - mean);
  var /= n;
  double dot = 0;
  for (int j = 0; j < n; ++j) dot += dy[j] * ((x[j] - mean) / std::sqrt(var + eps) * gamma[j]);
  return dot;
}

}  // namespace

TEST_CASE("layernorm_backward equals finite differences", "[kernels][backward]") {
  const double eps = 1e-6;
  for (int cols : kSizes) {
    INFO("cols=" << cols);
    const std::vector<float> xf = random_vector(cols, cols, -2.0f, 3.0f);
    const std::vector<float> gamma = random_vector(cols, cols + 1, 0.5f, 1.5f);
    const std::vector<float> dy = random_vector(cols, cols + 2);
    std::vector<double> x(xf.begin(), xf.end());
    double mean = 0, var = 0;
    for (double v : x) mean += v;
    mean /= cols;
    for (double v : x) var += (v - mean) * (v - mean);
    var /= cols;
    const float rstd = static_cast<float>(1 / std::sqrt(var + eps));
    std::vector<float> xhat(cols);
    for (int j = 0; j < cols; ++j) xhat[j] = static_cast<float>((x[j] - mean) * rstd);
    std::vector<float> dx(cols, 1.0f);
    layernorm_backward(dy.data(), xhat.data(), &rstd, gamma.data(), 1, cols, dx.data(), true);  // += onto 1
    std::vector<double> expected(cols);
    for (int j = 0; j < cols; ++j) {
      std::vector<double> up = x, down = x;
      up[j] += kStep;
      down[j] -= kStep;
      expected[j] = (layernorm_dot(up, gamma, dy, eps) - layernorm_dot(down, gamma, dy, eps)) / (2 * kStep);
    }
    const double scale = std::max(max_abs(expected), 1e-3);
    for (int j = 0; j < cols; ++j) REQUIRE(std::abs(dx[j] - 1.0 - expected[j]) <= kTolerance * scale + 1e-6);
  }
}

TEST_CASE("gelu_backward equals finite differences of x·Φ(x)", "[kernels][backward]") {
  for (int n : kSizes) {
    INFO("n=" << n);
    const std::vector<float> x = random_vector(n, n, -6.0f, 6.0f);
    const std::vector<float> dy0 = random_vector(n, n + 1);
    std::vector<float> dy = dy0;
    gelu_backward(x.data(), dy.data(), n);
    auto gelu = [](double v) { return 0.5 * v * (1 + std::erf(v / std::sqrt(2.0))); };
    for (int i = 0; i < n; ++i) {
      const double derivative = (gelu(x[i] + kStep) - gelu(x[i] - kStep)) / (2 * kStep);
      REQUIRE(std::abs(dy[i] - dy0[i] * derivative) <= 1e-5 * std::max(1.0, std::abs(dy0[i] * derivative)));
    }
  }
}

TEST_CASE("softmax_backward equals finite differences", "[kernels][backward]") {
  for (int cols : kSizes) {
    INFO("cols=" << cols);
    const int rows = 3;
    const std::vector<float> s = random_vector(static_cast<std::size_t>(rows) * cols, cols, -4.0f, 4.0f);
    const std::vector<float> dp0 = random_vector(s.size(), cols + 7);
    auto softmax_dot = [&](const std::vector<double>& row, int r) {
      double m = row[0], z = 0, dot = 0;
      for (double v : row) m = std::max(m, v);
      for (double v : row) z += std::exp(v - m);
      for (int j = 0; j < cols; ++j) dot += dp0[r * cols + j] * std::exp(row[j] - m) / z;
      return dot;
    };
    std::vector<float> p(s.size()), dp = dp0;
    for (int r = 0; r < rows; ++r) {
      std::vector<double> row(s.begin() + r * cols, s.begin() + (r + 1) * cols);
      double m = row[0], z = 0;
      for (double v : row) m = std::max(m, v);
      for (double v : row) z += std::exp(v - m);
      for (int j = 0; j < cols; ++j) p[r * cols + j] = static_cast<float>(std::exp(row[j] - m) / z);
    }
    softmax_backward(p.data(), dp.data(), rows, cols);
    for (int r = 0; r < rows; ++r) {
      std::vector<double> expected(cols);
      std::vector<double> row(s.begin() + r * cols, s.begin() + (r + 1) * cols);
      for (int j = 0; j < cols; ++j) {
        std::vector<double> up = row, down = row;
        up[j] += kStep;
        down[j] -= kStep;
        expected[j] = (softmax_dot(up, r) - softmax_dot(down, r)) / (2 * kStep);
      }
      const double scale = std::max(max_abs(expected), 1e-3);
      for (int j = 0; j < cols; ++j) REQUIRE(std::abs(dp[r * cols + j] - expected[j]) <= kTolerance * scale + 1e-7);
    }
  }
}

TEST_CASE("packed fp32 weights unpack to the matrix they were packed from", "[kernels][backward]") {
  for (int n : kSizes)
    for (int k : {1, 17, 385}) {
      INFO("n=" << n << " k=" << k);
      const std::vector<float> b = random_vector(static_cast<std::size_t>(n) * (k + 3), n * 31 + k);
      const LinearWeights w = LinearWeights::pack(b.data(), n, k, k + 3, Precision::Fp32);
      const std::vector<float> unpacked = w.unpack();
      REQUIRE(unpacked.size() == static_cast<std::size_t>(n) * k);
      for (int i = 0; i < n; ++i)
        for (int j = 0; j < k; ++j) REQUIRE(unpacked[static_cast<std::size_t>(i) * k + j] == b[static_cast<std::size_t>(i) * (k + 3) + j]);
    }
  const std::vector<float> b = random_vector(64, 1);
  CHECK_THROWS_AS(LinearWeights::pack(b.data(), 8, 8, 8, Precision::Bf16).unpack(), std::logic_error);
}

}  // namespace vitscope::kernels
