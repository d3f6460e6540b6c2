// Back-propagation, input gradients only, through the transposed convolutions, the activations'
// masks (taken from the outputs of the forward pass) and the max-pool routing: from one unit of a
// layer to the image (effective receptive fields), and from a class logit to a layer's output
// (Grad-CAM).
#include <algorithm>
#include <array>

#include "models/cnn_weights.hpp"
#include "vitscope/core/error.hpp"

namespace vitscope {
namespace {

void add_into(float* dst, const float* src, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) dst[i] += src[i];
}

}  // namespace

std::vector<xt::xtensor<float, 3>> CnnModel::input_gradients(const xt::xtensor<float, 3>& image,
                                                             const std::vector<CnnUnit>& units,
                                                             Session& session) const {
  if (image.shape(0) != 3)
    throw ConfigError("image of shape [" + std::to_string(image.shape(0)) + "," +
                      std::to_string(image.shape(1)) + "," + std::to_string(image.shape(2)) +
                      "]: expected [3,height,width]");
  const int H = static_cast<int>(image.shape(1)), W = static_cast<int>(image.shape(2));
  Workspace& ws = plan(session, 1, H, W, /*keep_every_layer=*/true);
  for (const CnnUnit& u : units) {
    if (u.layer < 1 || u.layer >= static_cast<int>(layers_.size()))
      throw ConfigError("unit of layer " + std::to_string(u.layer) + ": no such layer (1.." +
                        std::to_string(layers_.size() - 1) + ")");
    const CnnFeatureSize& s = ws.sizes[u.layer];
    if (u.y < 0 || u.y >= s.height || u.x < 0 || u.x >= s.width || u.channel < -1 ||
        u.channel >= s.channels)
      throw ConfigError("unit (" + std::to_string(u.y) + ", " + std::to_string(u.x) + ", channel " +
                        std::to_string(u.channel) + ") of layer '" + layers_[u.layer].name +
                        "': outside its " + std::to_string(s.height) + "x" + std::to_string(s.width) +
                        "x" + std::to_string(s.channels) + " output");
  }
  xt::xtensor<float, 4> batch = xt::xtensor<float, 4>::from_shape(
      {1, 3, static_cast<std::size_t>(H), static_cast<std::size_t>(W)});
  std::copy(image.begin(), image.end(), batch.begin());
  run_layers(batch, ws, session.pool());

  std::vector<xt::xtensor<float, 3>> grads;
  for (const CnnUnit& u : units) {
    grads.push_back(xt::xtensor<float, 3>::from_shape(
        {3, static_cast<std::size_t>(H), static_cast<std::size_t>(W)}));
    backward(u, ws, session.pool(), grads.back());
  }
  return grads;
}

void CnnModel::backward(const CnnUnit& unit, Workspace& ws, ThreadPool* pool,
                        xt::xtensor<float, 3>& grad_image) const {
  // Layers after the unit's cannot receive gradient; earlier ones start from zero.
  for (int i = 0; i <= unit.layer; ++i) std::fill_n(ws.grad(i), ws.count(i), 0.0f);
  const CnnFeatureSize& s = ws.sizes[unit.layer];
  float* seed = ws.grad(unit.layer) + (static_cast<std::size_t>(unit.y) * s.width + unit.x) * s.channels;
  if (unit.channel < 0)
    std::fill_n(seed, s.channels, 1.0f);
  else
    seed[unit.channel] = 1.0f;
  propagate(unit.layer, 0, ws, pool);

  // The image's gradient, NHWC → [3, H, W].
  const float* g0 = ws.grad(0);
  const std::size_t pixels = static_cast<std::size_t>(ws.height) * ws.width;
  for (int c = 0; c < 3; ++c)
    for (std::size_t p = 0; p < pixels; ++p) grad_image.data()[c * pixels + p] = g0[p * 3 + c];
}

