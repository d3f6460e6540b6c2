// The CNN forward pass: a plan that sizes one arena per (batch, height, width) and lets layers
// reuse the memory of outputs nobody reads any more, then the layers in order, then global average
// pooling and the classifier.
#include <algorithm>

#include "models/cnn_weights.hpp"
#include "vitscope/core/error.hpp"

namespace vitscope {

CnnModel::CnnModel()
    : weights_(std::make_unique<Weights>()), session_key_(Session::new_owner_key()) {}
CnnModel::~CnnModel() = default;

int CnnModel::num_classes() const { return static_cast<int>(weights_->head_bias.size()); }
const xt::xtensor<float, 2>& CnnModel::head_weight() const { return weights_->head_weight; }
const std::vector<float>& CnnModel::head_bias() const { return weights_->head_bias; }

CnnModel::Workspace& CnnModel::plan(Session& session, int batch, int height, int width,
                                    bool keep_every_layer) const {
  Workspace& ws = session.state_for<Workspace>(session_key_);
  if (ws.batch == batch && ws.height == height && ws.width == width &&
      ws.keep_every_layer == keep_every_layer)
    return ws;
  ws.sizes = feature_sizes(height, width);
  ws.batch = batch;
  ws.height = height;
  ws.width = width;
  ws.keep_every_layer = keep_every_layer;
  const int count = static_cast<int>(layers_.size());

  // The last layer that reads each output (the feature layer is read by the head, at the end).
  std::vector<int> last_use(count), readers(count, 0);
  for (int i = 0; i < count; ++i) last_use[i] = i;
  for (int i = 0; i < count; ++i)
    for (int input : layers_[i].inputs) {
      last_use[input] = std::max(last_use[input], i);
      ++readers[input];
    }
  last_use[feature_layer_] = count;

  // A convolution without activation read only by the AddRelu right after it (a residual block's
  // end) writes that AddRelu's output directly: clamp(conv + bias + shortcut) in one pass. Its input
  // must then live until the AddRelu's output is allocated, or the two could share memory.
  ws.fused_into.assign(count, -1);
  if (!keep_every_layer)
    for (int i = 1; i + 1 < count; ++i) {
      const CnnLayer& conv = layers_[i];
      const CnnLayer& add = layers_[i + 1];
      if (conv.op != CnnOp::Conv || conv.activation != CnnActivation::None || readers[i] != 1 ||
          i == feature_layer_ || add.op != CnnOp::AddRelu || add.inputs[0] == add.inputs[1] ||
          (add.inputs[0] != i && add.inputs[1] != i))
        continue;
      ws.fused_into[i] = i + 1;
      last_use[conv.inputs[0]] = std::max(last_use[conv.inputs[0]], i + 1);
    }

  // Slots of memory, each holding one output at a time; an output takes the smallest free slot
  // that fits (else the largest free one, grown), and frees it after its last reader.
  struct Slot {
    std::size_t capacity = 0;
    int busy_until = -1;  // last_use of the current tenant
  };
  std::vector<Slot> slots;
  std::vector<int> slot_of(count);
  for (int i = 0; i < count; ++i) {
    const std::size_t need = ws.count(i);
    int best = -1;
    if (!keep_every_layer)
      for (int s = 0; s < static_cast<int>(slots.size()); ++s) {
        if (slots[s].busy_until >= i) continue;
        const bool fits = slots[s].capacity >= need;
        if (best < 0) { best = s; continue; }
        const bool best_fits = slots[best].capacity >= need;
        if ((fits && (!best_fits || slots[s].capacity < slots[best].capacity)) ||
            (!fits && !best_fits && slots[s].capacity > slots[best].capacity))
          best = s;
      }
    if (best < 0) {
      best = static_cast<int>(slots.size());
      slots.emplace_back();
    }
    slots[best].capacity = std::max(slots[best].capacity, need);
    slots[best].busy_until = last_use[i];
    slot_of[i] = best;
  }
  std::vector<std::size_t> slot_offset(slots.size());
  std::size_t total = 0;
  for (std::size_t s = 0; s < slots.size(); ++s) {
    slot_offset[s] = total;
    total += slots[s].capacity;
  }
  ws.offsets.resize(count);
  for (int i = 0; i < count; ++i) ws.offsets[i] = slot_offset[slot_of[i]];
  ws.arena.assign(total, 0.0f);
  ws.grads.clear();
  if (keep_every_layer) ws.grads.assign(total, 0.0f);
  ws.pooled.assign(static_cast<std::size_t>(batch) * layers_[feature_layer_].channels, 0.0f);
  return ws;
}

void CnnModel::run_layers(const xt::xtensor<float, 4>& batch, Workspace& ws, ThreadPool* pool) const {
  const int B = ws.batch, H = ws.height, W = ws.width;
  // The image, NCHW → NHWC.
  float* image = ws.output(0);
  for (int b = 0; b < B; ++b)
    for (int c = 0; c < 3; ++c) {
      const float* src = batch.data() + (static_cast<std::size_t>(b) * 3 + c) * H * W;
      float* dst = image + static_cast<std::size_t>(b) * H * W * 3 + c;
      for (std::size_t p = 0; p < static_cast<std::size_t>(H) * W; ++p) dst[p * 3] = src[p];
    }

  for (std::size_t i = 1; i < layers_.size(); ++i) {
    if (ws.fused_into[i - 1] == static_cast<int>(i)) continue;  // computed by the convolution before
    const CnnLayer& l = layers_[i];
    const CnnLayerWeights& w = weights_->layers[i];
    const CnnFeatureSize& in = ws.sizes[l.inputs[0]];
    kernels::ConvGeometry g;
    g.batch = B;
    g.height = in.height;
    g.width = in.width;
    g.channels = in.channels;
    g.kernel = l.kernel;
    g.stride = l.stride;
    g.pad = l.padding.resolve(in.height, in.width, l.kernel, l.stride);
    const float* x = ws.output(l.inputs[0]);
    float* y = ws.output(static_cast<int>(i));
    kernels::Clamp clamp = activation_clamp(l.activation);
    switch (l.op) {
      case CnnOp::Conv: {
        const float* shortcut = nullptr;
        if (const int add = ws.fused_into[i]; add >= 0) {
          const CnnLayer& a = layers_[add];
          shortcut = ws.output(a.inputs[0] == static_cast<int>(i) ? a.inputs[1] : a.inputs[0]);
          clamp = activation_clamp(a.activation);
          y = ws.output(add);
        }
        if (w.winograd && kernels::winograd_pays_off(g, *w.winograd)) {
          kernels::conv2d_winograd(g, x, *w.winograd, w.bias.data(), clamp, y, pool, shortcut);
        } else {
          kernels::conv2d(g, x, w.packed, w.bias.data(), clamp, y, pool, shortcut);
        }
        break;
      }
      case CnnOp::DepthwiseConv:
        kernels::depthwise_conv3x3(g, x, w.weight.data(), w.bias.data(), clamp, y, pool);
        break;
      case CnnOp::MaxPool:
        kernels::max_pool(g, x, y, pool);
        break;
      case CnnOp::AddRelu:
        kernels::add_clamp(x, ws.output(l.inputs[1]), ws.count(static_cast<int>(i)), clamp, y, pool);
        break;
      case CnnOp::Input:
        break;
    }
  }
}

xt::xtensor<float, 2> CnnModel::forward(const xt::xtensor<float, 4>& batch, Session& session) const {
  return forward(batch, session, false);
}

xt::xtensor<float, 2> CnnModel::forward(const xt::xtensor<float, 4>& batch, Session& session,
                                        bool record_features) const {
  const int B = static_cast<int>(batch.shape(0)), H = static_cast<int>(batch.shape(2)),
            W = static_cast<int>(batch.shape(3));
  if (batch.shape(1) != 3 || B == 0)
    throw ConfigError("input of shape [" + std::to_string(B) + "," + std::to_string(batch.shape(1)) +
                      "," + std::to_string(H) + "," + std::to_string(W) +
                      "]: expected [batch,3,height,width]");
  Workspace& ws = plan(session, B, H, W, /*keep_every_layer=*/false);
  run_layers(batch, ws, session.pool());
  const CnnFeatureSize& f = ws.sizes[feature_layer_];
  const float* feature_map = ws.output(feature_layer_);
  kernels::global_average_pool(feature_map, B, f.height * f.width, f.channels, ws.pooled.data());
  const int classes = num_classes();
  xt::xtensor<float, 2> logits = xt::xtensor<float, 2>::from_shape(
      {static_cast<std::size_t>(B), static_cast<std::size_t>(classes)});
  kernels::linear(ws.pooled.data(), f.channels, B, weights_->head_packed, logits.data(), classes,
                  {weights_->head_bias.data(), false, false}, session.pool());
  if (record_features) {
    xt::xtensor<float, 4>& features = session.recording().features;
    features = xt::xtensor<float, 4>::from_shape(
        {static_cast<std::size_t>(B), static_cast<std::size_t>(f.height),
         static_cast<std::size_t>(f.width), static_cast<std::size_t>(f.channels)});
    std::copy(feature_map, feature_map + features.size(), features.begin());
  }
  return logits;
}

}  // namespace vitscope
