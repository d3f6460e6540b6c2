// BatchNorm folding for the CNN loaders.
#include "models/cnn_batchnorm.hpp"

#include <cmath>
#include <utility>

#include "vitscope/core/error.hpp"

namespace vitscope {

ChannelAffine bind_batchnorm(TensorBinder& bind, const std::string& gamma, const std::string& beta,
                             const std::string& mean, const std::string& variance,
                             std::int64_t channels, double eps) {
  const xt::xarray<float> g = bind.take(gamma, {channels});
  const xt::xarray<float> b = bind.take(beta, {channels});
  const xt::xarray<float> m = bind.statistic(mean, {channels});
  const xt::xarray<float> v = bind.statistic(variance, {channels});
  ChannelAffine affine;
  affine.scale.resize(static_cast<std::size_t>(channels));
  affine.shift.resize(static_cast<std::size_t>(channels));
  for (std::size_t c = 0; c < affine.scale.size(); ++c) {
    if (!(v(c) >= 0.0f))
      throw WeightsError(bind.path() + ": tensor '" + variance + "' has a negative or NaN entry at " +
                         std::to_string(c));
    // BatchNorm: (x − mean) / √(var + eps) · γ + β = x · scale + shift
    affine.scale[c] = double(g(c)) / std::sqrt(double(v(c)) + eps);
    affine.shift[c] = double(b(c)) - double(m(c)) * affine.scale[c];
  }
  return affine;
}

void fold_affine(const ChannelAffine& affine, std::vector<float>& weight, std::vector<float>& bias) {
  const std::size_t n = affine.scale.size();
  const std::size_t k = weight.size() / n;
  for (std::size_t o = 0; o < n; ++o)
    for (std::size_t j = 0; j < k; ++j)
      weight[o * k + j] = static_cast<float>(double(weight[o * k + j]) * affine.scale[o]);
  std::vector<float> folded(n);
  for (std::size_t o = 0; o < n; ++o)
    folded[o] = static_cast<float>((bias.empty() ? 0.0 : double(bias[o])) * affine.scale[o] +
                                   affine.shift[o]);
  bias = std::move(folded);
}

}  // namespace vitscope
