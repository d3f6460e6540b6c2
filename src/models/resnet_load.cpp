// ResNet from a torchvision / timm checkpoint: conv1 [C0,3,k,k] + bn1, then layer{1..}.{i} blocks
// (basic: conv1 3×3, conv2 3×3; bottleneck: conv1 1×1, conv2 3×3, conv3 1×1; each with bn1..3 and
// an optional downsample.0 1×1 convolution + downsample.1 BatchNorm), then fc. Convolution weights
// are OIHW; num_batches_tracked counters are ignored. BatchNorm (eps 1e-5) is folded.
#include <algorithm>

#include "models/cnn_batchnorm.hpp"
#include "models/cnn_weights.hpp"
#include "vitscope/core/error.hpp"

namespace vitscope {
namespace {

constexpr double kBatchNormEps = 1e-5;

CnnPadding symmetric(int pixels) { return {false, {pixels, pixels, pixels, pixels}}; }

// A convolution <weight_prefix>.weight [O, C, k, k] (C = the input's channels), folded with the
// BatchNorm <bn_prefix>.{weight,bias,running_mean,running_var}.
int conv_bn(CnnGraphBuilder& graph, TensorBinder& bind, const std::string& layer_name,
            const std::string& weight_name, const std::string& bn_prefix, int input, int kernel,
            int stride, CnnActivation activation) {
  const std::int64_t c = graph.channels(input);
  if (!bind.has(weight_name)) throw WeightsError(bind.path() + ": no tensor '" + weight_name + "'");
  const TensorShape& shape = bind.shape(weight_name);
  if (shape.size() != 4 || shape[0] <= 0)
    throw WeightsError(bind.path() + ": tensor '" + weight_name + "' has shape " +
                       shape_to_string(shape) + ", expected [out," + std::to_string(c) + "," +
                       std::to_string(kernel) + "," + std::to_string(kernel) + "]");
  const std::int64_t o = shape[0];
  const xt::xarray<float> k = bind.take(weight_name, {o, c, kernel, kernel});
  std::vector<float> w(static_cast<std::size_t>(o * kernel * kernel * c)), bias;
  for (std::int64_t n = 0; n < o; ++n)
    for (int ky = 0; ky < kernel; ++ky)
      for (int kx = 0; kx < kernel; ++kx)
        for (std::int64_t i = 0; i < c; ++i)
          w[((n * kernel + ky) * kernel + kx) * c + i] = k(n, i, ky, kx);
  fold_affine(bind_batchnorm(bind, bn_prefix + ".weight", bn_prefix + ".bias", bn_prefix + ".running_mean",
                             bn_prefix + ".running_var", o, kBatchNormEps),
              w, bias);
  bind.ignore(bn_prefix + ".num_batches_tracked");
  return graph.conv(layer_name, input, kernel, stride, symmetric(kernel / 2), std::move(w),
                    std::move(bias), activation);
}

}  // namespace

std::unique_ptr<CnnModel> CnnModel::load_resnet(const SafeTensors& file, const ModelSpec& spec,
                                                ThreadPool* pool) {
  if (!file.contains("conv1.weight") || !file.contains("layer1.0.conv1.weight"))
    throw WeightsError(file.path() + ": not a ResNet in torchvision/timm layout (no tensor "
                                     "'conv1.weight' or 'layer1.0.conv1.weight')");
  std::unique_ptr<CnnModel> model(new CnnModel());
  model->spec_ = spec;

  TensorBinder bind(file, "a ResNet in torchvision/timm layout", pool);
  CnnGraphBuilder graph(*model);

  const TensorShape& stem = bind.shape("conv1.weight");
  if (stem.size() != 4 || stem[1] != 3 || stem[2] != stem[3] || stem[2] % 2 == 0)
    throw WeightsError(file.path() + ": tensor 'conv1.weight' has shape " + shape_to_string(stem) +
                       ", expected [out,3,k,k] with k odd");
  const int stem_kernel = static_cast<int>(stem[2]);
  int x = conv_bn(graph, bind, "conv1", "conv1.weight", "bn1", 0, stem_kernel, 2, CnnActivation::Relu);
  x = graph.max_pool("maxpool", x, 3, 2, symmetric(1));

  std::vector<int> blocks_per_stage;
  std::string widths;
  bool bottleneck = false;
  for (int stage = 1; bind.has("layer" + std::to_string(stage) + ".0.conv1.weight"); ++stage) {
    int blocks = 0;
    for (int i = 0;; ++i, ++blocks) {
      const std::string p = "layer" + std::to_string(stage) + "." + std::to_string(i);
      if (!bind.has(p + ".conv1.weight")) break;
      const int stride = (stage > 1 && i == 0) ? 2 : 1;
      const bool is_bottleneck = bind.has(p + ".conv3.weight");
      if (stage == 1 && i == 0) bottleneck = is_bottleneck;
      if (is_bottleneck != bottleneck)
        throw WeightsError(file.path() + ": block '" + p + "' mixes basic and bottleneck blocks");
      int branch;
      if (is_bottleneck) {
        branch = conv_bn(graph, bind, p + ".conv1", p + ".conv1.weight", p + ".bn1", x, 1, 1, CnnActivation::Relu);
        branch = conv_bn(graph, bind, p + ".conv2", p + ".conv2.weight", p + ".bn2", branch, 3, stride, CnnActivation::Relu);
        branch = conv_bn(graph, bind, p + ".conv3", p + ".conv3.weight", p + ".bn3", branch, 1, 1, CnnActivation::None);
      } else {
        branch = conv_bn(graph, bind, p + ".conv1", p + ".conv1.weight", p + ".bn1", x, 3, stride, CnnActivation::Relu);
        branch = conv_bn(graph, bind, p + ".conv2", p + ".conv2.weight", p + ".bn2", branch, 3, 1, CnnActivation::None);
      }
      int shortcut = x;
      if (bind.has(p + ".downsample.0.weight")) {
        shortcut = conv_bn(graph, bind, p + ".downsample", p + ".downsample.0.weight",
                           p + ".downsample.1", x, 1, stride, CnnActivation::None);
      } else if (stride != 1 || graph.channels(x) != graph.channels(branch)) {
        throw WeightsError(file.path() + ": block '" + p + "' changes the shape (stride " +
                           std::to_string(stride) + ", " + std::to_string(graph.channels(x)) + " to " +
                           std::to_string(graph.channels(branch)) +
                           " channels) but has no tensor '" + p + ".downsample.0.weight'");
      }
      x = graph.add_relu(p, branch, shortcut);
    }
    blocks_per_stage.push_back(blocks);
    widths += (widths.empty() ? "" : "-") + std::to_string(graph.channels(x));
  }

  const std::int64_t features = graph.channels(x);
  if (!bind.has("fc.weight")) throw WeightsError(file.path() + ": no tensor 'fc.weight'");
  const TensorShape& fc_shape = bind.shape("fc.weight");
  const std::int64_t classes = fc_shape.size() == 2 ? fc_shape[0] : -1;
  if (classes <= 0)
    throw WeightsError(file.path() + ": tensor 'fc.weight' has shape " + shape_to_string(fc_shape) +
                       ", expected [classes," + std::to_string(features) + "]");
  const xt::xarray<float> fc = bind.take("fc.weight", {classes, features});
  const xt::xarray<float> fc_bias = bind.take("fc.bias", {classes});
  xt::xtensor<float, 2> head = xt::xtensor<float, 2>::from_shape(
      {static_cast<std::size_t>(classes), static_cast<std::size_t>(features)});
  std::copy(fc.begin(), fc.end(), head.begin());
  graph.head(x, std::move(head), std::vector<float>(fc_bias.begin(), fc_bias.end()));
  bind.check_all_used();

  int blocks_total = 0;
  std::string counts;
  for (int b : blocks_per_stage) {
    blocks_total += b;
    counts += (counts.empty() ? "" : "-") + std::to_string(b);
  }
  const int depth = 2 + blocks_total * (bottleneck ? 3 : 2);
  Weights& w = *model->weights_;
  w.architecture = "resnet";
  w.parameters = bind.parameters();
  w.batchnorm_statistics = bind.statistics();
  w.config = {
      {"variant", "ResNet-" + std::to_string(depth) + " (" + (bottleneck ? "bottleneck" : "basic") +
                      " blocks " + counts + ")"},
      {"stage widths", widths},
      {"stem", std::to_string(stem_kernel) + "x" + std::to_string(stem_kernel) +
                   " stride 2, 3x3 max pool stride 2"},
      {"activation", "ReLU (BatchNorm eps 1e-05)"},
  };
  return model;
}

}  // namespace vitscope
