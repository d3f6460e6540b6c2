#pragma once
// Reading a checkpoint's tensors by name for any model: names scoped by prefix, every shape checked,
// weights packed for the model's precision straight from the mapped file, and the guarantee that no
// tensor of the file is left unused.
#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <xtensor/xarray.hpp>

#include "vitscope/kernels/linear.hpp"
#include "vitscope/io/safetensors.hpp"

namespace vitscope {

using TensorShape = std::vector<std::int64_t>;

class TensorBinder {
 public:
  // layout: how the file is described in errors, e.g. "a MobileNet v1 in Keras layout". pool
  // (may be null) packs linear weights on its threads.
  TensorBinder(const SafeTensors& file, std::string layout, ThreadPool* pool = nullptr);

  // A view whose names are prefixed with `prefix` ("blocks.3." + "attn.qkv.weight"); it shares the
  // record of used tensors and the counts with this binder.
  TensorBinder scope(const std::string& prefix) const;

  const std::string& path() const;
  bool has(const std::string& name) const;
  const TensorShape& shape(const std::string& name) const;  // WeightsError when absent

  // A learned tensor, shape-checked (-1 matches any size), widened to fp32 and counted as parameters.
  xt::xarray<float> take(const std::string& name, const TensorShape& expected);
  std::vector<float> vector(const std::string& name, const TensorShape& expected);
  // A tensor that is not a parameter (BatchNorm running statistics): counted apart.
  xt::xarray<float> statistic(const std::string& name, const TensorShape& expected);
  // A weight read as [out, in] (stored as `stored`, e.g. a convolution's [out, c, kh, kw]; empty:
  // [out, in]) and packed for `precision`. An aligned F32 tensor is packed straight from the mapped
  // file, with no intermediate copy.
  kernels::LinearWeights linear_weight(const std::string& name, std::int64_t out, std::int64_t in,
                                       Precision precision, const TensorShape& stored = {});
  // Marks a tensor as deliberately unused (PyTorch's num_batches_tracked counters).
  void ignore(const std::string& name);

  // WeightsError naming the first tensor no layer asked for.
  void check_all_used() const;
  std::int64_t parameters() const;
  std::int64_t statistics() const;

 private:
  struct State;
  TensorBinder(std::shared_ptr<State> state, std::string prefix);
  std::string full(const std::string& name) const { return prefix_ + name; }
  xt::xarray<float> load(const std::string& name, const TensorShape& expected);

  std::shared_ptr<State> state_;
  std::string prefix_;
};

}  // namespace vitscope
