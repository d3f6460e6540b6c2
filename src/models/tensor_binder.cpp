// Tensor binding shared by the ViT and CNN loaders.
#include "models/tensor_binder.hpp"

#include <cstdint>
#include <utility>

#include "vitscope/core/error.hpp"

namespace vitscope {

struct TensorBinder::State {
  const SafeTensors& file;
  std::string layout;
  ThreadPool* pool;
  std::set<std::string> used;
  std::int64_t parameters = 0, statistics = 0;
};

TensorBinder::TensorBinder(const SafeTensors& file, std::string layout, ThreadPool* pool)
    : state_(std::make_shared<State>(State{file, std::move(layout), pool, {}})) {}

TensorBinder::TensorBinder(std::shared_ptr<State> state, std::string prefix)
    : state_(std::move(state)), prefix_(std::move(prefix)) {}

TensorBinder TensorBinder::scope(const std::string& prefix) const {
  return TensorBinder(state_, prefix_ + prefix);
}

const std::string& TensorBinder::path() const { return state_->file.path(); }

bool TensorBinder::has(const std::string& name) const { return state_->file.contains(full(name)); }

const TensorShape& TensorBinder::shape(const std::string& name) const {
  if (!has(name)) throw WeightsError(path() + ": no tensor '" + full(name) + "' for " + state_->layout);
  return state_->file.info(full(name)).shape;
}

xt::xarray<float> TensorBinder::load(const std::string& name, const TensorShape& expected) {
  const std::string key = full(name);
  if (!state_->file.contains(key))
    throw WeightsError(path() + ": no tensor '" + key + "' (expected " + shape_to_string(expected) +
                       " for " + state_->layout + ")");
  state_->used.insert(key);
  xt::xarray<float> t = state_->file.load_f32(key, expected);
  state_->file.release(key);  // the copy is what the model keeps
  return t;
}

xt::xarray<float> TensorBinder::take(const std::string& name, const TensorShape& expected) {
  xt::xarray<float> t = load(name, expected);
  state_->parameters += static_cast<std::int64_t>(t.size());
  return t;
}

std::vector<float> TensorBinder::vector(const std::string& name, const TensorShape& expected) {
  const xt::xarray<float> t = take(name, expected);
  return std::vector<float>(t.begin(), t.end());
}

xt::xarray<float> TensorBinder::statistic(const std::string& name, const TensorShape& expected) {
  xt::xarray<float> t = load(name, expected);
  state_->statistics += static_cast<std::int64_t>(t.size());
  return t;
}

kernels::LinearWeights TensorBinder::linear_weight(const std::string& name, std::int64_t out,
                                                   std::int64_t in, Precision precision,
                                                   const TensorShape& stored) {
  const std::string key = full(name);
  const TensorShape expected = stored.empty() ? TensorShape{out, in} : stored;
  const SafeTensors& file = state_->file;
  xt::xarray<float> copy;
  const float* w = nullptr;
  const std::uint8_t* bytes = file.contains(key) ? file.data(key) : nullptr;
  if (bytes && file.info(key).dtype == DType::F32 && file.info(key).shape == expected &&
      reinterpret_cast<std::uintptr_t>(bytes) % alignof(float) == 0) {
    state_->used.insert(key);
    state_->parameters += out * in;
    w = reinterpret_cast<const float*>(bytes);
  } else {
    copy = take(name, expected);  // widens F16/BF16, or reports the missing / mis-shaped tensor
    w = copy.data();
  }
  kernels::LinearWeights packed = kernels::LinearWeights::pack(
      w, static_cast<int>(out), static_cast<int>(in), static_cast<int>(in), precision, state_->pool);
  file.release(key);
  return packed;
}

void TensorBinder::ignore(const std::string& name) {
  if (has(name)) state_->used.insert(full(name));
}

void TensorBinder::check_all_used() const {
  const SafeTensors& file = state_->file;
  for (const std::string& name : file.names())
    if (!state_->used.count(name))
      throw WeightsError(path() + ": unexpected tensor '" + name + "' " +
                         shape_to_string(file.info(name).shape) + " for " + state_->layout);
}

std::int64_t TensorBinder::parameters() const { return state_->parameters; }
std::int64_t TensorBinder::statistics() const { return state_->statistics; }

}  // namespace vitscope
