// Effective receptive fields of a CNN: the input gradient of one unit per layer, and how widely its
// mass spreads.
#include <algorithm>
#include <cmath>

#include "vitscope/maps/cnn_maps.hpp"
#include "vitscope/core/error.hpp"

namespace vitscope {

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
