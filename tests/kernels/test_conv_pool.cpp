// Max pooling (forward against the reference, exactly; gradient routing against finite
// differences and PyTorch's first-maximum rule), global average pooling, and the element-wise
// clamps with their derivative.
#include <cmath>
#include <numeric>
#include <vector>

#include <catch2/catch.hpp>

#include "kernels/kernel_test_util.hpp"
#include "kernels/test_conv_util.hpp"
#include "vitscope/kernels/conv.hpp"
#include "kernels/reference.hpp"

namespace vitscope::kernels {
namespace {

using test::describe;
using test::random_vector;

TEST_CASE("max_pool equals the reference exactly", "[conv][pool]") {
  std::uint32_t seed = 1;
  for (int kernel : {2, 3})
    for (const ConvGeometry& g : test::geometries(kernel, {1, 5, 16, 24, 64})) {
      if (g.pad.top >= kernel || g.pad.bottom >= kernel) continue;  // a window of padding only
      INFO(describe(g));
      const std::vector<float> in = random_vector(g.in_pixels() * g.channels, seed++);
      std::vector<float> ref(g.out_pixels() * g.channels), fast(ref.size(), NAN);
      max_pool_ref(g, in.data(), ref.data());
      for (int threads : {1, 2}) {
        ThreadPool pool(threads);
        max_pool(g, in.data(), fast.data(), &pool);
        CHECK(fast == ref);
      }
    }
}

TEST_CASE("max_pool_input_grad is the derivative of the pooled sum", "[conv][pool]") {
  // With distinct inputs, moving x[i] by δ changes Σ grad_out · max_pool(x) by δ · grad_in[i].
  ConvGeometry g;
  g.batch = 2, g.height = 7, g.width = 6, g.channels = 3, g.kernel = 3, g.stride = 2, g.pad = {1, 1, 1, 1};
  const std::vector<float> x = random_vector(g.in_pixels() * g.channels, 11);
  const std::vector<float> grad_out = random_vector(g.out_pixels() * g.channels, 12);
  std::vector<float> grad(x.size(), 0.0f);
  max_pool_input_grad(g, x.data(), grad_out.data(), grad.data());
  auto objective = [&](const std::vector<float>& input) {
    std::vector<float> out(grad_out.size());
    max_pool_ref(g, input.data(), out.data());
    double sum = 0;
    for (std::size_t i = 0; i < out.size(); ++i) sum += double(out[i]) * grad_out[i];
    return sum;
  };
  const double base = objective(x);
  const float delta = 1e-4f;  // well below the gap between neighbouring random values
  double worst = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    std::vector<float> moved = x;
    moved[i] += delta;
    const double numeric = (objective(moved) - base) / (double(moved[i]) - x[i]);
    worst = std::max(worst, std::abs(numeric - grad[i]));
  }
  INFO("worst |finite difference - routed gradient| = " << worst);
  CHECK(worst <= 1e-3);
}

TEST_CASE("max_pool_input_grad routes a tie to the first maximum in scan order", "[conv][pool]") {
  ConvGeometry g;
  g.height = 3, g.width = 3, g.channels = 1, g.kernel = 3, g.stride = 1;
  const std::vector<float> x = {0, 1, 0, 2, 0, 2, 1, 2, 0};  // maximum 2 at (1,0), (1,2), (2,1)
  const std::vector<float> grad_out = {5};
  std::vector<float> grad(9, 0.0f);
  max_pool_input_grad(g, x.data(), grad_out.data(), grad.data());
  CHECK(grad == std::vector<float>{0, 0, 0, 5, 0, 0, 0, 0, 0});
}

TEST_CASE("global_average_pool takes the mean of every channel", "[conv][pool]") {
  for (int channels : {1, 7, 16, 33}) {
    const int batch = 2, pixels = 49;
    const std::vector<float> x = random_vector(std::size_t(batch) * pixels * channels, channels);
    std::vector<float> out(std::size_t(batch) * channels);
    global_average_pool(x.data(), batch, pixels, channels, out.data());
    for (int b = 0; b < batch; ++b)
      for (int c = 0; c < channels; ++c) {
        double sum = 0;
        for (int p = 0; p < pixels; ++p) sum += x[(std::size_t(b) * pixels + p) * channels + c];
        CHECK(out[std::size_t(b) * channels + c] == Approx(sum / pixels).margin(1e-6));
      }
  }
}

TEST_CASE("clamps, residual additions and the clamp derivative", "[conv][elementwise]") {
  const std::size_t n = 100003;  // several threads' worth plus a ragged tail
  std::vector<float> a = random_vector(n, 1, -8.0f, 8.0f), b = random_vector(n, 2, -8.0f, 8.0f);
  ThreadPool pool(2);
  std::vector<float> clamped = a;
  clamp_inplace(clamped.data(), n, Clamp::relu6(), &pool);
  std::vector<float> sum(n);
  add_clamp(a.data(), b.data(), n, Clamp::relu(), sum.data(), &pool);
  std::vector<float> grad(n, 1.0f);
  clamp_backward_inplace(clamped.data(), n, Clamp::relu6(), grad.data());
  for (std::size_t i = 0; i < n; ++i) {
    REQUIRE(clamped[i] == std::min(std::max(a[i], 0.0f), 6.0f));
    REQUIRE(sum[i] == std::max(a[i] + b[i], 0.0f));
    REQUIRE(grad[i] == ((a[i] > 0 && a[i] < 6) ? 1.0f : 0.0f));
  }
}

}  // namespace
}  // namespace vitscope::kernels
