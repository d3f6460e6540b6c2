// The ViT layer stack over a group of images, on the project's kernels. Activations live in a
// workspace that is sized once per (images, tokens) and reused, so the layers never allocate.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "models/vit_weights.hpp"
#include "vitscope/kernels/gelu.hpp"
#include "vitscope/kernels/layernorm.hpp"
#include "vitscope/kernels/softmax.hpp"
#include "vitscope/stage_profile.hpp"

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

}  // namespace

void VitModel::forward_images(const float* images, int B, int H, int W,
                              const xt::xtensor<float, 2>& pos_embed, Workspace& ws, ThreadPool* pool,
                              StageProfile* profile, AttentionMaps* attention, float* logits) {
  const VitConfig& c = config_;
  const Weights& w = *weights_;  // shared by the threads that run images side by side: read only
  const int P = c.patch_size;
  const int gh = H / P, gw = W / P, grid = gh * gw, prefix = c.prefix_tokens;
  const int T = prefix + grid, D = c.width, heads = c.heads, hd = c.head_dim();
  ws.reserve(c, B, T, grid);

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
      add_rows(xb, pos_embed.data(), static_cast<std::size_t>(T) * D);
    }
  }
  if (attention) {
    attention->clear();
    ws.scores.resize(static_cast<std::size_t>(B) * heads * T * T);
  }
  const int rows = B * T;
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
  for (const VitBlockWeights& block : w.blocks) {
    // x += proj(attention(norm1(x)))
    {
      ScopedStage stage(profile, "layernorm");
      kernels::layernorm(ws.x.data(), D, ws.normed.data(), D, rows, D, block.norm1.gamma.data(),
                         block.norm1.beta.data(), c.layernorm_eps, pool);
    }
    {
      ScopedStage stage(profile, "qkv");
      block.qkv.apply(ws.normed.data(), D, rows, ws.qkv.data(), 3 * D, false, false, pool);
    }
    // One task per (image, head, block of query rows): scores = q·kᵀ/√d, softmax, then p·v into the
    // head's columns. Rows are split so that there are a few tasks per thread even when the heads
    // are few (DeiT-Tiny: 3), rather than spreading each small product over the threads, and so
    // that the task count is a multiple of the thread count where it can be (9 equal tasks on 2
    // threads would leave one idle for a ninth of the time).
    const int pairs = B * heads;
    const int threads = pool ? pool->size() : 1;
    const int max_blocks = std::max(1, T / 24);
    int blocks = std::min(max_blocks, (4 * threads + pairs - 1) / pairs);
    for (int candidate = blocks; candidate <= std::min(max_blocks, 2 * blocks); ++candidate)
      if (pairs * candidate % threads == 0) {
        blocks = candidate;
        break;
      }
    const int block_rows = ((T + blocks - 1) / blocks + 5) / 6 * 6;  // whole 6-row micro-tiles
    blocks = (T + block_rows - 1) / block_rows;
    const bool bf16 = c.precision == Precision::Bf16;
    auto attend = [&](int task) {
      const int pair = task / blocks, row0 = (task % blocks) * block_rows;
      const int rows_here = std::min(block_rows, T - row0);
      if (rows_here <= 0) return;
      const int b = pair / heads, h = pair % heads;
      const float* qkv_b = ws.qkv.data() + static_cast<std::size_t>(b) * T * 3 * D + h * hd;
      const float* q = qkv_b + static_cast<std::size_t>(row0) * 3 * D;
      const float* k = qkv_b + D;
      const float* v = qkv_b + 2 * D;
      // Recorded maps need every head's scores at once; otherwise each task reuses its thread's own
      // block of rows, which stays in L2 between the three steps and from one task to the next
      // (a fresh [T, T] slice per head meant writing ~1 MB of cold memory per layer at batch 1).
      thread_local std::vector<float> task_scores;
      float* s;
      if (attention) {
        s = ws.scores.data() + (static_cast<std::size_t>(pair) * T + row0) * T;
      } else {
        task_scores.resize(static_cast<std::size_t>(block_rows) * T);
        s = task_scores.data();
      }
      float* out = ws.attended.data() + (static_cast<std::size_t>(b) * T + row0) * D + h * hd;
      if (bf16) {
        kernels::gemm_abt_bf16(rows_here, T, hd, scale, q, 3 * D, k, 3 * D, s, T, nullptr);
        kernels::softmax_rows(s, rows_here, T, T, nullptr);
        kernels::gemm_ab_bf16(rows_here, hd, T, s, T, v, 3 * D, out, D, nullptr);
      } else {
        kernels::gemm_abt(rows_here, T, hd, scale, q, 3 * D, k, 3 * D, s, T, nullptr);
        kernels::softmax_rows(s, rows_here, T, T, nullptr);
        kernels::gemm_ab(rows_here, hd, T, s, T, v, 3 * D, out, D, nullptr);
      }
    };
    {
      ScopedStage stage(profile, "attention");
      if (pool)
        pool->run(pairs * blocks, attend);
      else
        for (int task = 0; task < pairs * blocks; ++task) attend(task);
    }
    if (attention) {
      xt::xtensor<float, 4> maps = xt::xtensor<float, 4>::from_shape(
          {static_cast<std::size_t>(B), static_cast<std::size_t>(heads),
           static_cast<std::size_t>(T), static_cast<std::size_t>(T)});
      std::copy(ws.scores.begin(), ws.scores.begin() + static_cast<std::ptrdiff_t>(maps.size()),
                maps.begin());
      attention->push_back(std::move(maps));
    }
    {
      ScopedStage stage(profile, "proj");
      block.proj.apply(ws.attended.data(), D, rows, ws.x.data(), D, false, true, pool);
    }
    // x += fc2(gelu(fc1(norm2(x))))
    {
      ScopedStage stage(profile, "layernorm");
      kernels::layernorm(ws.x.data(), D, ws.normed.data(), D, rows, D, block.norm2.gamma.data(),
                         block.norm2.beta.data(), c.layernorm_eps, pool);
    }
    {
      ScopedStage stage(profile, "fc1+gelu");
      block.fc1.apply(ws.normed.data(), D, rows, ws.hidden.data(), c.mlp_hidden, true, false, pool);
    }
    {
      ScopedStage stage(profile, "fc2");
      block.fc2.apply(ws.hidden.data(), c.mlp_hidden, rows, ws.x.data(), D, false, true, pool);
    }
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
