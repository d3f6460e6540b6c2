// depthwise_conv3x3 and its input gradient against the scalar references: odd and even sizes,
// strides 1 and 2, symmetric, asymmetric and no padding, channel counts below, at and above one
// SIMD batch (with ragged tails), one and two threads. See test_conv_util.hpp for the error measure.
#include <cfloat>
#include <vector>

#include <catch2/catch.hpp>

#include "kernels/kernel_test_util.hpp"
#include "kernels/test_conv_util.hpp"
#include "vitscope/kernels/conv.hpp"
#include "kernels/reference.hpp"

namespace vitscope::kernels {
namespace {

using test::absolute;
using test::describe;
using test::normalised_diff;
using test::random_vector;

const std::vector<int> kChannels = {1, 3, 8, 16, 17, 24, 40, 64};
constexpr double kTolerance = 12 * FLT_EPSILON;  // ≤ 10 terms (9 taps + bias) plus slack

TEST_CASE("depthwise_conv3x3 matches the reference", "[conv][depthwise]") {
  int seed = 1;
  for (const ConvGeometry& g : test::geometries(3, kChannels)) {
    INFO(describe(g));
    const std::vector<float> in = random_vector(g.in_pixels() * g.channels, seed++);
    const std::vector<float> w = random_vector(9 * g.channels, seed++);
    const std::vector<float> bias = random_vector(g.channels, seed++);
    const std::size_t out_size = g.out_pixels() * g.channels;
    std::vector<float> magnitude(out_size);
    depthwise_conv3x3_ref(g, absolute(in).data(), absolute(w).data(), absolute(bias).data(),
                          Clamp::none(), magnitude.data());
    for (Clamp clamp : {Clamp::none(), Clamp::relu6()}) {
      std::vector<float> ref(out_size);
      depthwise_conv3x3_ref(g, in.data(), w.data(), bias.data(), clamp, ref.data());
      for (int threads : {1, 2}) {
        ThreadPool pool(threads);
        std::vector<float> fast(out_size, NAN);
        depthwise_conv3x3(g, in.data(), w.data(), bias.data(), clamp, fast.data(), &pool);
        const auto d = normalised_diff(fast, ref, magnitude);
        INFO("threads " << threads << ", clamp [" << clamp.lo << ", " << clamp.hi
                        << "]: worst normalised difference " << d.worst << " at " << d.index
                        << " (fast " << d.fast << ", ref " << d.ref << ")");
        CHECK(d.worst <= kTolerance);
      }
    }
  }
}

TEST_CASE("depthwise_conv3x3 without bias adds nothing", "[conv][depthwise]") {
  ConvGeometry g;
  g.height = 5, g.width = 6, g.channels = 20, g.kernel = 3, g.stride = 1, g.pad = {1, 1, 1, 1};
  const std::vector<float> in = random_vector(g.in_pixels() * g.channels, 7);
  const std::vector<float> w = random_vector(9 * g.channels, 8);
  std::vector<float> fast(g.out_pixels() * g.channels), ref(fast.size());
  depthwise_conv3x3(g, in.data(), w.data(), nullptr, Clamp::none(), fast.data(), nullptr);
  depthwise_conv3x3_ref(g, in.data(), w.data(), nullptr, Clamp::none(), ref.data());
  std::vector<float> magnitude(fast.size());
  depthwise_conv3x3_ref(g, absolute(in).data(), absolute(w).data(), nullptr, Clamp::none(), magnitude.data());
  CHECK(normalised_diff(fast, ref, magnitude).worst <= kTolerance);
}

TEST_CASE("depthwise_conv3x3 refuses other kernel sizes", "[conv][depthwise]") {
  ConvGeometry g;
  g.height = g.width = 8, g.channels = 4, g.kernel = 5;
  std::vector<float> x(8 * 8 * 4), w(25 * 4), out(x.size());
  CHECK_THROWS_AS(depthwise_conv3x3(g, x.data(), w.data(), nullptr, Clamp::none(), out.data(), nullptr),
                  std::invalid_argument);
}

TEST_CASE("depthwise_conv3x3_input_grad matches the reference and accumulates", "[conv][depthwise]") {
  int seed = 1000;
  for (const ConvGeometry& g : test::geometries(3, kChannels)) {
    INFO(describe(g));
    const std::vector<float> grad_out = random_vector(g.out_pixels() * g.channels, seed++);
    const std::vector<float> w = random_vector(9 * g.channels, seed++);
    const std::vector<float> initial = random_vector(g.in_pixels() * g.channels, seed++);
    std::vector<float> fast = initial, ref = initial, magnitude = absolute(initial);
    depthwise_conv3x3_input_grad(g, grad_out.data(), w.data(), fast.data());
    depthwise_conv3x3_input_grad_ref(g, grad_out.data(), w.data(), ref.data());
    depthwise_conv3x3_input_grad_ref(g, absolute(grad_out).data(), absolute(w).data(), magnitude.data());
    const auto d = normalised_diff(fast, ref, magnitude);
    INFO("worst normalised difference " << d.worst << " at " << d.index << " (fast " << d.fast
                                        << ", ref " << d.ref << ")");
    CHECK(d.worst <= kTolerance);
  }
}

TEST_CASE("the depthwise input gradient is the adjoint of the convolution", "[conv][depthwise]") {
  // <conv(x), y> = <x, convᵀ(y)> for any x, y: checks the reference pair against each other.
  int seed = 2000;
  for (const ConvGeometry& g : test::geometries(3, {5, 16})) {
    INFO(describe(g));
    const std::vector<float> x = random_vector(g.in_pixels() * g.channels, seed++);
    const std::vector<float> y = random_vector(g.out_pixels() * g.channels, seed++);
    const std::vector<float> w = random_vector(9 * g.channels, seed++);
    std::vector<float> cx(y.size()), cty(x.size(), 0.0f);
    depthwise_conv3x3(g, x.data(), w.data(), nullptr, Clamp::none(), cx.data(), nullptr);
    depthwise_conv3x3_input_grad(g, y.data(), w.data(), cty.data());
    double lhs = 0, rhs = 0, scale = 0;
    for (std::size_t i = 0; i < y.size(); ++i) lhs += double(cx[i]) * y[i], scale += std::abs(double(cx[i]) * y[i]);
    for (std::size_t i = 0; i < x.size(); ++i) rhs += double(x[i]) * cty[i];
    INFO("<conv x, y> = " << lhs << ", <x, conv^T y> = " << rhs);
    CHECK(std::abs(lhs - rhs) <= 1e-5 * (scale + 1));
  }
}

}  // namespace
}  // namespace vitscope::kernels
