#pragma once
// The tensors of a ViT after loading (linear weights packed for the GEMM micro-kernel, vectors as
// is), and the workspace its forward pass runs in.
#include <map>
#include <utility>
#include <vector>

#include <xtensor/xtensor.hpp>

#include "vitscope/kernels/gemm.hpp"
#include "vitscope/kernels/gemm_bf16.hpp"
#include "vitscope/vit.hpp"

namespace vitscope {

// A Linear layer packed for the precision the model runs at: exactly one of the two weights is set.
struct PackedLinear {
  kernels::PackedMatrix weight;           // [out, in], fp32
  kernels::PackedMatrixBf16 weight_bf16;  // [out, in], bf16 pairs
  std::vector<float> bias;                // [out]
  Precision precision = Precision::Fp32;

  // out[M, out] (=|+=) act(a[M, in] · weightᵀ + bias)
  void apply(const float* a, int lda, int m, float* out, int ldo, bool gelu, bool accumulate,
             ThreadPool* pool) const {
    const kernels::LinearEpilogue epilogue{bias.data(), gelu, accumulate};
    if (precision == Precision::Bf16)
      kernels::linear_bf16(a, lda, m, weight_bf16, out, ldo, epilogue, pool);
    else
      kernels::linear(a, lda, m, weight, out, ldo, epilogue, pool);
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
  // pos_embed resampled for other grids, keyed by (grid_h, grid_w).
  std::map<std::pair<int, int>, xt::xtensor<float, 2>> resampled_pos_embed;
};

// Activations of one forward pass, sized once per (batch, tokens) and reused.
struct VitModel::Workspace {
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

}  // namespace vitscope
