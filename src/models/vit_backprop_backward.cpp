// The backward half of VitBackprop: from a cotangent on the logits or on a block's residual stream,
// through the blocks in reverse (residuals, LayerNorm, GELU MLP, softmax attention) and the patch
// embedding, to ∂L/∂image and ∂L/∂A per block. Linear layers y = x·Wᵀ + b go back as dx = dy·W.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "models/vit_backprop_weights.hpp"
#include "models/vit_weights.hpp"
#include "vitscope/core/error.hpp"
#include "vitscope/kernels/backward.hpp"
#include "vitscope/kernels/gemm.hpp"
#include "vitscope/models/vit_backprop.hpp"

namespace vitscope {

namespace {

// dx[m, in] = dy[m, out] · w[out, in] (row strides ldy, ldx).
void linear_backward(const float* dy, int ldy, int m, const std::vector<float>& w, int out, int in,
                     float* dx, int ldx, ThreadPool* pool) {
  kernels::gemm_ab(m, in, out, dy, ldy, w.data(), in, dx, ldx, pool);
}

// t[n, n] ← aᵀ for a[n, n].
void transpose(const float* a, int n, float* t) {
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j) t[static_cast<std::size_t>(j) * n + i] = a[static_cast<std::size_t>(i) * n + j];
}

}  // namespace

VitGradient VitBackprop::from_logits(const VitTape& tape, const std::vector<float>& dlogits,
                                     bool attention_gradients, Session& session) const {
  const VitConfig& c = model_.config();
  const VitModel::Weights& w = model_.weights();
  if (static_cast<int>(dlogits.size()) != c.num_classes)
    throw ConfigError("gradients: " + std::to_string(dlogits.size()) + " logit cotangents for " +
                      std::to_string(c.num_classes) + " classes");
  const int D = c.width, T = tape.tokens, prefix = c.prefix_tokens, grid = T - prefix;
  ThreadPool* pool = session.pool();
  std::vector<float> dstream(static_cast<std::size_t>(T) * D, 0.0f);
  std::vector<float> dpooled(static_cast<std::size_t>(2) * D);
  linear_backward(dlogits.data(), c.num_classes, 1, unpacked_->head, c.num_classes, D, dpooled.data(), D, pool);
  switch (c.pooling) {
    case VitPooling::ClassToken:
      kernels::layernorm_backward(dpooled.data(), tape.final_xhat.data(), tape.final_rstd.data(),
                                  w.final_norm.gamma.data(), 1, D, dstream.data(), false);
      break;
    case VitPooling::Distilled: {
      // logits = (head(norm(x₀)) + head_dist(norm(x₁))) / 2
      linear_backward(dlogits.data(), c.num_classes, 1, unpacked_->head_dist, c.num_classes, D,
                      dpooled.data() + D, D, pool);
      for (float& v : dpooled) v *= 0.5f;
      kernels::layernorm_backward(dpooled.data(), tape.final_xhat.data(), tape.final_rstd.data(),
                                  w.final_norm.gamma.data(), 2, D, dstream.data(), false);
      break;
    }
    case VitPooling::Mean: {
      std::vector<float> dmean(D);
      if (c.fc_norm)
        kernels::layernorm_backward(dpooled.data(), tape.final_xhat.data(), tape.final_rstd.data(),
                                    w.final_norm.gamma.data(), 1, D, dmean.data(), false);
      else
        std::copy(dpooled.begin(), dpooled.begin() + D, dmean.begin());
      for (float& v : dmean) v /= static_cast<float>(grid);
      std::vector<float> dtokens(static_cast<std::size_t>(T) * D, 0.0f);
      for (int t = prefix; t < T; ++t) std::copy(dmean.begin(), dmean.end(), dtokens.begin() + static_cast<std::size_t>(t) * D);
      if (c.fc_norm)
        dstream = std::move(dtokens);
      else  // the final norm on every token before the mean
        kernels::layernorm_backward(dtokens.data(), tape.final_xhat.data(), tape.final_rstd.data(),
                                    w.final_norm.gamma.data(), T, D, dstream.data(), false);
      break;
    }
  }
  return backward(tape, c.depth - 1, std::move(dstream), attention_gradients, session);
}

VitGradient VitBackprop::from_stream(const VitTape& tape, int block, const xt::xtensor<float, 2>& seed,
                                     bool attention_gradients, Session& session) const {
  const VitConfig& c = model_.config();
  if (block < 0 || block >= c.depth)
    throw ConfigError("gradients: block " + std::to_string(block) + " outside 0.." + std::to_string(c.depth - 1));
  if (seed.shape(0) != static_cast<std::size_t>(tape.tokens) || seed.shape(1) != static_cast<std::size_t>(c.width))
    throw ConfigError("gradients: a stream cotangent of shape [" + std::to_string(seed.shape(0)) + "," +
                      std::to_string(seed.shape(1)) + "] for [" + std::to_string(tape.tokens) + "," +
                      std::to_string(c.width) + "] tokens");
  return backward(tape, block, std::vector<float>(seed.begin(), seed.end()), attention_gradients, session);
}

