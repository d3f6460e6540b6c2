// The forward half of VitBackprop: one image through the ViT on the fp32 kernels, keeping each
// layer's normalised rows, the q|k|v projections, the attention probabilities and the MLP's
// pre-activations for the backward pass (vit_backprop_backward.cpp).
#include <cmath>
#include <cstring>

#include "models/vit_backprop_weights.hpp"
#include "models/vit_weights.hpp"
#include "vitscope/core/error.hpp"
#include "vitscope/kernels/gelu.hpp"
#include "vitscope/kernels/gemm.hpp"
#include "vitscope/kernels/softmax.hpp"
#include "vitscope/models/model_registry.hpp"
#include "vitscope/models/vit_backprop.hpp"

namespace vitscope {

namespace {

// out[rows, D] = x̂ · γ + β, keeping x̂ [rows, D] and rstd [rows]; two-pass statistics as PyTorch.
void layernorm_keep(const float* x, int rows, int D, const LayerNormParams& p, float eps, float* xhat,
                    float* rstd, float* out) {
  for (int r = 0; r < rows; ++r) {
    const float* xr = x + static_cast<std::size_t>(r) * D;
    double mean = 0, var = 0;
    for (int d = 0; d < D; ++d) mean += xr[d];
    mean /= D;
    for (int d = 0; d < D; ++d) var += (xr[d] - mean) * (xr[d] - mean);
    var /= D;
    rstd[r] = static_cast<float>(1.0 / std::sqrt(var + eps));
    for (int d = 0; d < D; ++d) {
      const float h = static_cast<float>((xr[d] - mean) * rstd[r]);
      xhat[static_cast<std::size_t>(r) * D + d] = h;
      out[static_cast<std::size_t>(r) * D + d] = h * p.gamma[d] + p.beta[d];
    }
  }
}

}  // namespace

VitBackprop::VitBackprop(const VitModel& model) : model_(model), unpacked_(std::make_unique<Unpacked>()) {
  if (model.config().precision != Precision::Fp32)
    throw ConfigError(model.spec().name + ": gradients need the model in fp32 (it was loaded in " +
                      precision_name(model.config().precision) + ")");
  const VitModel::Weights& w = model.weights();
  unpacked_->patch_embed = w.patch_embed.weight.unpack();
  for (const VitBlockWeights& b : w.blocks)
    unpacked_->blocks.push_back({b.qkv.weight.unpack(), b.proj.weight.unpack(), b.fc1.weight.unpack(),
                                 b.fc2.weight.unpack()});
  unpacked_->head = w.head.weight.unpack();
  if (model.config().pooling == VitPooling::Distilled) unpacked_->head_dist = w.head_dist.weight.unpack();
}

VitBackprop::~VitBackprop() = default;

VitTape VitBackprop::record(const xt::xtensor<float, 3>& image, Session& session) const {
  const VitConfig& c = model_.config();
  const VitModel::Weights& w = model_.weights();
  const int P = c.patch_size, D = c.width, M = c.mlp_hidden, heads = c.heads, hd = c.head_dim();
  const int H = static_cast<int>(image.shape(1)), W = static_cast<int>(image.shape(2));
  if (image.shape(0) != 3 || H % P != 0 || W % P != 0 || H == 0 || W == 0)
    throw ConfigError("gradients: image of shape [" + std::to_string(image.shape(0)) + "," +
                      std::to_string(H) + "," + std::to_string(W) + "]: expected [3,H,W] with H and W multiples of " +
                      std::to_string(P));
  ThreadPool* pool = session.pool();
  VitTape tape;
  tape.height = H;
  tape.width = W;
  tape.grid_h = H / P;
  tape.grid_w = W / P;
  const int grid = tape.grid_h * tape.grid_w, prefix = c.prefix_tokens, T = prefix + grid;
  tape.tokens = T;
  const std::size_t TD = static_cast<std::size_t>(T) * D;

  // Tokens: [cls, (dist,) patch_embed(patches)] + pos.
  std::vector<float> patches(static_cast<std::size_t>(grid) * 3 * P * P);
  for (int py = 0; py < tape.grid_h; ++py)
    for (int px = 0; px < tape.grid_w; ++px)
      for (int ch = 0; ch < 3; ++ch)
        for (int ky = 0; ky < P; ++ky)
          std::memcpy(patches.data() + ((static_cast<std::size_t>(py) * tape.grid_w + px) * 3 + ch) * P * P + ky * P,
                      image.data() + (static_cast<std::size_t>(ch) * H + py * P + ky) * W + px * P,
                      sizeof(float) * P);
  xt::xtensor<float, 2> x = xt::zeros<float>({static_cast<std::size_t>(T), static_cast<std::size_t>(D)});
  w.patch_embed.apply(patches.data(), 3 * P * P, grid, x.data() + static_cast<std::size_t>(prefix) * D, D,
                      false, false, pool);
  if (!w.cls_token.empty()) std::copy(w.cls_token.begin(), w.cls_token.end(), x.data());
  if (!w.dist_token.empty()) std::copy(w.dist_token.begin(), w.dist_token.end(), x.data() + D);
  const xt::xtensor<float, 2> pos =
      (tape.grid_h == c.pos_grid_h && tape.grid_w == c.pos_grid_w)
          ? w.pos_embed
          : resample_position_embedding(w.pos_embed, prefix, c.pos_grid_h, c.pos_grid_w, tape.grid_h,
                                        tape.grid_w, c.pos_embed_antialias);
  x += pos;
  tape.stream.push_back(x);

  std::vector<float> normed(TD), attended(TD), hidden(static_cast<std::size_t>(T) * M);
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
  for (const VitBlockWeights& bw : w.blocks) {
    VitTape::Block b;
    b.xhat1.resize(TD);
    b.rstd1.resize(T);
    b.xhat2.resize(TD);
    b.rstd2.resize(T);
    b.qkv.resize(3 * TD);
    b.fc1.resize(static_cast<std::size_t>(T) * M);
    // x += proj(attention(norm1(x)))
    layernorm_keep(x.data(), T, D, bw.norm1, c.layernorm_eps, b.xhat1.data(), b.rstd1.data(), normed.data());
    bw.qkv.apply(normed.data(), D, T, b.qkv.data(), 3 * D, false, false, pool);
    xt::xtensor<float, 3> probs = xt::xtensor<float, 3>::from_shape(
        {static_cast<std::size_t>(heads), static_cast<std::size_t>(T), static_cast<std::size_t>(T)});
    for (int h = 0; h < heads; ++h) {
      float* a = probs.data() + static_cast<std::size_t>(h) * T * T;  // [T, T]
      const float* q = b.qkv.data() + h * hd;
      const float* k = q + D;
      const float* v = q + 2 * D;
      kernels::gemm_abt(T, T, hd, scale, q, 3 * D, k, 3 * D, a, T, pool);
      kernels::softmax_rows(a, T, T, T, nullptr);
      kernels::gemm_ab(T, hd, T, a, T, v, 3 * D, attended.data() + h * hd, D, pool);
    }
    tape.attention.push_back(std::move(probs));
    bw.proj.apply(attended.data(), D, T, x.data(), D, false, true, pool);
    // x += fc2(gelu(fc1(norm2(x))))
    layernorm_keep(x.data(), T, D, bw.norm2, c.layernorm_eps, b.xhat2.data(), b.rstd2.data(), normed.data());
    bw.fc1.apply(normed.data(), D, T, b.fc1.data(), M, false, false, pool);
    std::copy(b.fc1.begin(), b.fc1.end(), hidden.begin());
    kernels::gelu(hidden.data(), hidden.size(), nullptr);
    bw.fc2.apply(hidden.data(), M, T, x.data(), D, false, true, pool);
    tape.blocks.push_back(std::move(b));
    tape.stream.push_back(x);
  }

  // Pooling and the head(s).
  std::vector<float> pooled(static_cast<std::size_t>(2) * D);
  const float eps = c.layernorm_eps;
  switch (c.pooling) {
    case VitPooling::ClassToken:
    case VitPooling::Distilled: {
      const int rows = c.pooling == VitPooling::Distilled ? 2 : 1;
      tape.final_xhat.resize(static_cast<std::size_t>(rows) * D);
      tape.final_rstd.resize(rows);
      layernorm_keep(x.data(), rows, D, w.final_norm, eps, tape.final_xhat.data(), tape.final_rstd.data(),
                     pooled.data());
      break;
    }
    case VitPooling::Mean: {
      std::vector<float> mean(D, 0.0f);
      const float* tokens = x.data();
      if (!c.fc_norm) {  // timm: the final norm on every token, then the mean
        tape.final_xhat.resize(TD);
        tape.final_rstd.resize(T);
        layernorm_keep(x.data(), T, D, w.final_norm, eps, tape.final_xhat.data(), tape.final_rstd.data(),
                       normed.data());
        tokens = normed.data();
      }
      for (int t = prefix; t < T; ++t)
        for (int d = 0; d < D; ++d) mean[d] += tokens[static_cast<std::size_t>(t) * D + d];
      for (int d = 0; d < D; ++d) mean[d] /= static_cast<float>(grid);
      if (c.fc_norm) {
        tape.final_xhat.resize(D);
        tape.final_rstd.resize(1);
        layernorm_keep(mean.data(), 1, D, w.final_norm, eps, tape.final_xhat.data(), tape.final_rstd.data(),
                       pooled.data());
      } else {
        std::copy(mean.begin(), mean.end(), pooled.begin());
      }
      break;
    }
  }
  tape.logits = xt::zeros<float>({static_cast<std::size_t>(c.num_classes)});
  w.head.apply(pooled.data(), D, 1, tape.logits.data(), c.num_classes, false, false, pool);
  if (c.pooling == VitPooling::Distilled) {
    std::vector<float> dist(c.num_classes);
    w.head_dist.apply(pooled.data() + D, D, 1, dist.data(), c.num_classes, false, false, pool);
    for (int k = 0; k < c.num_classes; ++k) tape.logits[k] = (tape.logits[k] + dist[k]) / 2;
  }
  return tape;
}

}  // namespace vitscope
