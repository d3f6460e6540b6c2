// conv2d_winograd (F(2×2, 3×3) and F(4×4, 3×3)) against the scalar direct convolution, on odd and even sizes
// (1 to 17 pixels, tiles cut by the edge), every padding of test_conv_util.hpp, channel counts
// below, at and above a SIMD vector, batches of 1 and 2, one and two threads.
//
// Tolerance: the direct convolution's, (K + 8)·ε in the error measure of test_conv_util.hpp
// (difference over the sum of |terms|), times a factor per variant. The transforms rearrange the
// sum (each output reads several transformed positions, each a channel sum of products of
// combinations of inputs and weights): measured on these cases, F(2×2)'s worst difference stays
// under a quarter of the direct tolerance (factor 1), F(4×4)'s, whose transforms multiply by up
// to 8, reaches 1.5 times it (factor 4). A missing or misplaced input is off by a whole term,
// about 1/K of the magnitude, far above either.
#include <cfloat>
#include <vector>

#include <catch2/catch.hpp>

#include "kernels/kernel_test_util.hpp"
#include "kernels/reference.hpp"
#include "kernels/test_conv_util.hpp"
#include "vitscope/kernels/conv_winograd.hpp"

namespace vitscope::kernels {
namespace {

using test::absolute;
using test::describe;
using test::normalised_diff;
using test::random_vector;

// Multiples of the direct convolution's tolerance, per output tile side.
double rearrangement_factor(int tile) { return tile == 2 ? 1.0 : 4.0; }

void check_winograd(const ConvGeometry& g, int out_channels, int tile, std::uint32_t seed,
                    bool with_bias = true) {
  INFO(describe(g) << ", " << out_channels << " outputs, F(" << tile << "x" << tile << ",3x3)"
                   << (with_bias ? "" : ", no bias"));
  REQUIRE(winograd_applies(g));
  const std::vector<float> in = random_vector(g.in_pixels() * g.channels, seed);
  const std::vector<float> w = random_vector(std::size_t(out_channels) * g.patch_size(), seed + 1);
  const std::vector<float> bias =
      with_bias ? random_vector(out_channels, seed + 2) : std::vector<float>(out_channels, 0.0f);
  const float* bias_given = with_bias ? bias.data() : nullptr;
  const WinogradWeights packed = WinogradWeights::pack(w.data(), out_channels, g.channels, tile);
  REQUIRE(packed.transformed.size() == std::size_t((tile + 2) * (tile + 2)));
  const std::size_t out_size = g.out_pixels() * out_channels;
  const std::vector<float> residual = random_vector(out_size, seed + 3);
  std::vector<float> magnitude(out_size);
  conv2d_ref(g, absolute(in).data(), absolute(w).data(), out_channels, absolute(bias).data(),
             Clamp::none(), magnitude.data());
  for (std::size_t i = 0; i < out_size; ++i) magnitude[i] += std::abs(residual[i]);
  const double tolerance = rearrangement_factor(tile) * (g.patch_size() + 8) * double(FLT_EPSILON);
  for (const float* res : {static_cast<const float*>(nullptr), residual.data()})
    for (Clamp clamp : {Clamp::none(), Clamp::relu(), Clamp::relu6()}) {
      const std::vector<float> ref =
          test::conv2d_residual_ref(g, in.data(), w.data(), out_channels, bias.data(), clamp, res);
      for (int threads : {1, 2}) {
        ThreadPool pool(threads);
        std::vector<float> fast(out_size, NAN);
        conv2d_winograd(g, in.data(), packed, bias_given, clamp, fast.data(), &pool, res);
        const auto d = normalised_diff(fast, ref, magnitude);
        INFO("threads " << threads << ", clamp [" << clamp.lo << ", " << clamp.hi << "]"
                        << (res ? ", residual" : "") << ": worst normalised difference " << d.worst
                        << " at " << d.index << " (fast " << d.fast << ", ref " << d.ref
                        << "), tolerance " << tolerance);
        CHECK(d.worst <= tolerance);
      }
    }
}

TEST_CASE("Winograd F(2x2,3x3) and F(4x4,3x3) match the direct convolution", "[conv][winograd]") {
  for (int tile : {2, 4}) {
    std::uint32_t seed = 300;
    int variant = 0;
    for (const ConvGeometry& g : test::geometries(3, {1, 7, 16, 17})) {
      if (g.stride != 1) continue;
      const int outputs[] = {1, 7, 17, 33};
      check_winograd(g, outputs[variant++ % 4], tile, seed);
      seed += 3;
    }
  }
}

TEST_CASE("Winograd over many chunks and threads", "[conv][winograd]") {
  // 2 × 29 × 31 outputs: 480 2×2 tiles (128 4×4 ones), several chunks per thread; channels past one
  // vector with a tail.
  ConvGeometry g;
  g.batch = 2, g.height = 29, g.width = 31, g.channels = 37, g.kernel = 3, g.stride = 1,
  g.pad = {1, 1, 1, 1};
  for (int tile : {2, 4}) {
    check_winograd(g, 70, tile, 17);
    check_winograd(g, 3, tile, 18, /*with_bias=*/false);  // the CNN loaders always pass one
  }
}

TEST_CASE("Winograd's tile size follows the layer's width", "[conv][winograd]") {
  CHECK(winograd_tile_for(64, 64) == 4);
  CHECK(winograd_tile_for(128, 128) == 4);
  CHECK(winograd_tile_for(128, 256) == 2);
  CHECK(winograd_tile_for(512, 512) == 2);
}

TEST_CASE("Winograd refuses what it does not compute", "[conv][winograd]") {
  ConvGeometry g;
  g.height = g.width = 8, g.channels = 4, g.kernel = 3, g.stride = 2;
  CHECK_FALSE(winograd_applies(g));
  const std::vector<float> w(9 * 4 * 2, 0.0f), x(8 * 8 * 4, 0.0f);
  std::vector<float> out(4 * 4 * 2);
  const WinogradWeights packed = WinogradWeights::pack(w.data(), 2, 4, 2);
  CHECK_THROWS_AS(conv2d_winograd(g, x.data(), packed, nullptr, Clamp::none(), out.data(), nullptr),
                  std::invalid_argument);
  g.stride = 1, g.channels = 5;  // weights made for 4 channels
  CHECK_THROWS_AS(conv2d_winograd(g, x.data(), packed, nullptr, Clamp::none(), out.data(), nullptr),
                  std::invalid_argument);
  CHECK_THROWS_AS(WinogradWeights::pack(w.data(), 0, 4, 2), std::invalid_argument);
  CHECK_THROWS_AS(WinogradWeights::pack(w.data(), 2, 4, 3), std::invalid_argument);
}

}  // namespace
}  // namespace vitscope::kernels
