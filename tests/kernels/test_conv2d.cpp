// conv2d (im2col + linear, or a single linear for 1×1) and its input gradient (gemm_ab + col2im)
// against the scalar references, on odd and even sizes, strides 1 and 2, kernels 1, 3 and 7,
// symmetric, asymmetric and no padding, one and two threads. See test_conv_util.hpp for the error
// measure.
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

double tolerance(const ConvGeometry& g) { return (g.patch_size() + 8) * double(FLT_EPSILON); }

void check_conv2d(const ConvGeometry& g, int out_channels, std::uint32_t seed) {
  INFO(describe(g) << ", " << out_channels << " outputs");
  const std::vector<float> in = random_vector(g.in_pixels() * g.channels, seed);
  const std::vector<float> w = random_vector(std::size_t(out_channels) * g.patch_size(), seed + 1);
  const std::vector<float> bias = random_vector(out_channels, seed + 2);
  const PackedMatrix packed = PackedMatrix::pack(w.data(), out_channels, g.patch_size());
  const std::size_t out_size = g.out_pixels() * out_channels;
  const std::vector<float> residual = random_vector(out_size, seed + 3);
  std::vector<float> magnitude(out_size);
  conv2d_ref(g, absolute(in).data(), absolute(w).data(), out_channels, absolute(bias).data(),
             Clamp::none(), magnitude.data());
  for (std::size_t i = 0; i < out_size; ++i) magnitude[i] += std::abs(residual[i]);
  for (const float* res : {static_cast<const float*>(nullptr), residual.data()})
    for (Clamp clamp : {Clamp::none(), Clamp::relu()}) {
      const std::vector<float> ref =
          test::conv2d_residual_ref(g, in.data(), w.data(), out_channels, bias.data(), clamp, res);
      for (int threads : {1, 2}) {
        ThreadPool pool(threads);
        std::vector<float> fast(out_size, NAN);
        conv2d(g, in.data(), packed, bias.data(), clamp, fast.data(), &pool, res);
        const auto d = normalised_diff(fast, ref, magnitude);
        INFO("threads " << threads << ", clamp lo " << clamp.lo << (res ? ", residual" : "")
                        << ": worst normalised difference " << d.worst << " at " << d.index
                        << " (fast " << d.fast << ", ref " << d.ref << ")");
        CHECK(d.worst <= tolerance(g));
      }
    }
}

void check_input_grad(const ConvGeometry& g, int out_channels, std::uint32_t seed) {
  INFO(describe(g) << ", " << out_channels << " outputs");
  const std::vector<float> grad_out = random_vector(g.out_pixels() * out_channels, seed);
  const std::vector<float> w = random_vector(std::size_t(out_channels) * g.patch_size(), seed + 1);
  const std::vector<float> initial = random_vector(g.in_pixels() * g.channels, seed + 2);
  std::vector<float> ref = initial, magnitude = absolute(initial);
  conv2d_input_grad_ref(g, grad_out.data(), w.data(), out_channels, ref.data());
  conv2d_input_grad_ref(g, absolute(grad_out).data(), absolute(w).data(), out_channels, magnitude.data());
  for (int threads : {1, 2}) {
    ThreadPool pool(threads);
    std::vector<float> fast = initial;
    conv2d_input_grad(g, grad_out.data(), w.data(), out_channels, fast.data(), &pool);
    const auto d = normalised_diff(fast, ref, magnitude);
    INFO("threads " << threads << ": worst normalised difference " << d.worst << " at " << d.index
                    << " (fast " << d.fast << ", ref " << d.ref << ")");
    const int terms = g.kernel * g.kernel * out_channels;
    CHECK(d.worst <= (terms + 8) * double(FLT_EPSILON));
  }
}

TEST_CASE("conv2d matches the reference for 1x1, 3x3 and 7x7 kernels", "[conv][conv2d]") {
  std::uint32_t seed = 1;
  for (int kernel : {1, 3, 7}) {
    int variant = 0;
    for (const ConvGeometry& g : test::geometries(kernel, {1, 3, 8, 17, 24})) {
      check_conv2d(g, (variant++ % 3) ? 5 : 33, seed);  // output widths below and above a panel
      seed += 3;
    }
  }
}

TEST_CASE("conv2d splits a large im2col into several GEMMs without seams", "[conv][conv2d]") {
  // 7×7×3 patches on a 2×150×150 batch: 45,000 rows of 147 floats exceed one im2col chunk.
  ConvGeometry g;
  g.batch = 2, g.height = 150, g.width = 150, g.channels = 3, g.kernel = 7, g.stride = 2,
  g.pad = {3, 3, 3, 3};
  check_conv2d(g, 16, 77);
}

TEST_CASE("conv2d refuses a weight of the wrong width", "[conv][conv2d]") {
  ConvGeometry g;
  g.height = g.width = 5, g.channels = 4, g.kernel = 3;
  const std::vector<float> w(8 * 35, 0.0f), x(5 * 5 * 4, 0.0f);
  std::vector<float> out(3 * 3 * 8);
  const PackedMatrix packed = PackedMatrix::pack(w.data(), 8, 35);
  CHECK_THROWS_AS(conv2d(g, x.data(), packed, nullptr, Clamp::none(), out.data(), nullptr),
                  std::invalid_argument);
}

TEST_CASE("conv2d_input_grad matches the reference and accumulates", "[conv][conv2d]") {
  std::uint32_t seed = 5000;
  for (int kernel : {1, 3, 7})
    for (const ConvGeometry& g : test::geometries(kernel, {1, 3, 16, 17})) {
      check_input_grad(g, kernel == 7 ? 6 : 19, seed);
      seed += 3;
    }
  ConvGeometry large;  // several chunks
  large.batch = 1, large.height = 130, large.width = 129, large.channels = 3, large.kernel = 7,
  large.stride = 2, large.pad = {3, 3, 3, 3};
  check_input_grad(large, 8, 99);
}

TEST_CASE("col2im_add is the adjoint of im2col", "[conv][conv2d]") {
  std::uint32_t seed = 9000;
  for (int kernel : {1, 3, 5})
    for (const ConvGeometry& g : test::geometries(kernel, {2, 7})) {
      INFO(describe(g));
      const std::int64_t rows = g.out_pixels();
      const std::vector<float> x = random_vector(g.in_pixels() * g.channels, seed++);
      const std::vector<float> y = random_vector(rows * g.patch_size(), seed++);
      std::vector<float> cols(y.size(), NAN), back(x.size(), 0.0f);
      im2col(g, x.data(), 0, rows, cols.data());
      col2im_add(g, y.data(), 0, rows, back.data());
      double lhs = 0, rhs = 0, scale = 0;
      for (std::size_t i = 0; i < y.size(); ++i) lhs += double(cols[i]) * y[i], scale += std::abs(double(cols[i]) * y[i]);
      for (std::size_t i = 0; i < x.size(); ++i) rhs += double(x[i]) * back[i];
      INFO("<im2col x, y> = " << lhs << ", <x, col2im y> = " << rhs);
      CHECK(std::abs(lhs - rhs) <= 1e-5 * (scale + 1));
    }
}

}  // namespace
}  // namespace vitscope::kernels