void CnnModel::propagate(int top, int stop, Workspace& ws, ThreadPool* pool) const {
  std::vector<bool> reached(layers_.size(), false);
  reached[top] = true;
  for (int i = top; i > stop; --i) {
    if (!reached[i]) continue;
    const CnnLayer& l = layers_[i];
    const CnnLayerWeights& w = weights_->layers[i];
    float* gy = ws.grad(i);
    kernels::clamp_backward_inplace(ws.output(i), ws.count(i), activation_clamp(l.activation), gy);
    const CnnFeatureSize& in = ws.sizes[l.inputs[0]];
    kernels::ConvGeometry g;
    g.batch = 1;
    g.height = in.height;
    g.width = in.width;
    g.channels = in.channels;
    g.kernel = l.kernel;
    g.stride = l.stride;
    g.pad = l.padding.resolve(in.height, in.width, l.kernel, l.stride);
    float* gx = ws.grad(l.inputs[0]);
    switch (l.op) {
      case CnnOp::Conv:
        kernels::conv2d_input_grad(g, gy, w.weight.data(), l.channels, gx, pool);
        break;
      case CnnOp::DepthwiseConv:
        kernels::depthwise_conv3x3_input_grad(g, gy, w.weight.data(), gx);
        break;
      case CnnOp::MaxPool:
        kernels::max_pool_input_grad(g, ws.output(l.inputs[0]), gy, gx);
        break;
      case CnnOp::AddRelu:
        add_into(gx, gy, ws.count(i));
        add_into(ws.grad(l.inputs[1]), gy, ws.count(i));
        break;
      case CnnOp::Input:
        break;
    }
    for (int input : l.inputs) reached[input] = true;
  }
}

CnnModel::LayerGradient CnnModel::class_gradient(const xt::xtensor<float, 3>& image, int class_index,
                                                 int layer, Session& session) const {
  if (image.shape(0) != 3)
    throw ConfigError("image of shape [" + std::to_string(image.shape(0)) + "," + std::to_string(image.shape(1)) +
                      "," + std::to_string(image.shape(2)) + "]: expected [3,height,width]");
  if (class_index < 0 || class_index >= num_classes())
    throw ConfigError("class " + std::to_string(class_index) + " is out of range (the model has " +
                      std::to_string(num_classes()) + " classes)");
  if (layer < 0 || layer > feature_layer_)
    throw ConfigError("layer " + std::to_string(layer) + ": not a layer at or before the pooled features (0.." +
                      std::to_string(feature_layer_) + ")");
  const int H = static_cast<int>(image.shape(1)), W = static_cast<int>(image.shape(2));
  Workspace& ws = plan(session, 1, H, W, /*keep_every_layer=*/true);
  xt::xtensor<float, 4> batch = xt::xtensor<float, 4>::from_shape(
      {1, 3, static_cast<std::size_t>(H), static_cast<std::size_t>(W)});
  std::copy(image.begin(), image.end(), batch.begin());
  run_layers(batch, ws, session.pool());

  // The head: logit = head_weight[class] · mean_{y,x} features[y, x] + bias.
  const CnnFeatureSize& f = ws.sizes[feature_layer_];
  const std::size_t positions = static_cast<std::size_t>(f.height) * f.width;
  LayerGradient result;
  result.logits = xt::xtensor<float, 1>::from_shape({static_cast<std::size_t>(num_classes())});
  const float* features = ws.output(feature_layer_);
  for (int k = 0; k < num_classes(); ++k) {
    double sum = 0;
    for (std::size_t p = 0; p < positions; ++p)
      for (int ch = 0; ch < f.channels; ++ch)
        sum += static_cast<double>(features[p * f.channels + ch]) * weights_->head_weight(k, ch);
    result.logits[k] = static_cast<float>(sum / static_cast<double>(positions) + weights_->head_bias[k]);
  }
  for (int i = 0; i <= feature_layer_; ++i) std::fill_n(ws.grad(i), ws.count(i), 0.0f);
  float* seed = ws.grad(feature_layer_);
  for (std::size_t p = 0; p < positions; ++p)
    for (int ch = 0; ch < f.channels; ++ch)
      seed[p * f.channels + ch] = weights_->head_weight(class_index, ch) / static_cast<float>(positions);
  propagate(feature_layer_, layer, ws, session.pool());

  const CnnFeatureSize& s = ws.sizes[layer];
  const std::array<std::size_t, 3> shape = {static_cast<std::size_t>(s.height), static_cast<std::size_t>(s.width),
                                            static_cast<std::size_t>(s.channels)};
  result.activation = xt::xtensor<float, 3>::from_shape(shape);
  result.gradient = xt::xtensor<float, 3>::from_shape(shape);
  std::copy_n(ws.output(layer), ws.count(layer), result.activation.begin());
  std::copy_n(ws.grad(layer), ws.count(layer), result.gradient.begin());
  return result;
}

}  // namespace vitscope
