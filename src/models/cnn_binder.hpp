#pragma once
// Reading a CNN checkpoint by tensor name: shape checks, BatchNorm folding, and the guarantee that
// no tensor of the file is left unused.
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include <xtensor/xarray.hpp>

#include "vitscope/safetensors.hpp"

namespace vitscope {

using TensorShape = std::vector<std::int64_t>;

// An affine map per channel, y = x · scale + shift: BatchNorm in evaluation mode.
struct ChannelAffine {
  std::vector<double> scale, shift;
};

class CnnTensorBinder {
 public:
  // layout: how the file is described in errors, e.g. "a MobileNet v1 in Keras layout".
  CnnTensorBinder(const SafeTensors& file, std::string layout);

  const std::string& path() const { return file_.path(); }
  bool has(const std::string& name) const { return file_.contains(name); }
  const TensorShape& shape(const std::string& name) const;  // WeightsError when absent

  // A learned tensor, shape-checked (-1 matches any size) and counted as parameters.
  xt::xarray<float> take(const std::string& name, const TensorShape& expected);
  // gamma, beta, mean and variance of a BatchNorm over `channels`, folded with eps. Running
  // statistics count apart from the parameters.
  ChannelAffine batchnorm(const std::string& gamma, const std::string& beta, const std::string& mean,
                          const std::string& variance, std::int64_t channels, double eps);
  // Marks a tensor as deliberately unused (PyTorch's num_batches_tracked counters).
  void ignore(const std::string& name);

  // WeightsError naming the first tensor no layer asked for.
  void check_all_used() const;
  std::int64_t parameters() const { return parameters_; }
  std::int64_t statistics() const { return statistics_; }

 private:
  xt::xarray<float> load(const std::string& name, const TensorShape& expected);
  const SafeTensors& file_;
  std::string layout_;
  std::set<std::string> used_;
  std::int64_t parameters_ = 0, statistics_ = 0;
};

// weight[N, K] row-major and bias[N] (may be empty: zero) after the affine map: rows scaled,
// bias = bias · scale + shift. Computed in double, rounded once.
void fold_affine(const ChannelAffine& affine, std::vector<float>& weight, std::vector<float>& bias);

}  // namespace vitscope
