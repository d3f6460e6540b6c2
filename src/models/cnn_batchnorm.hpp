#pragma once
// BatchNorm in evaluation mode, read from a checkpoint and folded into the convolution before it.
#include <cstdint>
#include <string>
#include <vector>

#include "models/tensor_binder.hpp"

namespace vitscope {

// An affine map per channel, y = x · scale + shift: BatchNorm in evaluation mode.
struct ChannelAffine {
  std::vector<double> scale, shift;
};

// gamma, beta, mean and variance of a BatchNorm over `channels`, folded with eps. The running
// statistics count apart from the parameters; WeightsError on a negative or NaN variance.
ChannelAffine bind_batchnorm(TensorBinder& bind, const std::string& gamma, const std::string& beta,
                             const std::string& mean, const std::string& variance,
                             std::int64_t channels, double eps);

// weight[N, K] row-major and bias[N] (may be empty: zero) after the affine map: rows scaled,
// bias = bias · scale + shift. Computed in double, rounded once.
void fold_affine(const ChannelAffine& affine, std::vector<float>& weight, std::vector<float>& bias);

}  // namespace vitscope
