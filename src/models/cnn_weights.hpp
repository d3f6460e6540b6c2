#pragma once
// The parameters of a CnnModel after loading (BatchNorm folded into every convolution) and the
// activation workspace its passes run in.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <xtensor/xtensor.hpp>

#include "vitscope/models/cnn.hpp"
#include "vitscope/kernels/conv_winograd.hpp"
#include "vitscope/kernels/gemm.hpp"

namespace vitscope {

struct CnnLayerWeights {
  kernels::PackedMatrix packed;  // Conv: [N, k·k·C], packed for linear()
  std::vector<float> weight;     // Conv: [N, k, k, C] row-major (the backward pass reads it);
                                 // DepthwiseConv: [3, 3, C]
  std::vector<float> bias;       // [N]: the folded BatchNorm shift
  // Conv 3×3 stride 1: the same weights transformed for conv2d_winograd.
  std::optional<kernels::WinogradWeights> winograd;
};

struct CnnModel::Weights {
  std::string architecture;  // "mobilenet_v1", "resnet"
  std::vector<std::pair<std::string, std::string>> config;  // architecture-specific summary lines
  std::vector<CnnLayerWeights> layers;                       // indexed like CnnModel::layers()
  xt::xtensor<float, 2> head_weight;                         // [classes, C]
  kernels::PackedMatrix head_packed;
  std::vector<float> head_bias;                              // [classes]
  std::int64_t parameters = 0;            // learned values in the file
  std::int64_t batchnorm_statistics = 0;  // running means and variances in the file
};

// Every layer's output for one (batch, height, width), in one arena. For inference, layers whose
// outputs are no longer needed hand their memory on (offsets overlap); with keep_every_layer (the
// backward pass needs all of them) each layer has its own span, and grads mirrors the arena.
struct CnnModel::Workspace : SessionState {
  int batch = 0, height = 0, width = 0;
  bool keep_every_layer = false;
  std::vector<CnnFeatureSize> sizes;  // per layer
  std::vector<std::size_t> offsets;   // per layer, into arena (and grads)
  // Per layer: the AddRelu layer this convolution writes into, its addition and ReLU fused into
  // the convolution's epilogue (that AddRelu is then skipped), or -1. Inference only.
  std::vector<int> fused_into;
  std::vector<float> arena;
  std::vector<float> grads;
  std::vector<float> pooled;          // [batch, C] of the feature layer

  std::size_t count(int layer) const {
    const CnnFeatureSize& s = sizes[layer];
    return static_cast<std::size_t>(batch) * s.height * s.width * s.channels;
  }
  float* output(int layer) { return arena.data() + offsets[layer]; }
  float* grad(int layer) { return grads.data() + offsets[layer]; }
};

// Adds layers and their (already folded) weights to a model under construction, checking that
// each layer's input exists and has the channels its weight expects.
class CnnGraphBuilder {
 public:
  explicit CnnGraphBuilder(CnnModel& model);  // adds layer 0, the image

  // weight[N, k, k, C] row-major, bias[N]; C must be the input's channels.
  int conv(const std::string& name, int input, int kernel, int stride, CnnPadding padding,
           std::vector<float> weight, std::vector<float> bias, CnnActivation activation);
  // weight[3, 3, C], bias[C].
  int depthwise(const std::string& name, int input, int stride, CnnPadding padding,
                std::vector<float> weight, std::vector<float> bias, CnnActivation activation);
  int max_pool(const std::string& name, int input, int kernel, int stride, CnnPadding padding);
  // Inputs of equal channel counts (and sizes, checked when run).
  int add_relu(const std::string& name, int a, int b);
  // weight[classes, C] over the pooled output of feature_layer.
  void head(int feature_layer, xt::xtensor<float, 2> weight, std::vector<float> bias);

  int channels(int layer) const;

 private:
  int add(CnnLayer layer, CnnLayerWeights weights);
  CnnModel& model_;
};

}  // namespace vitscope
