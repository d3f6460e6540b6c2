#pragma once
// One block's multi-head self-attention over a group of images, from the fused q|k|v projections
// to the heads' concatenated outputs, with the forward variants of VitForwardOptions (visibility,
// normalisation, heads off). The unmodified attention runs the same code whatever the variants.
#include <cstdint>

#include "vitscope/kernels/linear.hpp"
#include "vitscope/models/vit_options.hpp"
#include "vitscope/core/thread_pool.hpp"

namespace vitscope::vit_detail {

struct AttentionShape {
  int images = 0, tokens = 0;  // B, T
  int width = 0, heads = 0;    // D, heads (head dim D / heads)
  int prefix = 0;              // class / distillation tokens before the patches
  int grid_h = 0, grid_w = 0;  // patch grid: token prefix + r·grid_w + c is patch (r, c)
  int queries = 0;             // the query rows computed: tokens [0, queries) of each image (0: all)
};

// What differs from softmax attention over every token in this block.
struct AttentionVariant {
  int window = 0;                        // k×k window of patches (odd), 0: none
  const std::uint8_t* mask = nullptr;    // [T, T] visibility, or null
  bool relu = false;                     // ReLU over the visible keys instead of softmax
  const std::uint8_t* head_off = nullptr;  // [heads]: 1 where the head's output is zeroed, or null
  const HeadKernel* const* kernels = nullptr;  // [heads]: a fixed kernel replacing the head, or null

  bool any() const { return window > 0 || mask || relu || head_off || kernels; }
};

// attended[b·T + t, h·hd .. (h+1)·hd) ← Σ_j w[b, h, t, j] · v[b, j, h] for t < shape.queries
// (rows t ≥ queries are not written), the weights w from
//   s = q·kᵀ/√hd over qkv[B·T, 3·D] (rows q | k | v, each split into heads), normalised over the
// visible keys. recorded (null: not kept) receives w as [B·heads, T, T], zero for invisible keys.
void run_attention(const AttentionShape& shape, const AttentionVariant& variant,
                   const kernels::ActivationProducts& products, const float* qkv, float* attended,
                   float* recorded, ThreadPool* pool);

}  // namespace vitscope::vit_detail
