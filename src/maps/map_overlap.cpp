#include "vitscope/maps/map_overlap.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include "vitscope/core/error.hpp"

namespace vitscope {
namespace {

// Source position and weights of one output coordinate (align_corners = false).
struct LinearTap {
  int lo, hi;
  float w_hi;
};

LinearTap tap(int out, int out_size, int in_size) {
  const double src = std::max(0.0, (out + 0.5) * in_size / out_size - 0.5);
  const int lo = std::min(static_cast<int>(src), in_size - 1);
  return {lo, std::min(lo + 1, in_size - 1), static_cast<float>(src - lo)};
}

std::vector<float> threshold_mask(const xt::xtensor<float, 2>& map, double fraction) {
  std::vector<float> sorted(map.begin(), map.end());
  const std::size_t keep = std::max<std::size_t>(1, static_cast<std::size_t>(std::lround(fraction * sorted.size())));
  std::nth_element(sorted.begin(), sorted.begin() + (sorted.size() - keep), sorted.end());
  const float threshold = sorted[sorted.size() - keep];
  std::vector<float> mask(map.size());
  std::transform(map.begin(), map.end(), mask.begin(), [&](float v) { return v >= threshold ? 1.0f : 0.0f; });
  return mask;
}

}  // namespace

xt::xtensor<float, 2> resize_map(const xt::xtensor<float, 2>& map, int height, int width) {
  const int in_h = static_cast<int>(map.shape(0)), in_w = static_cast<int>(map.shape(1));
  if (in_h == 0 || in_w == 0 || height <= 0 || width <= 0) throw ConfigError("resize_map: empty map or size");
  xt::xtensor<float, 2> out = xt::xtensor<float, 2>::from_shape(
      {static_cast<std::size_t>(height), static_cast<std::size_t>(width)});
  for (int y = 0; y < height; ++y) {
    const LinearTap ty = tap(y, height, in_h);
    for (int x = 0; x < width; ++x) {
      const LinearTap tx = tap(x, width, in_w);
      const float top = map(ty.lo, tx.lo) + tx.w_hi * (map(ty.lo, tx.hi) - map(ty.lo, tx.lo));
      const float bottom = map(ty.hi, tx.lo) + tx.w_hi * (map(ty.hi, tx.hi) - map(ty.hi, tx.lo));
      out(y, x) = top + ty.w_hi * (bottom - top);
    }
  }
  return out;
}

double top_region_iou(const xt::xtensor<float, 2>& a, const xt::xtensor<float, 2>& b,
                      double fraction, int height, int width) {
  if (!(fraction > 0 && fraction <= 1)) throw ConfigError("top_region_iou: fraction must be in (0, 1]");
  const std::vector<float> ma = threshold_mask(resize_map(a, height, width), fraction);
  const std::vector<float> mb = threshold_mask(resize_map(b, height, width), fraction);
  double both = 0, either = 0;
  for (std::size_t i = 0; i < ma.size(); ++i) {
    both += ma[i] * mb[i];
    either += std::max(ma[i], mb[i]);
  }
  return either > 0 ? both / either : 0.0;
}

double map_correlation(const xt::xtensor<float, 2>& a, const xt::xtensor<float, 2>& b, int height,
                       int width) {
  const xt::xtensor<float, 2> ra = resize_map(a, height, width), rb = resize_map(b, height, width);
  const double n = static_cast<double>(ra.size());
  double ma = 0, mb = 0;
  for (std::size_t i = 0; i < ra.size(); ++i) ma += ra.data()[i], mb += rb.data()[i];
  ma /= n, mb /= n;
  double cov = 0, va = 0, vb = 0;
  for (std::size_t i = 0; i < ra.size(); ++i) {
    const double da = ra.data()[i] - ma, db = rb.data()[i] - mb;
    cov += da * db, va += da * da, vb += db * db;
  }
  return va > 0 && vb > 0 ? cov / std::sqrt(va * vb) : 0.0;
}

}  // namespace vitscope
