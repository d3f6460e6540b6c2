// What `vitscope info` prints about a CNN: its settings, parameter count and multiply-accumulates
// at the manifest's input size.
#include <cstdio>

#include "models/cnn_weights.hpp"

namespace vitscope {

ModelSummary CnnModel::summary() const {
  const PreprocessConfig& p = spec_.preprocess;
  ModelSummary s;
  s.architecture = weights_->architecture;
  s.parameters = weights_->parameters;

  const std::vector<CnnFeatureSize> sizes = feature_sizes(p.input_height, p.input_width);
  std::int64_t macs = 0;
  for (std::size_t i = 1; i < layers_.size(); ++i) {
    const std::int64_t out_pixels = std::int64_t{sizes[i].height} * sizes[i].width;
    const CnnLayer& l = layers_[i];
    if (l.op == CnnOp::Conv)
      macs += out_pixels * l.channels * l.kernel * l.kernel * sizes[l.inputs[0]].channels;
    else if (l.op == CnnOp::DepthwiseConv)
      macs += out_pixels * l.channels * l.kernel * l.kernel;
  }
  const CnnFeatureSize& f = sizes[feature_layer_];
  macs += std::int64_t{f.channels} * num_classes();
  s.macs_per_image = macs;

  auto triple = [](const std::array<float, 3>& v) {
    char buf[96];
    std::snprintf(buf, sizeof buf, "(%.4g, %.4g, %.4g)", v[0], v[1], v[2]);
    return std::string(buf);
  };
  char crop[32];
  std::snprintf(crop, sizeof crop, "%.4g", p.crop_pct);
  int depth = 0;
  for (const CnnLayer& l : layers_) depth = std::max(depth, l.depth);
  s.config.push_back({"input size", std::to_string(p.input_height) + "x" + std::to_string(p.input_width)});
  for (const auto& line : weights_->config) s.config.push_back(line);
  s.config.push_back({"depth", std::to_string(depth + 1) + " weighted layers (" +
                                   std::to_string(depth) + " convolutions + classifier)"});
  s.config.push_back({"feature map", std::to_string(f.height) + "x" + std::to_string(f.width) + "x" +
                                         std::to_string(f.channels) + " (global average pooled)"});
  s.config.push_back({"batchnorm", std::to_string(weights_->batchnorm_statistics) +
                                       " running statistics, folded into the convolutions"});
  s.config.push_back({"classes", std::to_string(num_classes())});
  s.config.push_back({"preprocess", std::string("resize ") + interpolation_name(p.interpolation) +
                                        ", crop_pct " + crop + ", mean " + triple(p.mean) +
                                        ", std " + triple(p.std)});
  return s;
}

}  // namespace vitscope
