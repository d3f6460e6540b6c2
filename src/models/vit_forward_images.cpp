// The ViT layer stack over a group of images, on the project's kernels. Activations live in a
// workspace that is sized once per (images, tokens) and reused, so the layers never allocate.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "models/vit_attention.hpp"
#include "models/vit_weights.hpp"
#include "vitscope/kernels/gelu.hpp"
#include "vitscope/kernels/layernorm.hpp"
#include "vitscope/core/stage_profile.hpp"

namespace vitscope {

namespace {

// patches[B·gh·gw, 3·P·P] ← images[B, 3, H, W], each row ordered (channel, ky, kx) like the conv weight.
void extract_patches(const float* src, int B, int H, int W, int P, float* patches) {
  const int gh = H / P, gw = W / P;
  for (int b = 0; b < B; ++b)
    for (int py = 0; py < gh; ++py)
      for (int px = 0; px < gw; ++px) {
        float* row = patches + ((static_cast<std::size_t>(b) * gh + py) * gw + px) * 3 * P * P;
        for (int ch = 0; ch < 3; ++ch)
          for (int ky = 0; ky < P; ++ky) {
            const float* line =
                src + ((static_cast<std::size_t>(b) * 3 + ch) * H + py * P + ky) * W + px * P;
            std::memcpy(row + (ch * P + ky) * P, line, sizeof(float) * P);
          }
      }
}

void add_rows(float* dst, const float* src, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) dst[i] += src[i];
}

// The attention variant of block `index` under the pass's options.
vit_detail::AttentionVariant block_variant(const VitModel::Pass& pass, int index, int heads) {
  const VitForwardOptions& o = *pass.options;
  vit_detail::AttentionVariant v;
  const bool visibility = o.visibility_blocks == 0 || index < o.visibility_blocks;
  if (visibility) {
    v.window = o.window;
    v.mask = o.mask.empty() ? nullptr : o.mask.data();
  }
  v.relu = o.normalization == ScoreNormalization::ReluVisible && o.normalization_blocks.contains(index);
  if (!pass.head_off.empty()) {
    const std::uint8_t* row = pass.head_off.data() + static_cast<std::size_t>(index) * heads;
    if (std::any_of(row, row + heads, [](std::uint8_t x) { return x != 0; })) v.head_off = row;
  }
  if (!pass.head_kernels.empty()) {
    const HeadKernel* const* row = pass.head_kernels.data() + static_cast<std::size_t>(index) * heads;
    if (std::any_of(row, row + heads, [](const HeadKernel* k) { return k != nullptr; })) v.kernels = row;
  }
  return v;
}

// ws.attended ← attention(norm1(x)) of block `index` for the query rows of shape (recorded: the
// weights as run_attention keeps them, or null); layernorm and q, k, v over every token, each
// token being a key and a value.
void normed_attention(const VitConfig& c, const VitModel::Pass& pass, const VitBlockWeights& block, int index,
                      const vit_detail::AttentionShape& shape, float* recorded, ThreadPool* pool,
                      StageProfile* profile, VitWorkspace& ws) {
  const int D = c.width, rows = shape.images * shape.tokens;
  {
    ScopedStage stage(profile, "layernorm");
    kernels::layernorm(ws.x.data(), D, ws.normed.data(), D, rows, D, block.norm1.gamma.data(),
                       block.norm1.beta.data(), c.layernorm_eps, pool);
  }
  {
    ScopedStage stage(profile, "qkv");
    block.qkv.apply(ws.normed.data(), D, rows, ws.qkv.data(), 3 * D, false, false, pool);
  }
  ScopedStage stage(profile, "attention");
  vit_detail::run_attention(shape, block_variant(pass, index, c.heads), kernels::activation_products(c.precision),
                            ws.qkv.data(), ws.attended.data(), recorded, pool);
}

// x += proj(attended), then x += fc2(gelu(fc1(norm2(x)))) for m rows of x and attended, ld floats
// apart (the hidden rows compact, [m, hidden]): every row of the block, or one prefix token of
// each image.
void proj_and_mlp(const VitConfig& c, const VitBlockWeights& block, const float* attended, float* x, int ld, int m,
                  ThreadPool* pool, StageProfile* profile, VitWorkspace& ws) {
  const int D = c.width;
  {
    ScopedStage stage(profile, "proj");
    block.proj.apply(attended, ld, m, x, ld, false, true, pool);
  }
  {
    ScopedStage stage(profile, "layernorm");
    kernels::layernorm(x, ld, ws.normed.data(), D, m, D, block.norm2.gamma.data(), block.norm2.beta.data(),
                       c.layernorm_eps, pool);
  }
  {
    ScopedStage stage(profile, "fc1+gelu");
    block.fc1.apply(ws.normed.data(), D, m, ws.hidden.data(), c.mlp_hidden, true, false, pool);
  }
  ScopedStage stage(profile, "fc2");
  block.fc2.apply(ws.hidden.data(), c.mlp_hidden, m, x, ld, false, true, pool);
}

// The last block for the prefix tokens alone (see forward_images): layernorm and q, k, v for
// every token; attention, proj and the MLP for the prefix rows, which lie T·D floats apart from
// one image to the next.
void last_block_prefix_rows(const VitConfig& c, const VitModel::Pass& pass, const VitBlockWeights& block, int index,
                            int B, ThreadPool* pool, StageProfile* profile, VitWorkspace& ws) {
  const int T = pass.tokens, D = c.width, prefix = c.prefix_tokens;
  const vit_detail::AttentionShape shape{B, T, D, c.heads, prefix, pass.grid_h, pass.grid_w, prefix};
  normed_attention(c, pass, block, index, shape, nullptr, pool, profile, ws);
  for (int p = 0; p < prefix; ++p) {
    const std::size_t offset = static_cast<std::size_t>(p) * D;
    proj_and_mlp(c, block, ws.attended.data() + offset, ws.x.data() + offset, T * D, B, pool, profile, ws);
  }
}

}  // namespace

