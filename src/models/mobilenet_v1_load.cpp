// MobileNet v1 from a Keras-layout checkpoint (keras.applications / TensorFlow.js names):
//   conv1/kernel [3,3,3,C0] (HWIO), conv1_bn/{gamma,beta,moving_mean,moving_variance},
//   conv_dw_N/depthwise_kernel [3,3,C,1], conv_dw_N_bn/*, conv_pw_N/kernel [1,1,C,C'], conv_pw_N_bn/*
//   for N = 1..13, conv_preds/kernel [1,1,C,classes] + conv_preds/bias (a 1×1 convolution after
//   global average pooling, i.e. a linear classifier).
// Widths come from the shapes; BatchNorm (eps 1e-3) is folded into each convolution, each followed
// by ReLU6; padding is TensorFlow "same".
#include <algorithm>
#include <cstdio>

#include "models/cnn_batchnorm.hpp"
#include "models/cnn_weights.hpp"
#include "vitscope/core/error.hpp"

namespace vitscope {
namespace {

constexpr double kBatchNormEps = 1e-3;
constexpr int kBlocks = 13;
bool strided_block(int n) { return n == 2 || n == 4 || n == 6 || n == 12; }

// Keras BatchNorm tensors of a layer: <name>_bn/{gamma,beta,moving_mean,moving_variance}.
ChannelAffine keras_batchnorm(TensorBinder& bind, const std::string& layer, std::int64_t channels) {
  const std::string p = layer + "_bn/";
  return bind_batchnorm(bind, p + "gamma", p + "beta", p + "moving_mean", p + "moving_variance", channels,
                        kBatchNormEps);
}

std::int64_t dim(const TensorBinder& bind, const std::string& name, std::size_t axis, std::size_t rank) {
  const TensorShape& s = bind.shape(name);
  if (s.size() != rank || s[axis] <= 0)
    throw WeightsError(bind.path() + ": tensor '" + name + "' has shape " + shape_to_string(s) +
                       ", expected rank " + std::to_string(rank));
  return s[axis];
}

}  // namespace

std::unique_ptr<CnnModel> CnnModel::load_mobilenet_v1(const SafeTensors& file, const ModelSpec& spec,
                                                      ThreadPool* pool) {
  if (!file.contains("conv1/kernel") || !file.contains("conv_dw_1/depthwise_kernel"))
    throw WeightsError(file.path() + ": not a MobileNet v1 in Keras layout (no tensor 'conv1/kernel' "
                                     "or 'conv_dw_1/depthwise_kernel')");
  std::unique_ptr<CnnModel> model(new CnnModel());
  model->spec_ = spec;

  TensorBinder bind(file, "a MobileNet v1 in Keras layout", pool);
  CnnGraphBuilder graph(*model);
  const CnnPadding same{true, {}};

  int blocks = 0;
  while (bind.has("conv_dw_" + std::to_string(blocks + 1) + "/depthwise_kernel")) ++blocks;
  if (blocks != kBlocks)
    throw WeightsError(file.path() + ": has " + std::to_string(blocks) + " depthwise blocks "
                       "(conv_dw_1.." + std::to_string(blocks) + "), MobileNet v1 has 13");

  // conv1: HWIO [3,3,3,C] → [C, 3, 3, 3].
  const std::int64_t c0 = dim(bind, "conv1/kernel", 3, 4);
  {
    const xt::xarray<float> k = bind.take("conv1/kernel", {3, 3, 3, c0});
    std::vector<float> w(static_cast<std::size_t>(c0) * 27), bias;
    for (std::int64_t o = 0; o < c0; ++o)
      for (int ky = 0; ky < 3; ++ky)
        for (int kx = 0; kx < 3; ++kx)
          for (int c = 0; c < 3; ++c) w[((o * 3 + ky) * 3 + kx) * 3 + c] = k(ky, kx, c, o);
    fold_affine(keras_batchnorm(bind, "conv1", c0), w, bias);
    graph.conv("conv1", 0, 3, 2, same, std::move(w), std::move(bias), CnnActivation::Relu6);
  }

  int x = 1;
  for (int n = 1; n <= kBlocks; ++n) {
    const std::string dw = "conv_dw_" + std::to_string(n), pw = "conv_pw_" + std::to_string(n);
    const std::int64_t c = graph.channels(x);
    // Depthwise [3,3,C,1] is already [ky][kx][c]; BatchNorm scales channel c of every tap.
    const xt::xarray<float> k = bind.take(dw + "/depthwise_kernel", {3, 3, c, 1});
    std::vector<float> w(k.begin(), k.end());
    const ChannelAffine bn = keras_batchnorm(bind, dw, c);
    for (std::size_t i = 0; i < w.size(); ++i)
      w[i] = static_cast<float>(double(w[i]) * bn.scale[i % c]);
    std::vector<float> bias(bn.shift.begin(), bn.shift.end());
    x = graph.depthwise(dw, x, strided_block(n) ? 2 : 1, same, std::move(w), std::move(bias),
                        CnnActivation::Relu6);

    // Pointwise [1,1,C,C'] → [C', C].
    const std::int64_t out = dim(bind, pw + "/kernel", 3, 4);
    const xt::xarray<float> p = bind.take(pw + "/kernel", {1, 1, c, out});
    std::vector<float> pw_w(static_cast<std::size_t>(out * c)), pw_b;
    for (std::int64_t o = 0; o < out; ++o)
      for (std::int64_t i = 0; i < c; ++i) pw_w[o * c + i] = p(0, 0, i, o);
    fold_affine(keras_batchnorm(bind, pw, out), pw_w, pw_b);
    x = graph.conv(pw, x, 1, 1, same, std::move(pw_w), std::move(pw_b), CnnActivation::Relu6);
  }

  // Classifier: conv_preds [1,1,C,classes] → [classes, C].
  const std::int64_t features = graph.channels(x);
  if (!bind.has("conv_preds/kernel")) throw WeightsError(file.path() + ": no tensor 'conv_preds/kernel'");
  const std::int64_t classes = dim(bind, "conv_preds/kernel", 3, 4);
  const xt::xarray<float> head = bind.take("conv_preds/kernel", {1, 1, features, classes});
  const xt::xarray<float> head_bias = bind.take("conv_preds/bias", {classes});
  xt::xtensor<float, 2> head_w = xt::xtensor<float, 2>::from_shape(
      {static_cast<std::size_t>(classes), static_cast<std::size_t>(features)});
  for (std::int64_t k = 0; k < classes; ++k)
    for (std::int64_t c = 0; c < features; ++c) head_w(k, c) = head(0, 0, c, k);
  graph.head(x, std::move(head_w), std::vector<float>(head_bias.begin(), head_bias.end()));
  bind.check_all_used();

  Weights& w = *model->weights_;
  w.architecture = "mobilenet_v1";
  w.parameters = bind.parameters();
  w.batchnorm_statistics = bind.statistics();
  char alpha[32];
  std::snprintf(alpha, sizeof alpha, "%.4g", static_cast<double>(c0) / 32.0);
  w.config = {
      {"width multiplier", std::string(alpha) + " (" + std::to_string(c0) + " to " +
                               std::to_string(features) + " channels)"},
      {"blocks", "13 depthwise-separable (stride 2 at conv1, conv_dw_2, 4, 6, 12)"},
      {"padding", "TensorFlow same"},
      {"activation", "ReLU6 after every convolution (BatchNorm eps 0.001)"},
  };
  return model;
}

}  // namespace vitscope
