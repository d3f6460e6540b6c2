// The CNN's explanation maps: CAM of the pooled features, Grad-CAM at any layer, and the baselines.
#include <algorithm>

#include "vitscope/core/error.hpp"
#include "vitscope/maps/cnn_maps.hpp"
#include "vitscope/maps/explanations.hpp"

namespace vitscope {

xt::xtensor<float, 2> grad_cam(const CnnModel::LayerGradient& layer) {
  const std::size_t h = layer.activation.shape(0), w = layer.activation.shape(1), C = layer.activation.shape(2);
  std::vector<double> alpha(C, 0.0);
  for (std::size_t p = 0; p < h * w; ++p)
    for (std::size_t c = 0; c < C; ++c) alpha[c] += layer.gradient.data()[p * C + c];
  for (double& a : alpha) a /= static_cast<double>(h * w);
  xt::xtensor<float, 2> map = xt::xtensor<float, 2>::from_shape({h, w});
  for (std::size_t p = 0; p < h * w; ++p) {
    double sum = 0;
    for (std::size_t c = 0; c < C; ++c) sum += alpha[c] * layer.activation.data()[p * C + c];
    map.data()[p] = static_cast<float>(std::max(sum, 0.0));
  }
  return map;
}

xt::xtensor<float, 2> cnn_explanation(ExplanationMethod method, const CnnModel& model, Session& session,
                                      const xt::xtensor<float, 3>& image, int class_index,
                                      const ExplanationOptions& options) {
  const int grid_h = static_cast<int>(image.shape(1)) / 16, grid_w = static_cast<int>(image.shape(2)) / 16;
  switch (method) {
    case ExplanationMethod::Cam:
      return class_activation_map(model, session, image, class_index).map;
    case ExplanationMethod::GradCam: {
      const int layer = options.gradcam_layer < 0 ? model.feature_layer() : options.gradcam_layer;
      return grad_cam(model.class_gradient(image, class_index, layer, session));
    }
    case ExplanationMethod::Random:
      return random_map(grid_h, grid_w, options.seed + static_cast<std::uint64_t>(options.image_index));
    case ExplanationMethod::Gaussian:
      return gaussian_map(grid_h, grid_w);
    default:
      break;
  }
  throw ConfigError(std::string(explanation_method_info(method).name) + " is a ViT map, not a CNN one");
}

}  // namespace vitscope
