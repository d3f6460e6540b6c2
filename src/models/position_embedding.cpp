// Bicubic resampling of a learned positional embedding as timm's resample_abs_pos_embed does it with
// PyTorch's F.interpolate(mode="bicubic", align_corners=False):
//  - antialias=False: cubic convolution with A = -0.75 over 4 taps, border indices clamped;
//  - antialias=True (timm's default since 0.9): A = -0.5 with the support widened by the downscale
//    factor and the taps cut at the border and renormalised, horizontal pass then vertical.
#include <algorithm>
#include <array>
#include <cmath>
#include <vector>

#include "vitscope/models/vit.hpp"

namespace vitscope {
namespace {

constexpr double kCubicA = -0.75;

// Weights of the four taps at offsets -1, 0, +1, +2 for a fractional position t in [0, 1).
std::array<double, 4> cubic_coefficients(double t) {
  auto near = [](double x) { return ((kCubicA + 2) * x - (kCubicA + 3)) * x * x + 1; };  // |x| ≤ 1
  auto far = [](double x) {  // 1 < |x| < 2
    return ((kCubicA * x - 5 * kCubicA) * x + 8 * kCubicA) * x - 4 * kCubicA;
  };
  return {far(t + 1), near(t), near(1 - t), far(2 - t)};
}

struct Taps {
  std::array<int, 4> index;
  std::array<double, 4> weight;
};

// Source taps of every output position along one axis (align_corners=False).
std::vector<Taps> axis_taps(int in_size, int out_size) {
  const double scale = static_cast<double>(in_size) / out_size;
  std::vector<Taps> taps(out_size);
  for (int o = 0; o < out_size; ++o) {
    const double src = scale * (o + 0.5) - 0.5;
    const int base = static_cast<int>(std::floor(src));
    taps[o].weight = cubic_coefficients(src - base);
    for (int k = 0; k < 4; ++k) taps[o].index[k] = std::clamp(base - 1 + k, 0, in_size - 1);
  }
  return taps;
}

// Antialiased taps (PyTorch's _upsample_bicubic2d_aa, like PIL): any number of taps per output.
struct WideTaps {
  int first = 0;
  std::vector<double> weight;
};

double keys_cubic(double x) {  // A = -0.5
  constexpr double a = -0.5;
  x = std::abs(x);
  if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
  if (x < 2) return (((x - 5) * x + 8) * x - 4) * a;
  return 0;
}

std::vector<WideTaps> antialiased_axis_taps(int in_size, int out_size) {
  const double scale = static_cast<double>(in_size) / out_size;
  const double support = 2.0 * std::max(scale, 1.0);
  const double inv_scale = scale >= 1.0 ? 1.0 / scale : 1.0;
  std::vector<WideTaps> taps(out_size);
  for (int o = 0; o < out_size; ++o) {
    const double center = scale * (o + 0.5);
    const int lo = std::max(static_cast<int>(center - support + 0.5), 0);
    const int hi = std::min(static_cast<int>(center + support + 0.5), in_size);
    double total = 0;
    taps[o].first = lo;
    for (int j = lo; j < hi; ++j) {
      taps[o].weight.push_back(keys_cubic((j - center + 0.5) * inv_scale));
      total += taps[o].weight.back();
    }
    if (total != 0)
      for (double& w : taps[o].weight) w /= total;
  }
  return taps;
}

// grid[in_h, in_w, D] → [out_h, out_w, D], horizontal pass then vertical, in double.
std::vector<double> resample_antialiased(const float* grid, std::size_t width, int in_h, int in_w,
                                         int out_h, int out_w) {
  const std::vector<WideTaps> cols = antialiased_axis_taps(in_w, out_w);
  const std::vector<WideTaps> rows = antialiased_axis_taps(in_h, out_h);
  std::vector<double> horizontal(static_cast<std::size_t>(in_h) * out_w * width, 0.0);
  for (int y = 0; y < in_h; ++y)
    for (int ox = 0; ox < out_w; ++ox) {
      double* dst = &horizontal[(static_cast<std::size_t>(y) * out_w + ox) * width];
      for (std::size_t k = 0; k < cols[ox].weight.size(); ++k) {
        const float* src = grid + (static_cast<std::size_t>(y) * in_w + cols[ox].first + k) * width;
        for (std::size_t d = 0; d < width; ++d) dst[d] += cols[ox].weight[k] * src[d];
      }
    }
  std::vector<double> out(static_cast<std::size_t>(out_h) * out_w * width, 0.0);
  for (int oy = 0; oy < out_h; ++oy)
    for (std::size_t k = 0; k < rows[oy].weight.size(); ++k) {
      const double* src = &horizontal[static_cast<std::size_t>(rows[oy].first + k) * out_w * width];
      double* dst = &out[static_cast<std::size_t>(oy) * out_w * width];
      for (std::size_t i = 0; i < static_cast<std::size_t>(out_w) * width; ++i)
        dst[i] += rows[oy].weight[k] * src[i];
    }
  return out;
}

}  // namespace

// pos + grid_h·grid_w, D] → [prefix + out_h·out_w, D]
xt::xtensor<float, 2> resample_position_embedding(const xt::xtensor<float, 2>& pos, int prefix,
                                                  int grid_h, int grid_w, int out_h, int out_w,
                                                  bool antialias) {
  const std::size_t width = pos.shape(1);
  xt::xtensor<float, 2> out = xt::xtensor<float, 2>::from_shape(
      {static_cast<std::size_t>(prefix + out_h * out_w), width});
  std::copy(pos.begin(), pos.begin() + static_cast<std::ptrdiff_t>(prefix * width), out.begin());
  if (antialias) {
    const std::vector<double> grid =
        resample_antialiased(pos.data() + prefix * width, width, grid_h, grid_w, out_h, out_w);
    std::transform(grid.begin(), grid.end(), out.begin() + static_cast<std::ptrdiff_t>(prefix * width),
                   [](double v) { return static_cast<float>(v); });
    return out;
  }
  const std::vector<Taps> rows = axis_taps(grid_h, out_h), cols = axis_taps(grid_w, out_w);
  const float* grid = pos.data() + prefix * width;
  std::vector<double> acc(width);
  for (int oy = 0; oy < out_h; ++oy) {
    for (int ox = 0; ox < out_w; ++ox) {
      std::fill(acc.begin(), acc.end(), 0.0);
      // Along x within each of the four source rows, then along y, as PyTorch nests it.
      for (int ky = 0; ky < 4; ++ky) {
        const int sy = rows[oy].index[ky];
        for (std::size_t d = 0; d < width; ++d) {
          double along_x = 0;
          for (int kx = 0; kx < 4; ++kx)
            along_x += cols[ox].weight[kx] * grid[(sy * grid_w + cols[ox].index[kx]) * width + d];
          acc[d] += rows[oy].weight[ky] * along_x;
        }
      }
      float* dst = out.data() + (prefix + oy * out_w + ox) * width;
      for (std::size_t d = 0; d < width; ++d) dst[d] = static_cast<float>(acc[d]);
    }
  }
  return out;
}

}  // namespace vitscope