void VitModel::forward_images(const Pass& pass, const float* images, int B, ThreadPool* pool,
                              StageProfile* profile, Recording* recording, int workspace,
                              float* logits) const {
  const VitConfig& c = config_;
  const Weights& w = *weights_;  // shared by the threads that run images side by side: read only
  const VitForwardOptions& options = *pass.options;
  VitWorkspace& ws = *pass.data->workspaces[static_cast<std::size_t>(workspace)];
  const int P = c.patch_size, H = pass.height, W = pass.width;
  const int grid = pass.grid_h * pass.grid_w, prefix = c.prefix_tokens;
  const int T = pass.tokens, D = c.width, heads = c.heads;
  ws.reserve(c, B, T, grid);
  const bool record_attention = recording && options.record_attention;
  const bool record_tokens = recording && options.record_tokens;
  auto record_stream = [&] {
    xt::xtensor<float, 3> tokens = xt::xtensor<float, 3>::from_shape(
        {static_cast<std::size_t>(B), static_cast<std::size_t>(T), static_cast<std::size_t>(D)});
    std::copy(ws.x.begin(), ws.x.begin() + static_cast<std::ptrdiff_t>(tokens.size()), tokens.begin());
    recording->tokens.push_back(std::move(tokens));
  };

  // Tokens: x[b] = [cls, (dist,) patch_embed(patches)] + pos.
  {
    ScopedStage stage(profile, "patch embedding");
    extract_patches(images, B, H, W, P, ws.patches.data());
    for (int b = 0; b < B; ++b) {
      float* xb = ws.x.data() + static_cast<std::size_t>(b) * T * D;
      w.patch_embed.apply(ws.patches.data() + static_cast<std::size_t>(b) * grid * 3 * P * P, 3 * P * P,
                            grid, xb + static_cast<std::size_t>(prefix) * D, D, false, false, pool);
      if (!w.cls_token.empty()) std::copy(w.cls_token.begin(), w.cls_token.end(), xb);
      if (!w.dist_token.empty()) std::copy(w.dist_token.begin(), w.dist_token.end(), xb + D);
      add_rows(xb, pass.pos_embed->data(), static_cast<std::size_t>(T) * D);
    }
  }
  if (record_tokens) record_stream();
  if (record_attention) ws.scores.resize(static_cast<std::size_t>(B) * heads * T * T);
  const int rows = B * T;
  const vit_detail::AttentionShape shape{B, T, D, heads, prefix, pass.grid_h, pass.grid_w, T};
  // The classifier reads only the prefix tokens (class, distillation) of the last block's output,
  // and after its attention every token's row is computed on its own: there, only the prefix rows
  // go on past q, k, v (which every token's keys and values need). The same rows get the same
  // arithmetic as in the full pass. Recorded tokens and maps, and mean pooling, need every row.
  const bool prefix_rows_last = !record_tokens && !record_attention &&
                                (c.pooling == VitPooling::ClassToken || c.pooling == VitPooling::Distilled);
  for (std::size_t index = 0; index < w.blocks.size(); ++index) {
    const VitBlockWeights& block = w.blocks[index];
    if (prefix_rows_last && index + 1 == w.blocks.size()) {
      last_block_prefix_rows(c, pass, block, static_cast<int>(index), B, pool, profile, ws);
      break;
    }
    // x += proj(attention(norm1(x)))
    normed_attention(c, pass, block, static_cast<int>(index), shape, record_attention ? ws.scores.data() : nullptr,
                     pool, profile, ws);
    if (record_attention) {
      xt::xtensor<float, 4> maps = xt::xtensor<float, 4>::from_shape(
          {static_cast<std::size_t>(B), static_cast<std::size_t>(heads),
           static_cast<std::size_t>(T), static_cast<std::size_t>(T)});
      std::copy(ws.scores.begin(), ws.scores.begin() + static_cast<std::ptrdiff_t>(maps.size()),
                maps.begin());
      recording->attention.push_back(std::move(maps));
    }
    proj_and_mlp(c, block, ws.attended.data(), ws.x.data(), D, rows, pool, profile, ws);
    if (record_tokens) record_stream();
  }

  // Pooling and the classifier head(s).
  ScopedStage head_stage(profile, "norm, pooling, head");
  const float* gamma = w.final_norm.gamma.data();
  const float* beta = w.final_norm.beta.data();
  float* pooled = ws.pooled.data();
  const int ld_image = T * D;  // stride from one image's token to the same token of the next
  switch (c.pooling) {
    case VitPooling::ClassToken:
      kernels::layernorm(ws.x.data(), ld_image, pooled, D, B, D, gamma, beta, c.layernorm_eps, pool);
      break;
    case VitPooling::Distilled:
      kernels::layernorm(ws.x.data(), ld_image, pooled, D, B, D, gamma, beta, c.layernorm_eps, pool);
      kernels::layernorm(ws.x.data() + D, ld_image, pooled + B * D, D, B, D, gamma, beta,
                         c.layernorm_eps, pool);
      break;
    case VitPooling::Mean: {
      // timm: without fc_norm the final norm applies to every token before the mean.
      const float* tokens = ws.x.data();
      if (!c.fc_norm) {
        kernels::layernorm(ws.x.data(), D, ws.normed.data(), D, rows, D, gamma, beta,
                           c.layernorm_eps, pool);
        tokens = ws.normed.data();
      }
      for (int b = 0; b < B; ++b) {
        float* out = pooled + static_cast<std::size_t>(b) * D;
        std::fill(out, out + D, 0.0f);
        for (int t = prefix; t < T; ++t)
          add_rows(out, tokens + (static_cast<std::size_t>(b) * T + t) * D, D);
        for (int d = 0; d < D; ++d) out[d] /= static_cast<float>(grid);
      }
      if (c.fc_norm)
        kernels::layernorm(pooled, D, pooled, D, B, D, gamma, beta, c.layernorm_eps, pool);
      break;
    }
  }
  w.head.apply(pooled, D, B, logits, c.num_classes, false, false, pool);
  if (c.pooling == VitPooling::Distilled) {
    // Evaluation mode of a distilled DeiT: the mean of the class and distillation heads.
    w.head_dist.apply(pooled + B * D, D, B, ws.logits.data(), c.num_classes, false, false, pool);
    for (std::size_t i = 0; i < static_cast<std::size_t>(B) * c.num_classes; ++i)
      logits[i] = (logits[i] + ws.logits[i]) / 2;
  }
}

}  // namespace vitscope
