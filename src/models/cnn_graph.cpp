// The CNN graph: op names, padding rules, output sizes, and the builder the loaders add layers with.
#include <algorithm>
#include <utility>

#include "models/cnn_weights.hpp"
#include "vitscope/core/error.hpp"

namespace vitscope {

const char* cnn_op_name(CnnOp op) {
  switch (op) {
    case CnnOp::Input: return "input";
    case CnnOp::Conv: return "conv";
    case CnnOp::DepthwiseConv: return "depthwise";
    case CnnOp::MaxPool: return "maxpool";
    case CnnOp::AddRelu: return "add+relu";
  }
  return "?";
}

kernels::Clamp activation_clamp(CnnActivation activation) {
  switch (activation) {
    case CnnActivation::None: return kernels::Clamp::none();
    case CnnActivation::Relu: return kernels::Clamp::relu();
    case CnnActivation::Relu6: return kernels::Clamp::relu6();
  }
  return kernels::Clamp::none();
}

kernels::Padding2d CnnPadding::resolve(int in_height, int in_width, int kernel, int stride) const {
  if (!tf_same) return pixels;
  auto total = [&](int in) {
    const int out = (in + stride - 1) / stride;
    return std::max((out - 1) * stride + kernel - in, 0);
  };
  const int th = total(in_height), tw = total(in_width);
  return {th / 2, tw / 2, th - th / 2, tw - tw / 2};
}

std::vector<CnnFeatureSize> CnnModel::feature_sizes(int height, int width) const {
  std::vector<CnnFeatureSize> sizes(layers_.size());
  if (height <= 0 || width <= 0)
    throw ConfigError("input " + std::to_string(height) + "x" + std::to_string(width) +
                      ": the image must have a positive size");
  sizes[0] = {height, width, 3};
  for (std::size_t i = 1; i < layers_.size(); ++i) {
    const CnnLayer& l = layers_[i];
    const CnnFeatureSize& in = sizes[l.inputs[0]];
    if (l.op == CnnOp::AddRelu) {
      const CnnFeatureSize& other = sizes[l.inputs[1]];
      if (in.height != other.height || in.width != other.width)
        throw ConfigError("input " + std::to_string(height) + "x" + std::to_string(width) + ": layer '" +
                          l.name + "' adds maps of sizes " + std::to_string(in.height) + "x" +
                          std::to_string(in.width) + " and " + std::to_string(other.height) + "x" +
                          std::to_string(other.width));
      sizes[i] = {in.height, in.width, l.channels};
      continue;
    }
    const kernels::Padding2d pad = l.padding.resolve(in.height, in.width, l.kernel, l.stride);
    const int span_h = in.height + pad.top + pad.bottom, span_w = in.width + pad.left + pad.right;
    if (span_h < l.kernel || span_w < l.kernel)
      throw ConfigError("input " + std::to_string(height) + "x" + std::to_string(width) +
                        ": too small for layer '" + l.name + "' (its input is " +
                        std::to_string(in.height) + "x" + std::to_string(in.width) + ")");
    sizes[i] = {(span_h - l.kernel) / l.stride + 1, (span_w - l.kernel) / l.stride + 1, l.channels};
  }
  return sizes;
}

int CnnModel::find_layer(const std::string& name) const {
  for (std::size_t i = 0; i < layers_.size(); ++i)
    if (layers_[i].name == name) return static_cast<int>(i);
  std::string known;
  for (const CnnLayer& l : layers_) known += (known.empty() ? "" : ", ") + l.name;
  throw ConfigError("layer '" + name + "': not a layer of " + spec_.name + " (" + known + ")");
}

CnnGraphBuilder::CnnGraphBuilder(CnnModel& model) : model_(model) {
  CnnLayer image;
  image.name = "image";
  image.op = CnnOp::Input;
  image.channels = 3;
  add(std::move(image), {});
}

int CnnGraphBuilder::channels(int layer) const { return model_.layers_.at(layer).channels; }

int CnnGraphBuilder::add(CnnLayer layer, CnnLayerWeights weights) {
  for (int input : layer.inputs) {
    if (input < 0 || input >= static_cast<int>(model_.layers_.size()))
      throw WeightsError("layer '" + layer.name + "': input " + std::to_string(input) + " does not exist");
    const CnnLayer& from = model_.layers_[input];
    const bool weighted = layer.op == CnnOp::Conv || layer.op == CnnOp::DepthwiseConv;
    layer.depth = std::max(layer.depth, from.depth + (weighted ? 1 : 0));
  }
  model_.layers_.push_back(std::move(layer));
  model_.weights_->layers.push_back(std::move(weights));
  return static_cast<int>(model_.layers_.size()) - 1;
}

int CnnGraphBuilder::conv(const std::string& name, int input, int kernel, int stride,
                          CnnPadding padding, std::vector<float> weight, std::vector<float> bias,
                          CnnActivation activation) {
  const int n = static_cast<int>(bias.size());
  const int k = kernel * kernel * channels(input);
  if (n <= 0 || weight.size() != static_cast<std::size_t>(n) * k)
    throw WeightsError("layer '" + name + "': weight of " + std::to_string(weight.size()) +
                       " values for " + std::to_string(n) + " outputs of " + std::to_string(kernel) +
                       "x" + std::to_string(kernel) + "x" + std::to_string(channels(input)));
  CnnLayer layer;
  layer.name = name;
  layer.op = CnnOp::Conv;
  layer.inputs = {input};
  layer.kernel = kernel;
  layer.stride = stride;
  layer.padding = padding;
  layer.channels = n;
  layer.activation = activation;
  CnnLayerWeights w;
  w.packed = kernels::PackedMatrix::pack(weight.data(), n, k);
  kernels::ConvGeometry shape;
  shape.kernel = kernel;
  shape.stride = stride;
  if (kernels::winograd_applies(shape))
    w.winograd = kernels::WinogradWeights::pack(weight.data(), n, channels(input),
                                                kernels::winograd_tile_for(channels(input), n));
  w.weight = std::move(weight);
  w.bias = std::move(bias);
  return add(std::move(layer), std::move(w));
}

int CnnGraphBuilder::depthwise(const std::string& name, int input, int stride, CnnPadding padding,
                               std::vector<float> weight, std::vector<float> bias,
                               CnnActivation activation) {
  const int c = channels(input);
  if (weight.size() != static_cast<std::size_t>(9) * c || bias.size() != static_cast<std::size_t>(c))
    throw WeightsError("layer '" + name + "': depthwise weight of " + std::to_string(weight.size()) +
                       " values for " + std::to_string(c) + " channels");
  CnnLayer layer;
  layer.name = name;
  layer.op = CnnOp::DepthwiseConv;
  layer.inputs = {input};
  layer.kernel = 3;
  layer.stride = stride;
  layer.padding = padding;
  layer.channels = c;
  layer.activation = activation;
  CnnLayerWeights w;
  w.weight = std::move(weight);
  w.bias = std::move(bias);
  return add(std::move(layer), std::move(w));
}

int CnnGraphBuilder::max_pool(const std::string& name, int input, int kernel, int stride,
                              CnnPadding padding) {
  CnnLayer layer;
  layer.name = name;
  layer.op = CnnOp::MaxPool;
  layer.inputs = {input};
  layer.kernel = kernel;
  layer.stride = stride;
  layer.padding = padding;
  layer.channels = channels(input);
  return add(std::move(layer), {});
}

int CnnGraphBuilder::add_relu(const std::string& name, int a, int b) {
  if (channels(a) != channels(b))
    throw WeightsError("layer '" + name + "': adds " + std::to_string(channels(a)) + " and " +
                       std::to_string(channels(b)) + " channels");
  CnnLayer layer;
  layer.name = name;
  layer.op = CnnOp::AddRelu;
  layer.inputs = {a, b};
  layer.channels = channels(a);
  layer.activation = CnnActivation::Relu;
  return add(std::move(layer), {});
}

void CnnGraphBuilder::head(int feature_layer, xt::xtensor<float, 2> weight, std::vector<float> bias) {
  if (static_cast<int>(weight.shape(1)) != channels(feature_layer) || weight.shape(0) != bias.size())
    throw WeightsError("classifier: weight [" + std::to_string(weight.shape(0)) + "," +
                       std::to_string(weight.shape(1)) + "] for " +
                       std::to_string(channels(feature_layer)) + " features and " +
                       std::to_string(bias.size()) + " biases");
  model_.feature_layer_ = feature_layer;
  CnnModel::Weights& w = *model_.weights_;
  w.head_packed = kernels::PackedMatrix::pack(weight.data(), static_cast<int>(weight.shape(0)),
                                              static_cast<int>(weight.shape(1)));
  w.head_weight = std::move(weight);
  w.head_bias = std::move(bias);
}

}  // namespace vitscope
