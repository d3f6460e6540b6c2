// Back-propagation from one unit of a layer to the input image, for effective receptive fields:
// input gradients only, through the transposed convolutions, the activations' masks (taken from
// the outputs of the forward pass) and the max-pool routing.
#include <algorithm>

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

  std::vector<bool> reached(layers_.size(), false);
  reached[unit.layer] = true;
  for (int i = unit.layer; i >= 1; --i) {
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

  // The image's gradient, NHWC → [3, H, W].
  const float* g0 = ws.grad(0);
  const std::size_t pixels = static_cast<std::size_t>(ws.height) * ws.width;
  for (int c = 0; c < 3; ++c)
    for (std::size_t p = 0; p < pixels; ++p) grad_image.data()[c * pixels + p] = g0[p * 3 + c];
}

}  // namespace vitscope
