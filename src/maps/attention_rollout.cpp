// Attention rollout: how much of the class token's final representation flows from each patch,
// following the attention through every layer and the residual connections around it.
#include <algorithm>
#include <numeric>
#include <vector>

#include "vitscope/core/error.hpp"
#include "vitscope/maps/vit_maps.hpp"

namespace vitscope {
namespace {

void check_image(const AttentionMaps& attention, int image, const TokenLayout& layout) {
  if (attention.empty()) throw ConfigError("attention rollout: no attention maps recorded");
  const auto& first = attention.front();
  const std::size_t tokens = static_cast<std::size_t>(layout.prefix + layout.grid_h * layout.grid_w);
  if (image < 0 || static_cast<std::size_t>(image) >= first.shape(0) || first.shape(2) != tokens)
    throw ConfigError("attention maps do not match the token layout or image index");
}

// fused[T,T] of one layer and image: heads combined element-wise.
std::vector<double> fuse_heads(const xt::xtensor<float, 4>& layer, int image, HeadFusion fusion) {
  const std::size_t heads = layer.shape(1), T = layer.shape(2);
  std::vector<double> fused(T * T);
  const float* base = &layer(image, 0, 0, 0);
  for (std::size_t i = 0; i < T * T; ++i) {
    double v = base[i];
    for (std::size_t h = 1; h < heads; ++h) {
      const double x = base[h * T * T + i];
      v = fusion == HeadFusion::Mean ? v + x : fusion == HeadFusion::Max ? std::max(v, x) : std::min(v, x);
    }
    fused[i] = fusion == HeadFusion::Mean ? v / static_cast<double>(heads) : v;
  }
  return fused;
}

// Zeroes the `ratio` fraction of lowest entries (ties: lower index first), sparing entry 0, the
// class token attending to itself.
void discard_lowest(std::vector<double>& fused, double ratio) {
  const std::size_t count = static_cast<std::size_t>(static_cast<double>(fused.size()) * ratio);
  if (count == 0) return;
  std::vector<std::size_t> order(fused.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return fused[a] < fused[b]; });
  std::size_t dropped = 0;
  for (std::size_t i = 0; i < order.size() && dropped < count; ++i) {
    if (order[i] == 0) continue;
    fused[order[i]] = 0;
    ++dropped;
  }
}

}  // namespace

xt::xtensor<float, 2> attention_rollout(const AttentionMaps& attention, int image,
                                        const TokenLayout& layout, const RolloutOptions& options) {
  check_image(attention, image, layout);
  const std::size_t T = attention.front().shape(2);
  std::vector<double> rollout(T * T, 0.0), next(T * T);
  for (std::size_t i = 0; i < T; ++i) rollout[i * T + i] = 1.0;
  for (const auto& layer : attention) {
    std::vector<double> a = fuse_heads(layer, image, options.fusion);
    discard_lowest(a, options.discard_ratio);
    for (std::size_t i = 0; i < T; ++i) {
      a[i * T + i] += 1.0;  // the residual connection carries the token itself
      double sum = 0;
      for (std::size_t j = 0; j < T; ++j) sum += a[i * T + j] /= 2;
      for (std::size_t j = 0; j < T; ++j) a[i * T + j] /= sum;
    }
    // next = a · rollout
    std::fill(next.begin(), next.end(), 0.0);
    for (std::size_t i = 0; i < T; ++i)
      for (std::size_t k = 0; k < T; ++k) {
        const double aik = a[i * T + k];
        if (aik == 0) continue;
        for (std::size_t j = 0; j < T; ++j) next[i * T + j] += aik * rollout[k * T + j];
      }
    rollout.swap(next);
  }
  xt::xtensor<float, 2> map = xt::xtensor<float, 2>::from_shape(
      {static_cast<std::size_t>(layout.grid_h), static_cast<std::size_t>(layout.grid_w)});
  const double* cls_row = rollout.data() + layout.prefix;  // row 0, patch columns
  const double peak = *std::max_element(cls_row, cls_row + map.size());
  for (std::size_t p = 0; p < map.size(); ++p)
    map.data()[p] = static_cast<float>(peak > 0 ? cls_row[p] / peak : 0.0);
  return map;
}

xt::xtensor<float, 3> class_token_attention(const AttentionMaps& attention, int layer, int image,
                                            const TokenLayout& layout) {
  check_image(attention, image, layout);
  if (layer < 0 || static_cast<std::size_t>(layer) >= attention.size())
    throw ConfigError("layer " + std::to_string(layer) + " is out of range (the model has " +
                      std::to_string(attention.size()) + " layers)");
  const auto& a = attention[layer];
  const std::size_t heads = a.shape(1);
  xt::xtensor<float, 3> maps = xt::xtensor<float, 3>::from_shape(
      {heads, static_cast<std::size_t>(layout.grid_h), static_cast<std::size_t>(layout.grid_w)});
  const std::size_t patches = static_cast<std::size_t>(layout.grid_h) * layout.grid_w;
  for (std::size_t h = 0; h < heads; ++h) {
    const float* cls_row = &a(image, h, 0, layout.prefix);
    std::copy(cls_row, cls_row + patches, maps.data() + h * patches);
  }
  return maps;
}

}  // namespace vitscope
