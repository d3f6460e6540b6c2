// Tensor binding and BatchNorm folding for the CNN loaders.
#include "models/cnn_binder.hpp"

#include <cmath>
#include <utility>

#include "vitscope/error.hpp"

namespace vitscope {

CnnTensorBinder::CnnTensorBinder(const SafeTensors& file, std::string layout)
    : file_(file), layout_(std::move(layout)) {}

const TensorShape& CnnTensorBinder::shape(const std::string& name) const {
  return file_.info(name).shape;
}

xt::xarray<float> CnnTensorBinder::load(const std::string& name, const TensorShape& expected) {
  if (!file_.contains(name))
    throw WeightsError(file_.path() + ": no tensor '" + name + "' (expected " +
                       shape_to_string(expected) + " for " + layout_ + ")");
  used_.insert(name);
  xt::xarray<float> t = file_.load_f32(name, expected);
  file_.release(name);  // the copy is what the model keeps
  return t;
}

xt::xarray<float> CnnTensorBinder::take(const std::string& name, const TensorShape& expected) {
  xt::xarray<float> t = load(name, expected);
  parameters_ += static_cast<std::int64_t>(t.size());
  return t;
}

ChannelAffine CnnTensorBinder::batchnorm(const std::string& gamma, const std::string& beta,
                                         const std::string& mean, const std::string& variance,
                                         std::int64_t channels, double eps) {
  const xt::xarray<float> g = take(gamma, {channels});
  const xt::xarray<float> b = take(beta, {channels});
  const xt::xarray<float> m = load(mean, {channels});
  const xt::xarray<float> v = load(variance, {channels});
  statistics_ += 2 * channels;
  ChannelAffine affine;
  affine.scale.resize(static_cast<std::size_t>(channels));
  affine.shift.resize(static_cast<std::size_t>(channels));
  for (std::size_t c = 0; c < affine.scale.size(); ++c) {
    if (!(v(c) >= 0.0f))
      throw WeightsError(file_.path() + ": tensor '" + variance + "' has a negative or NaN entry at " +
                         std::to_string(c));
    // BatchNorm: (x − mean) / √(var + eps) · γ + β = x · scale + shift
    affine.scale[c] = double(g(c)) / std::sqrt(double(v(c)) + eps);
    affine.shift[c] = double(b(c)) - double(m(c)) * affine.scale[c];
  }
  return affine;
}

void CnnTensorBinder::ignore(const std::string& name) {
  if (file_.contains(name)) used_.insert(name);
}

void CnnTensorBinder::check_all_used() const {
  for (const std::string& name : file_.names())
    if (!used_.count(name))
      throw WeightsError(file_.path() + ": unexpected tensor '" + name + "' " +
                         shape_to_string(file_.info(name).shape) + " for " + layout_);
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
