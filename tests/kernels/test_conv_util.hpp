#pragma once
// Shared by the convolution kernel tests: NHWC geometries worth trying, and the comparison of a
// fast result with its reference relative to the magnitudes summed.
//
// Error measure: per element, |fast − ref| / (Σ |terms| + |initial value|), with Σ |terms| the same
// operation applied to |inputs| and |weights|. Both sides are within K·u of the exact value times
// that sum (u = FLT_EPSILON / 2, K terms), so they may differ by K·FLT_EPSILON; an indexing or
// padding bug is off by at least one whole term.
#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstddef>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "kernels/reference.hpp"
#include "vitscope/kernels/conv.hpp"

namespace vitscope::kernels::test {

struct NormalisedDiff {
  double worst = 0.0;
  std::size_t index = 0;
  float fast = 0.0f, ref = 0.0f;
};

inline NormalisedDiff normalised_diff(const std::vector<float>& fast, const std::vector<float>& ref,
                                      const std::vector<float>& magnitude) {
  REQUIRE(fast.size() == ref.size());
  REQUIRE(fast.size() == magnitude.size());
  NormalisedDiff d;
  for (std::size_t i = 0; i < fast.size(); ++i) {
    const double diff = std::abs(double(fast[i]) - double(ref[i])) / (double(magnitude[i]) + 1e-30);
    if (diff > d.worst || std::isnan(fast[i])) d = {std::isnan(fast[i]) ? INFINITY : diff, i, fast[i], ref[i]};
  }
  return d;
}

inline std::vector<float> absolute(std::vector<float> v) {
  for (float& x : v) x = std::abs(x);
  return v;
}

// conv2d_ref followed by a residual added before the clamp (residual null: conv2d_ref alone).
inline std::vector<float> conv2d_residual_ref(const ConvGeometry& g, const float* in, const float* weight,
                                              int out_channels, const float* bias, Clamp clamp,
                                              const float* residual);

inline std::string describe(const ConvGeometry& g) {
  return "batch " + std::to_string(g.batch) + ", input " + std::to_string(g.height) + "x" +
         std::to_string(g.width) + "x" + std::to_string(g.channels) + ", kernel " +
         std::to_string(g.kernel) + ", stride " + std::to_string(g.stride) + ", pad t" +
         std::to_string(g.pad.top) + " l" + std::to_string(g.pad.left) + " b" +
         std::to_string(g.pad.bottom) + " r" + std::to_string(g.pad.right);
}

// Every combination of: odd and even sizes (some non-square), both strides, symmetric, asymmetric
// (TensorFlow "same") and no padding, and the given channel counts, for a kernel of size k.
inline std::vector<ConvGeometry> geometries(int kernel, const std::vector<int>& channel_counts) {
  std::vector<ConvGeometry> out;
  const std::vector<Padding2d> pads = {
      {0, 0, 0, 0}, {kernel / 2, kernel / 2, kernel / 2, kernel / 2}, {0, 0, 1, 1}, {1, 0, 2, 1}};
  int variant = 0;
  for (int size : {1, 2, 7, 8, 17})
    for (int stride : {1, 2})
      for (const Padding2d& pad : pads)
        for (int channels : channel_counts) {
          ConvGeometry g;
          g.batch = 1 + variant % 2;
          g.height = size;
          g.width = size + (variant % 3 == 0 ? 3 : 0);
          g.channels = channels;
          g.kernel = kernel;
          g.stride = stride;
          g.pad = pad;
          ++variant;
          if (g.height + pad.top + pad.bottom < kernel || g.width + pad.left + pad.right < kernel)
            continue;
          out.push_back(g);
        }
  return out;
}

inline std::vector<float> conv2d_residual_ref(const ConvGeometry& g, const float* in, const float* weight,
                                              int out_channels, const float* bias, Clamp clamp,
                                              const float* residual) {
  std::vector<float> out(g.out_pixels() * out_channels);
  conv2d_ref(g, in, weight, out_channels, bias, residual ? Clamp::none() : clamp, out.data());
  if (residual)
    for (std::size_t i = 0; i < out.size(); ++i) out[i] = std::min(std::max(out[i] + residual[i], clamp.lo), clamp.hi);
  return out;
}

}  // namespace vitscope::kernels::test
