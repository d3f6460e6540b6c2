#pragma once
// Vision Transformer in timm's layout (ViT, DeiT, DeiT distilled, mean-pooled ViTs).
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <xtensor/xtensor.hpp>

#include "vitscope/models/classifier.hpp"
#include "vitscope/kernels/precision.hpp"
#include "vitscope/io/safetensors.hpp"
#include "vitscope/models/session.hpp"
#include "vitscope/models/vit_options.hpp"

namespace vitscope {

enum class VitPooling { ClassToken, Distilled, Mean };

struct VitConfig {
  int patch_size = 16;
  int width = 0;        // D, from the tensors
  int depth = 0;        // number of blocks, from the tensors
  int heads = 0;        // not in the tensors: from the manifest, metadata or width / 64
  int mlp_hidden = 0;   // from the tensors
  int num_classes = 0;  // from the tensors
  int pos_grid_h = 0;   // the patch grid pos_embed was trained for
  int pos_grid_w = 0;
  int prefix_tokens = 0;  // cls (+ dist) tokens before the patch tokens
  VitPooling pooling = VitPooling::ClassToken;
  bool fc_norm = false;   // mean pooling followed by fc_norm instead of a final norm
  float layernorm_eps = 1e-6f;
  bool pos_embed_antialias = true;  // timm >= 0.9 resamples with antialias (older timm without)
  Precision precision = Precision::Fp32;
  int head_dim() const { return width / heads; }
};

// Per layer, the attention probabilities softmax(q·kᵀ/√d): [batch, heads, tokens, tokens].
using AttentionMaps = std::vector<xt::xtensor<float, 4>>;

// A loaded ViT: config, preprocessing and packed weights, immutable after load. Any number of
// threads may run it at once, each with its own Session.
class VitModel final : public ImageClassifier {
 public:
  // Binds the tensors of a timm-named checkpoint, checking every shape against the config derived
  // from it. heads = 0 takes the file's "heads" metadata, else width / 64. pos_grid is the grid the
  // model was trained at (0: from the spec's input size, else a square grid). pool (may be null)
  // packs the weights.
  static std::unique_ptr<VitModel> load(const SafeTensors& file, const ModelSpec& spec,
                                        ThreadPool* pool);

  const ModelSpec& spec() const override { return spec_; }
  const VitConfig& config() const { return config_; }
  int num_classes() const override { return config_.num_classes; }
  ModelSummary summary() const override;

  // batch[B, 3, H, W] → logits[B, classes]; H and W must be multiples of the patch size. The
  // positional embedding is resampled (bicubic, as timm) when the grid differs from training.
  xt::xtensor<float, 2> forward(const xt::xtensor<float, 4>& batch, Session& session) const override;
  // The same with variants (attention visibility, normalisation, heads off, positional
  // embedding) and recordings (into session.recording()); ConfigError on options that do not
  // fit the model or the input.
  xt::xtensor<float, 2> forward(const xt::xtensor<float, 4>& batch, Session& session,
                                const VitForwardOptions& options) const;

  ~VitModel() override;

  // Defined in src/models/vit_weights.hpp.
  struct Weights;      // the packed parameters
  struct SessionData;  // what a session keeps for this model
  struct Pass;         // what one forward call settles before its threads start
  // The packed parameters, for code inside the models module (backward passes) that includes
  // src/models/vit_weights.hpp.
  const Weights& weights() const { return *weights_; }

 private:
  VitModel();
  // logits[n, classes] ← the layer stack on images[n, 3, H, W] (contiguous), on pool (null: this
  // thread only), in the workspace of pass.
  void forward_images(const Pass& pass, const float* images, int n, ThreadPool* pool,
                      StageProfile* profile, Recording* recording, int workspace,
                      float* logits) const;

  ModelSpec spec_;
  VitConfig config_;
  std::unique_ptr<Weights> weights_;
  std::uint64_t session_key_;
};

// pos[T0, D] laid out as prefix tokens then a grid_h × grid_w grid → [prefix + out_h·out_w, D]:
// PyTorch's F.interpolate(mode="bicubic", align_corners=False, antialias) on the grid, as timm's
// resample_abs_pos_embed; prefix rows copied.
xt::xtensor<float, 2> resample_position_embedding(const xt::xtensor<float, 2>& pos, int prefix,
                                                  int grid_h, int grid_w, int out_h, int out_w,
                                                  bool antialias);

}  // namespace vitscope
