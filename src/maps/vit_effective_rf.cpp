// Effective receptive fields of ViT tokens: a backward pass from one token of one block's output.
#include "vitscope/maps/vit_receptive_fields.hpp"

#include <cmath>

#include <xtensor/xview.hpp>

#include "vitscope/core/error.hpp"

namespace vitscope {

int centre_patch_token(const VitModel& model, const VitTape& tape) {
  return model.config().prefix_tokens + (tape.grid_h / 2) * tape.grid_w + tape.grid_w / 2;
}

std::vector<VitEffectiveReceptiveField> vit_effective_receptive_fields(
    const VitBackprop& backprop, const VitTape& tape, Session& session, const std::vector<int>& blocks,
    int token, double mass_fraction) {
  const VitConfig& c = backprop.model().config();
  if (token < 0 || token >= tape.tokens)
    throw ConfigError("effective receptive field: token " + std::to_string(token) + " outside 0.." +
                      std::to_string(tape.tokens - 1));
  const int P = c.patch_size, H = tape.height, W = tape.width;
  VitEffectiveReceptiveField base;
  base.token = token;
  if (token < c.prefix_tokens) {
    base.centre_y = (H - 1) / 2.0;
    base.centre_x = (W - 1) / 2.0;
  } else {
    const int patch = token - c.prefix_tokens;
    base.centre_y = (patch / tape.grid_w) * P + (P - 1) / 2.0;
    base.centre_x = (patch % tape.grid_w) * P + (P - 1) / 2.0;
  }
  std::vector<VitEffectiveReceptiveField> result;
  for (int block : blocks) {
    xt::xtensor<float, 2> seed =
        xt::zeros<float>({static_cast<std::size_t>(tape.tokens), static_cast<std::size_t>(c.width)});
    xt::view(seed, token, xt::all()) = 1.0f;
    const VitGradient g = backprop.from_stream(tape, block, seed, false, session);
    VitEffectiveReceptiveField erf = base;
    erf.block = block;
    erf.map = xt::xtensor<float, 2>::from_shape({static_cast<std::size_t>(H), static_cast<std::size_t>(W)});
    for (int y = 0; y < H; ++y)
      for (int x = 0; x < W; ++x)
        erf.map(y, x) = std::abs(g.image(0, y, x)) + std::abs(g.image(1, y, x)) + std::abs(g.image(2, y, x));
    erf.spread = mass_spread(erf.map, erf.centre_y, erf.centre_x, mass_fraction);
    result.push_back(std::move(erf));
  }
  return result;
}

}  // namespace vitscope
