#pragma once
// What a ViT's attention shows: where the class token looks (per head, or rolled out through all
// layers) and how far each head looks (mean attention distance).
#include <string>

#include <xtensor/xtensor.hpp>

#include "vitscope/models/vit.hpp"

namespace vitscope {

// Where the patch tokens sit: `prefix` class/distillation tokens, then a grid_h × grid_w grid of
// patch_size-pixel patches, row-major.
struct TokenLayout {
  int prefix = 1;
  int grid_h = 14;
  int grid_w = 14;
  int patch_size = 16;
};
TokenLayout token_layout(const VitModel& model, int input_height, int input_width);

enum class HeadFusion { Mean, Max, Min };
HeadFusion parse_head_fusion(const std::string& name);  // "mean" | "max" | "min"; ConfigError
const char* head_fusion_name(HeadFusion fusion);

struct RolloutOptions {
  HeadFusion fusion = HeadFusion::Mean;
  double discard_ratio = 0;  // fraction of the lowest fused attentions zeroed per layer
};

// Attention rollout (Abnar & Zuidema, 2020) of image `image`: per layer the heads are fused, the
// lowest `discard_ratio` of entries zeroed (never the class token's own entry), the identity added
// for the residual path, A' = (A + I) / 2, rows renormalised, and the layers multiplied (later ones
// on the left). Returns the class token's row over the patches, [grid_h, grid_w], scaled to max 1.
xt::xtensor<float, 2> attention_rollout(const AttentionMaps& attention, int image,
                                        const TokenLayout& layout, const RolloutOptions& options);

// The class token's attention to every patch in one layer, per head: [heads, grid_h, grid_w]
// (probabilities as they are; they sum with the prefix tokens' share to 1).
xt::xtensor<float, 3> class_token_attention(const AttentionMaps& attention, int layer, int image,
                                            const TokenLayout& layout);

// Mean attention distance in pixels (Dosovitskiy et al., 2021, fig. 7): per layer and head, the
// sum over key patches of attention × distance between patch centres, averaged over query patches
// and over the images of the batch. Patch tokens only; probabilities are not renormalised.
// Returns [layers, heads].
xt::xtensor<double, 2> mean_attention_distance(const AttentionMaps& attention,
                                               const TokenLayout& layout);

}  // namespace vitscope
