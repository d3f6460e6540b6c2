#pragma once
// The tensors of a ViT after loading (linear weights packed at the model's precision, vectors as
// is), and what a session keeps for it: the workspaces its forward passes run in and the
// positional embeddings resampled for other grids.
#include <cstdint>
#include <map>
#include <memory>
#include <utility>
#include <vector>

#include <xtensor/xtensor.hpp>

#include "vitscope/kernels/linear.hpp"
#include "vitscope/models/vit.hpp"

namespace vitscope {

// A Linear layer: weights packed for the precision the model runs at, and its bias.
struct PackedLinear {
  kernels::LinearWeights weight;  // [out, in]
  std::vector<float> bias;        // [out]

  // out[M, out] (=|+=) act(a[M, in] · weightᵀ + bias)
  void apply(const float* a, int lda, int m, float* out, int ldo, bool gelu, bool accumulate,
             ThreadPool* pool) const {
    weight.apply(a, lda, m, out, ldo, kernels::LinearEpilogue{bias.data(), gelu, accumulate}, pool);
  }
};

struct LayerNormParams {
  std::vector<float> gamma, beta;  // [width]
};

struct VitBlockWeights {
  LayerNormParams norm1, norm2;
  PackedLinear qkv;   // [3·D, D], rows q | k | v, each split into heads
  PackedLinear proj;  // [D, D]
  PackedLinear fc1;   // [mlp, D]
  PackedLinear fc2;   // [D, mlp]
};

struct VitModel::Weights {
  PackedLinear patch_embed;        // [D, 3·P·P]: the 16×16 stride-16 convolution as one GEMM
  std::vector<float> cls_token;    // [D] or empty
  std::vector<float> dist_token;   // [D] or empty
  xt::xtensor<float, 2> pos_embed; // [prefix + grid_h·grid_w, D]
  std::vector<VitBlockWeights> blocks;
  LayerNormParams final_norm;      // `norm`, or `fc_norm` for mean pooling
  PackedLinear head;               // [classes, D]
  PackedLinear head_dist;          // distilled only
  std::int64_t parameters = 0;
};

// Activations of one forward pass, sized once per (batch, tokens) and reused.
struct VitWorkspace {
  int batch = 0, tokens = 0;
  std::vector<float> patches;   // [B·grid, 3·P·P]
  std::vector<float> x;         // [B·T, D]   the residual stream
  std::vector<float> normed;    // [B·T, D]
  std::vector<float> qkv;       // [B·T, 3·D]
  std::vector<float> attended;  // [B·T, D]   heads concatenated
  std::vector<float> hidden;    // [B·T, mlp]
  std::vector<float> scores;    // [B·heads, T, T], only when attention maps are recorded
  std::vector<float> pooled;    // [B, D] (and [B, D] more for the distillation token)
  std::vector<float> logits;    // [B, classes] for head_dist

  void reserve(const VitConfig& c, int B, int T, int grid) {
    if (B == batch && T == tokens) return;
    batch = B;
    tokens = T;
    const std::size_t rows = static_cast<std::size_t>(B) * T;
    patches.resize(static_cast<std::size_t>(B) * grid * 3 * c.patch_size * c.patch_size);
    x.resize(rows * c.width);
    normed.resize(rows * c.width);
    qkv.resize(rows * 3 * c.width);
    attended.resize(rows * c.width);
    hidden.resize(rows * c.mlp_hidden);
    pooled.resize(static_cast<std::size_t>(2) * B * c.width);
    logits.resize(static_cast<std::size_t>(B) * c.num_classes);
  }
};

// What a session keeps for one ViT.
struct VitModel::SessionData : SessionState {
  std::vector<std::unique_ptr<VitWorkspace>> workspaces;  // [0] for whole batches, [1 + t] for task t's images
  // pos_embed resampled for other grids, keyed by (grid_h, grid_w).
  std::map<std::pair<int, int>, xt::xtensor<float, 2>> resampled_pos_embed;
  xt::xtensor<float, 2> variant_pos_embed;  // the zero or permuted embedding of the current pass

  VitWorkspace& workspace(std::size_t index) {
    if (workspaces.size() <= index) workspaces.resize(index + 1);
    if (!workspaces[index]) workspaces[index] = std::make_unique<VitWorkspace>();
    return *workspaces[index];
  }
};

// What one forward call settles before any thread starts.
struct VitModel::Pass {
  const VitForwardOptions* options = nullptr;
  int height = 0, width = 0;    // of the input images
  int grid_h = 0, grid_w = 0;   // patch grid
  int tokens = 0;               // prefix + grid_h·grid_w
  const xt::xtensor<float, 2>* pos_embed = nullptr;  // [tokens, D]
  std::vector<std::uint8_t> head_off;  // [depth·heads]: 1 where a head's output is zeroed
  std::vector<const HeadKernel*> head_kernels;  // [depth·heads]: the kernel replacing a head, or null
  SessionData* data = nullptr;
};

}  // namespace vitscope
