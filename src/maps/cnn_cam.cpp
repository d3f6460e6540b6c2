// Class activation maps of a CNN with a global-average-pool + linear head.
#include <algorithm>

#include "vitscope/maps/cnn_maps.hpp"
#include "vitscope/core/error.hpp"

namespace vitscope {

xt::xtensor<float, 2> class_activation_map(const xt::xtensor<float, 3>& features,
                                           const xt::xtensor<float, 2>& head_weight,
                                           int class_index) {
  const std::size_t h = features.shape(0), w = features.shape(1), channels = features.shape(2);
  if (head_weight.shape(1) != channels)
    throw ConfigError("class activation map: features have " + std::to_string(channels) +
                      " channels, the classifier reads " + std::to_string(head_weight.shape(1)));
  if (class_index < 0 || static_cast<std::size_t>(class_index) >= head_weight.shape(0))
    throw ConfigError("class activation map: class " + std::to_string(class_index) +
                      " outside 0.." + std::to_string(head_weight.shape(0) - 1));
  const float* weight = &head_weight(static_cast<std::size_t>(class_index), 0);
  xt::xtensor<float, 2> map = xt::xtensor<float, 2>::from_shape({h, w});
  for (std::size_t y = 0; y < h; ++y)
    for (std::size_t x = 0; x < w; ++x) {
      const float* f = &features(y, x, 0);
      double sum = 0;  // Σ_c w[class, c] · F[y, x, c]
      for (std::size_t c = 0; c < channels; ++c) sum += double(weight[c]) * f[c];
      map(y, x) = static_cast<float>(std::max(sum, 0.0));
    }
  return map;
}

ClassActivation class_activation_map(const CnnModel& model, Session& session,
                                     const xt::xtensor<float, 3>& image,
                                     int class_index) {
  xt::xtensor<float, 4> batch =
      xt::xtensor<float, 4>::from_shape({1, image.shape(0), image.shape(1), image.shape(2)});
  std::copy(image.begin(), image.end(), batch.begin());
  const xt::xtensor<float, 2> logits = model.forward(batch, session, /*record_features=*/true);
  const xt::xtensor<float, 4>& features = session.recording().features;
  ClassActivation result;
  result.logits = xt::xtensor<float, 1>::from_shape({logits.shape(1)});
  std::copy(logits.begin(), logits.end(), result.logits.begin());
  result.class_index = class_index >= 0
                           ? class_index
                           : static_cast<int>(std::max_element(result.logits.begin(), result.logits.end()) -
                                              result.logits.begin());
  xt::xtensor<float, 3> one = xt::xtensor<float, 3>::from_shape({features.shape(1), features.shape(2), features.shape(3)});
  std::copy(features.begin(), features.end(), one.begin());
  result.map = class_activation_map(one, model.head_weight(), result.class_index);
  return result;
}

}  // namespace vitscope
