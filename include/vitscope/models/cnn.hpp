#pragma once
// Convolutional classifiers: MobileNet v1 (Keras layout) and ResNet (torchvision / timm layout),
// run as a small graph of layers on NHWC activations ([batch, height, width, channels]: a 1×1
// convolution is then one GEMM over the pixels, a k×k one a GEMM over im2col patches, and a
// depthwise one vectorises over the contiguous channels). BatchNorm is folded into the
// convolutions at load. The graph is public so that the maps (CAM, receptive fields) can walk it;
// the model can also back-propagate to its input for effective receptive fields.
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <xtensor/xtensor.hpp>

#include "vitscope/models/classifier.hpp"
#include "vitscope/kernels/conv.hpp"
#include "vitscope/io/safetensors.hpp"

namespace vitscope {

enum class CnnOp {
  Input,          // the image (layer 0 only)
  Conv,           // k×k convolution with bias (BatchNorm folded), then the activation
  DepthwiseConv,  // 3×3 depthwise convolution with bias, then the activation
  MaxPool,        // k×k max pooling
  AddRelu,        // ReLU(a + b): the end of a residual block
};
const char* cnn_op_name(CnnOp op);  // "input", "conv", "depthwise", "maxpool", "add+relu"

enum class CnnActivation { None, Relu, Relu6 };
kernels::Clamp activation_clamp(CnnActivation activation);

// A layer's zero padding: explicit pixels per side, or TensorFlow "same" (total padding
// max((ceil(in / s) − 1)·s + k − in, 0), the odd pixel at the bottom/right), which depends on the
// input size.
struct CnnPadding {
  bool tf_same = false;
  kernels::Padding2d pixels;  // when not tf_same
  kernels::Padding2d resolve(int in_height, int in_width, int kernel, int stride) const;
};

// One layer of the graph. Layers are in execution order; inputs are indices of earlier layers;
// layer 0 is the image.
struct CnnLayer {
  std::string name;  // "image", "conv1", "conv_dw_3", "conv_pw_3", "maxpool", "layer2.0.conv1",
                     // "layer2.0.downsample", "layer2.0" (a residual block's output)
  CnnOp op = CnnOp::Input;
  std::vector<int> inputs;
  int kernel = 1, stride = 1;
  CnnPadding padding;
  int channels = 0;  // output channels
  CnnActivation activation = CnnActivation::None;
  int depth = 0;     // convolutions on the longest path from the image, this one included
};

struct CnnFeatureSize {
  int height = 0, width = 0, channels = 0;
};

// A unit of a layer's output (after its activation) to differentiate: position (y, x), and one
// channel or the sum over all channels.
struct CnnUnit {
  int layer = 0;
  int y = 0, x = 0;
  int channel = -1;  // -1: Σ over the channels at (y, x)
};

class CnnModel final : public ImageClassifier {
 public:
  // MobileNet v1 with Keras names (conv1/kernel, conv1_bn/*, conv_dw_N/depthwise_kernel,
  // conv_pw_N/kernel, conv_preds/kernel + bias): width from the shapes, BatchNorm eps 1e-3, ReLU6,
  // TensorFlow "same" padding, stride 2 at conv1 and conv_dw_{2,4,6,12}.
  static std::unique_ptr<CnnModel> load_mobilenet_v1(const SafeTensors& file, const ModelSpec& spec,
                                                     ThreadPool* pool);
  // ResNet with torchvision / timm names (conv1, bn1, layer{1..4}.{i}.conv{1,2,3}, bn{1,2,3},
  // downsample.{0,1}, fc): basic or bottleneck blocks and their counts from the tensors,
  // BatchNorm eps 1e-5, ReLU, 3×3 stride-2 max pool, stride 2 in the first block of layers 2+
  // (on the 3×3 convolution of a bottleneck, as torchvision ≥ 0.6 and timm).
  static std::unique_ptr<CnnModel> load_resnet(const SafeTensors& file, const ModelSpec& spec,
                                               ThreadPool* pool);

  const ModelSpec& spec() const override { return spec_; }
  int num_classes() const override;
  ModelSummary summary() const override;

  // batch[B, 3, H, W] → logits[B, classes], on the session's threads and in its workspace.
  xt::xtensor<float, 2> forward(const xt::xtensor<float, 4>& batch, Session& session) const override;
  // The same, also recording the feature map the head pools into session.recording().features
  // ([B, h, w, C], NHWC).
  xt::xtensor<float, 2> forward(const xt::xtensor<float, 4>& batch, Session& session,
                                bool record_features) const;

  const std::vector<CnnLayer>& layers() const { return layers_; }
  int find_layer(const std::string& name) const;  // ConfigError naming the known layers
  int feature_layer() const { return feature_layer_; }  // the layer the head pools
  // Output size of every layer for an image of height × width (ConfigError when too small).
  std::vector<CnnFeatureSize> feature_sizes(int height, int width) const;

  // The classifier: logits = head_weight · mean_{h,w}(features) + head_bias.
  const xt::xtensor<float, 2>& head_weight() const;  // [classes, C]
  const std::vector<float>& head_bias() const;        // [classes]

  // ∂unit/∂image for one preprocessed image[3, H, W]: one forward pass keeping every layer's
  // output, then for each unit a backward pass through the transposed convolutions, the
  // activations' masks and the max-pool routing (input gradients only). Returns [3, H, W] each.
  std::vector<xt::xtensor<float, 3>> input_gradients(const xt::xtensor<float, 3>& image,
                                                     const std::vector<CnnUnit>& units,
                                                     Session& session) const;

  // For Grad-CAM: one forward pass of image[3, H, W], then ∂logit[class_index]/∂(output of
  // `layer`, after its activation), for a layer at or before the pooled features (layer 0: the
  // image itself, as [H, W, 3]).
  struct LayerGradient {
    xt::xtensor<float, 1> logits;      // [classes]
    xt::xtensor<float, 3> activation;  // [h, w, C], NHWC
    xt::xtensor<float, 3> gradient;    // [h, w, C]
  };
  LayerGradient class_gradient(const xt::xtensor<float, 3>& image, int class_index, int layer,
                               Session& session) const;

  ~CnnModel() override;

  // Defined in src/models/cnn_weights.hpp.
  struct Weights;    // the folded, packed parameters
  struct Workspace;  // what a session keeps for this model

 private:
  friend class CnnGraphBuilder;
  CnnModel();
  Workspace& plan(Session& session, int batch, int height, int width, bool keep_every_layer) const;
  void run_layers(const xt::xtensor<float, 4>& batch, Workspace& ws, ThreadPool* pool) const;
  void backward(const CnnUnit& unit, Workspace& ws, ThreadPool* pool,
                xt::xtensor<float, 3>& grad_image) const;
  // ws.grad(top) seeded, every earlier gradient zero → ws.grad(stop) = ∂/∂output(stop).
  void propagate(int top, int stop, Workspace& ws, ThreadPool* pool) const;

  ModelSpec spec_;
  std::vector<CnnLayer> layers_;
  int feature_layer_ = 0;
  std::unique_ptr<Weights> weights_;
  std::uint64_t session_key_;
};

}  // namespace vitscope
