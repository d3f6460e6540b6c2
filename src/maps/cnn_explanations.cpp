// The CNN's explanation maps: CAM of the pooled features, Grad-CAM at any layer, and the baselines.
#include <algorithm>

#include "vitscope/core/error.hpp"
#include "vitscope/maps/cnn_maps.hpp"
#include "vitscope/maps/explanations.hpp"

namespace vitscope {

int default_gradcam_layer(const CnnModel& model, int height, int width) {
  const std::vector<ReceptiveField> fields = theoretical_receptive_fields(model, height, width);
  const std::vector<CnnLayer>& layers = model.layers();
  // A layer every later layer's path goes through: no later layer reads one before it (a residual
  // block's inner layers are bypassed by its skip connection).
  auto is_cut = [&](int layer) {
    for (std::size_t later = static_cast<std::size_t>(layer) + 1; later < layers.size(); ++later)
      for (int input : layers[later].inputs)
        if (input < layer) return false;
    return true;
  };
  for (int layer = model.feature_layer(); layer >= 1; --layer)
    if (fields[static_cast<std::size_t>(layer)].jump == 16 && is_cut(layer)) return layer;
  return model.feature_layer();
}

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
  constexpr int kPatch = 16;  // the baselines' grid: the patches the perturbation tests remove
  const int grid_h = static_cast<int>(image.shape(1)) / kPatch, grid_w = static_cast<int>(image.shape(2)) / kPatch;
  switch (method) {
    case ExplanationMethod::Cam:
      return class_activation_map(model, session, image, class_index).map;
    case ExplanationMethod::GradCam: {
      const int layer = options.gradcam_layer >= 0
                            ? options.gradcam_layer
                            : default_gradcam_layer(model, static_cast<int>(image.shape(1)), static_cast<int>(image.shape(2)));
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
