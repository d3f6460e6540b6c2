#pragma once
// Effective receptive fields of a ViT (Luo et al., 2016, measured as for the CNN): the input
// gradient of one token of the residual stream after a block, seeded with 1 on each of its
// channels, and how far its magnitude spreads around the token's patch.
#include <vector>

#include <xtensor/xtensor.hpp>

#include "vitscope/maps/mass_spread.hpp"
#include "vitscope/models/vit_backprop.hpp"

namespace vitscope {

struct VitEffectiveReceptiveField {
  int block = 0;   // the residual stream after this block (0-based)
  int token = 0;   // the seeded token: a prefix token or prefix + row·grid_w + column
  double centre_y = 0, centre_x = 0;  // input pixels: the patch's centre (the image's for a prefix token)
  xt::xtensor<float, 2> map;  // [H, W]: Σ over the input's channels of |∂S/∂image|, S = Σ_d stream[token, d]
  MassSpread spread;          // of map around the centre
};

// The token of the patch at the grid's centre (row grid_h / 2, column grid_w / 2), as the CNN's
// centre unit (h / 2, w / 2).
int centre_patch_token(const VitModel& model, const VitTape& tape);

// One backward pass per block in `blocks` (0-based) from the tape's forward pass.
std::vector<VitEffectiveReceptiveField> vit_effective_receptive_fields(
    const VitBackprop& backprop, const VitTape& tape, Session& session, const std::vector<int>& blocks,
    int token, double mass_fraction = 0.95);

}  // namespace vitscope
