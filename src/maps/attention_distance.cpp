// Mean attention distance: how far, in pixels, each head looks on average. Small distances mean a
// local, convolution-like head; large ones a global head.
#include <cmath>
#include <vector>

#include "vitscope/core/error.hpp"
#include "vitscope/maps/vit_maps.hpp"

#include <xtensor/xbuilder.hpp>

namespace vitscope {

xt::xtensor<double, 2> mean_attention_distance(const AttentionMaps& attention,
                                               const TokenLayout& layout) {
  if (attention.empty()) throw ConfigError("attention distance: no attention maps recorded");
  const std::size_t patches = static_cast<std::size_t>(layout.grid_h) * layout.grid_w;
  const std::size_t T = attention.front().shape(2), P = layout.prefix;
  if (T != P + patches) throw ConfigError("attention maps do not match the token layout");
  // distance[i, j] between patch centres, in pixels
  std::vector<double> distance(patches * patches);
  for (std::size_t i = 0; i < patches; ++i)
    for (std::size_t j = 0; j < patches; ++j) {
      const double dy = static_cast<double>(static_cast<long>(i / layout.grid_w) - static_cast<long>(j / layout.grid_w));
      const double dx = static_cast<double>(static_cast<long>(i % layout.grid_w) - static_cast<long>(j % layout.grid_w));
      distance[i * patches + j] = layout.patch_size * std::sqrt(dy * dy + dx * dx);
    }
  const std::size_t layers = attention.size(), images = attention.front().shape(0),
                    heads = attention.front().shape(1);
  xt::xtensor<double, 2> result = xt::zeros<double>({layers, heads});
  for (std::size_t l = 0; l < layers; ++l)
    for (std::size_t b = 0; b < images; ++b)
      for (std::size_t h = 0; h < heads; ++h) {
        double total = 0;
        for (std::size_t i = 0; i < patches; ++i) {
          const float* row = &attention[l](b, h, P + i, P);
          for (std::size_t j = 0; j < patches; ++j) total += row[j] * distance[i * patches + j];
        }
        result(l, h) += total / static_cast<double>(patches * images);
      }
  return result;
}

}  // namespace vitscope
