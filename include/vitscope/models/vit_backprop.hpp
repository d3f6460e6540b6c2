#pragma once
// Gradients through a ViT (fp32): one image's forward pass kept on a tape, then backward passes
// from a cotangent on the logits or on one block's residual stream, down to the pixels and to each
// block's attention probabilities. Input gradients only: no weight gradients are formed.
//
// This is what gradient-based maps (input × gradient, gradient-weighted attention) and effective
// receptive fields stand on; the golden tests compare it with PyTorch autograd.
#include <vector>

#include <xtensor/xtensor.hpp>

#include "vitscope/models/session.hpp"
#include "vitscope/models/vit.hpp"

namespace vitscope {

// One image's forward pass with what its backward needs (T tokens, D width, M MLP width).
struct VitTape {
  int height = 0, width = 0, grid_h = 0, grid_w = 0, tokens = 0;
  xt::xtensor<float, 1> logits;                      // [classes]
  std::vector<xt::xtensor<float, 3>> attention;      // per block: softmax probabilities [heads, T, T]
  std::vector<xt::xtensor<float, 2>> stream;         // [depth + 1] × [T, D]: embedded tokens, then after each block

  struct Block {
    std::vector<float> xhat1, rstd1;  // norm1: normalised rows [T, D], 1/σ [T]
    std::vector<float> qkv;           // [T, 3·D]
    std::vector<float> xhat2, rstd2;  // norm2
    std::vector<float> fc1;           // [T, M] before the GELU
  };
  std::vector<Block> blocks;
  std::vector<float> final_xhat, final_rstd;  // the final norm's rows (pooled tokens, or all for mean pooling)
};

// Gradients of a scalar L with respect to the image and to each block's attention probabilities.
struct VitGradient {
  xt::xtensor<float, 3> image;                  // ∂L/∂image [3, H, W]
  std::vector<xt::xtensor<float, 3>> attention; // per block ∂L/∂A [heads, T, T]; zero for blocks after
                                                // the seed's; empty unless asked for
};

class VitBackprop {
 public:
  // ConfigError unless the model runs in fp32. Keeps the model's linear weights unpacked (the
  // backward multiplies by W where the forward multiplies by Wᵀ): as much memory as the model.
  explicit VitBackprop(const VitModel& model);
  const VitModel& model() const { return model_; }

  // image[3, H, W], preprocessed, H and W multiples of the patch size. Unmodified attention only
  // (no forward variants). On the session's threads; the logits equal forward()'s to rounding.
  VitTape record(const xt::xtensor<float, 3>& image, Session& session) const;

  // L = Σ_c dlogits[c] · logits[c] (a one-hot dlogits: the gradient of one class's logit).
  VitGradient from_logits(const VitTape& tape, const std::vector<float>& dlogits,
                          bool attention_gradients, Session& session) const;
  // L = Σ seed[t, d] · stream[block + 1][t, d]: a cotangent on the residual stream after `block`
  // (0-based), seed [T, D].
  VitGradient from_stream(const VitTape& tape, int block, const xt::xtensor<float, 2>& seed,
                          bool attention_gradients, Session& session) const;

  ~VitBackprop();
  struct Unpacked;  // plain [out, in] weights of every linear layer

 private:
  VitGradient backward(const VitTape& tape, int last_block, std::vector<float> dstream,
                       bool attention_gradients, Session& session) const;

  const VitModel& model_;
  std::unique_ptr<Unpacked> unpacked_;
};

}  // namespace vitscope
