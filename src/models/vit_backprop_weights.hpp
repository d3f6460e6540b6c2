#pragma once
// The weights a ViT backward pass multiplies by: every linear layer's W[out, in] unpacked from its
// panels (the forward multiplies by Wᵀ, which the packed layout serves).
#include <vector>

#include "vitscope/models/vit_backprop.hpp"

namespace vitscope {

struct VitBackprop::Unpacked {
  struct Block {
    std::vector<float> qkv, proj, fc1, fc2;  // [out, in]
  };
  std::vector<float> patch_embed;  // [D, 3·P·P]
  std::vector<Block> blocks;
  std::vector<float> head, head_dist;  // [classes, D]
};

}  // namespace vitscope
