// The spread of an effective receptive field's gradient mass around its unit's centre.
#include "vitscope/maps/mass_spread.hpp"

#include <algorithm>
#include <utility>
#include <vector>

namespace vitscope {

MassSpread mass_spread(const xt::xtensor<float, 2>& map, double centre_y, double centre_x,
                       double mass_fraction) {
  const std::size_t h = map.shape(0), w = map.shape(1);
  MassSpread spread;
  double sum_y = 0, sum_x = 0;
  std::vector<std::pair<double, double>> rings;  // (Chebyshev distance to the centre, mass)
  rings.reserve(h * w);
  for (std::size_t y = 0; y < h; ++y)
    for (std::size_t x = 0; x < w; ++x) {
      const double m = map(y, x);
      spread.mass += m;
      sum_y += m * double(y);
      sum_x += m * double(x);
      rings.emplace_back(std::max(std::abs(double(y) - centre_y), std::abs(double(x) - centre_x)), m);
    }
  if (!(spread.mass > 0)) return spread;

  // The smallest radius whose square (all pixels at that distance included) holds the fraction.
  std::sort(rings.begin(), rings.end());
  const double wanted = mass_fraction * spread.mass;
  double cumulative = 0;
  for (std::size_t i = 0; i < rings.size();) {
    const double d = rings[i].first;
    for (; i < rings.size() && rings[i].first == d; ++i) cumulative += rings[i].second;
    if (cumulative >= wanted || i == rings.size()) {
      spread.size = 2 * d + 1;
      break;
    }
  }

  const double mean_y = sum_y / spread.mass, mean_x = sum_x / spread.mass;
  double var = 0;
  for (std::size_t y = 0; y < h; ++y)
    for (std::size_t x = 0; x < w; ++x) {
      const double dy = double(y) - mean_y, dx = double(x) - mean_x;
      var += map(y, x) * (dy * dy + dx * dx);
    }
  spread.sigma = std::sqrt(var / spread.mass / 2);
  double distance = 0;
  for (std::size_t y = 0; y < h; ++y)
    for (std::size_t x = 0; x < w; ++x)
      distance += map(y, x) * std::hypot(double(y) - centre_y, double(x) - centre_x);
  spread.mean_distance = distance / spread.mass;
  return spread;
}

}  // namespace vitscope