VitGradient VitBackprop::backward(const VitTape& tape, int last_block, std::vector<float> dx,
                                  bool attention_gradients, Session& session) const {
  const VitConfig& c = model_.config();
  const VitModel::Weights& w = model_.weights();
  const int P = c.patch_size, D = c.width, M = c.mlp_hidden, heads = c.heads, hd = c.head_dim();
  const int T = tape.tokens, prefix = c.prefix_tokens, grid = T - prefix;
  const std::size_t TD = static_cast<std::size_t>(T) * D, TT = static_cast<std::size_t>(T) * T;
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
  ThreadPool* pool = session.pool();

  VitGradient result;
  if (attention_gradients)
    for (int l = 0; l < c.depth; ++l)
      result.attention.push_back(xt::zeros<float>(
          {static_cast<std::size_t>(heads), static_cast<std::size_t>(T), static_cast<std::size_t>(T)}));

  std::vector<float> dhidden(static_cast<std::size_t>(T) * M), dnormed(TD), dattended(TD), dqkv(3 * TD);
  std::vector<float> da(TT), transposed(TT);
  for (int l = last_block; l >= 0; --l) {
    const VitTape::Block& b = tape.blocks[l];
    const Unpacked::Block& u = unpacked_->blocks[l];
    const VitBlockWeights& bw = w.blocks[l];
    // x_out = x_mid + fc2(gelu(fc1(norm2(x_mid))))
    linear_backward(dx.data(), D, T, u.fc2, D, M, dhidden.data(), M, pool);
    kernels::gelu_backward(b.fc1.data(), dhidden.data(), T * M);
    linear_backward(dhidden.data(), M, T, u.fc1, M, D, dnormed.data(), D, pool);
    kernels::layernorm_backward(dnormed.data(), b.xhat2.data(), b.rstd2.data(), bw.norm2.gamma.data(), T, D,
                                dx.data(), true);
    // x_mid = x_in + proj(attention(norm1(x_in)))
    linear_backward(dx.data(), D, T, u.proj, D, D, dattended.data(), D, pool);
    const float* probs = tape.attention[l].data();
    for (int h = 0; h < heads; ++h) {
      // o = A·v with A = softmax(scale · q·kᵀ), per head: q, k, v, o are [T, hd] slices.
      const float* a = probs + h * TT;
      const float* q = b.qkv.data() + h * hd;
      const float* k = q + D;
      const float* v = q + 2 * D;
      const float* dout = dattended.data() + h * hd;
      float* dq = dqkv.data() + h * hd;
      float* dk = dq + D;
      float* dv = dq + 2 * D;
      kernels::gemm_abt(T, T, hd, 1.0f, dout, D, v, 3 * D, da.data(), T, pool);  // dA = dO·vᵀ
      if (attention_gradients)
        std::copy(da.begin(), da.end(), result.attention[l].data() + h * TT);
      transpose(a, T, transposed.data());
      kernels::gemm_ab(T, hd, T, transposed.data(), T, dout, D, dv, 3 * D, pool);  // dv = Aᵀ·dO
      kernels::softmax_backward(a, da.data(), T, T);                                // dS (unscaled)
      for (float& s : da) s *= scale;
      kernels::gemm_ab(T, hd, T, da.data(), T, k, 3 * D, dq, 3 * D, pool);  // dq = dS·k
      transpose(da.data(), T, transposed.data());
      kernels::gemm_ab(T, hd, T, transposed.data(), T, q, 3 * D, dk, 3 * D, pool);  // dk = dSᵀ·q
    }
    linear_backward(dqkv.data(), 3 * D, T, u.qkv, 3 * D, D, dnormed.data(), D, pool);
    kernels::layernorm_backward(dnormed.data(), b.xhat1.data(), b.rstd1.data(), bw.norm1.gamma.data(), T, D,
                                dx.data(), true);
  }

  // Patch embedding: dpatches[grid, 3·P·P] = dx[patch tokens]·W, scattered back to the pixels.
  std::vector<float> dpatches(static_cast<std::size_t>(grid) * 3 * P * P);
  linear_backward(dx.data() + static_cast<std::size_t>(prefix) * D, D, grid, unpacked_->patch_embed, D, 3 * P * P,
                  dpatches.data(), 3 * P * P, pool);
  const int H = tape.height, W = tape.width;
  result.image = xt::xtensor<float, 3>::from_shape({3, static_cast<std::size_t>(H), static_cast<std::size_t>(W)});
  for (int py = 0; py < tape.grid_h; ++py)
    for (int px = 0; px < tape.grid_w; ++px)
      for (int ch = 0; ch < 3; ++ch)
        for (int ky = 0; ky < P; ++ky)
          std::memcpy(result.image.data() + (static_cast<std::size_t>(ch) * H + py * P + ky) * W + px * P,
                      dpatches.data() + ((static_cast<std::size_t>(py) * tape.grid_w + px) * 3 + ch) * P * P + ky * P,
                      sizeof(float) * P);
  return result;
}

}  // namespace vitscope
