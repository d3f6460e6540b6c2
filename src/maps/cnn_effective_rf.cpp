// Effective receptive fields: the input gradient of one unit, and how widely its mass spreads.
#include <algorithm>
#include <cmath>
#include <utility>

#include "vitscope/maps/cnn_maps.hpp"
#include "vitscope/core/error.hpp"

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
  return spread;
}

std::vector<EffectiveReceptiveField> effective_receptive_fields(const CnnModel& model,
                                                                Session& session,
                                                                const xt::xtensor<float, 3>& image,
                                                                const std::vector<int>& layers,
                                                                const ErfOptions& options) {
  const int H = static_cast<int>(image.shape(1)), W = static_cast<int>(image.shape(2));
  const std::vector<CnnFeatureSize> sizes = model.feature_sizes(H, W);
  const std::vector<ReceptiveField> fields = theoretical_receptive_fields(model, H, W);
  std::vector<CnnUnit> units;
  for (int layer : layers) {
    if (layer < 1 || layer >= static_cast<int>(sizes.size()))
      throw ConfigError("effective receptive field: no layer " + std::to_string(layer));
    units.push_back({layer, sizes[layer].height / 2, sizes[layer].width / 2, options.channel});
  }
  const std::vector<xt::xtensor<float, 3>> grads = model.input_gradients(image, units, session);

  std::vector<EffectiveReceptiveField> result(units.size());
  for (std::size_t i = 0; i < units.size(); ++i) {
    EffectiveReceptiveField& erf = result[i];
    erf.layer = units[i].layer;
    erf.unit = units[i];
    erf.map = xt::xtensor<float, 2>::from_shape({static_cast<std::size_t>(H), static_cast<std::size_t>(W)});
    const xt::xtensor<float, 3>& g = grads[i];
    for (int y = 0; y < H; ++y)
      for (int x = 0; x < W; ++x)
        erf.map(y, x) = std::abs(g(0, y, x)) + std::abs(g(1, y, x)) + std::abs(g(2, y, x));
    const ReceptiveField& f = fields[erf.layer];
    erf.centre_y = f.centre_y(erf.unit.y);
    erf.centre_x = f.centre_x(erf.unit.x);
    erf.spread = mass_spread(erf.map, erf.centre_y, erf.centre_x, options.mass_fraction);
  }
  return result;
}

}  // namespace vitscope
