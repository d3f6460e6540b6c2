#pragma once
// The CNN golden cases of scripts/golden/gen_cnn_cases.py (tests/data/cnn/): a random model file
// and a PyTorch float64 run on it. Shared by the model and map tests.
#include <cstring>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "models/test_helpers.hpp"
#include "vitscope/models/cnn.hpp"
#include "vitscope/io/safetensors.hpp"

namespace vitscope::testing {

struct CnnCase {
  std::string name;
  SafeTensors weights;
  SafeTensors io;
  ModelSpec spec;

  const std::string& meta(const std::string& key) const { return io.metadata().at(key); }
  nlohmann::json meta_json(const std::string& key) const { return nlohmann::json::parse(meta(key)); }

  template <int N>
  xt::xtensor<float, N> tensor(const std::string& key) const {
    const xt::xarray<float> a = io.load_f32(key);
    REQUIRE(a.dimension() == N);
    typename xt::xtensor<float, N>::shape_type shape;
    std::copy(a.shape().begin(), a.shape().end(), shape.begin());
    xt::xtensor<float, N> t = xt::xtensor<float, N>::from_shape(shape);
    std::copy(a.begin(), a.end(), t.begin());
    return t;
  }
  xt::xtensor<float, 4> input() const { return tensor<4>("input"); }
  // PyTorch's top-1 class of every image (stored as I64).
  std::vector<int> top1() const {
    const TensorInfo& info = io.info("top1");
    REQUIRE(info.dtype == DType::I64);
    std::vector<int> classes(static_cast<std::size_t>(info.numel()));
    for (std::size_t i = 0; i < classes.size(); ++i) {
      std::int64_t v;
      std::memcpy(&v, io.data("top1") + 8 * i, 8);
      classes[i] = static_cast<int>(v);
    }
    return classes;
  }

  std::unique_ptr<CnnModel> load(ThreadPool* pool) const {
    if (spec.architecture == "mobilenet_v1") return CnnModel::load_mobilenet_v1(weights, spec, pool);
    return CnnModel::load_resnet(weights, spec, pool);
  }
};

// name: "mobilenet_v1", "mobilenet_v1_odd", "resnet18", "resnet18_odd", "resnet_bottleneck".
inline CnnCase open_cnn_case(const std::string& name) {
  SafeTensors io = SafeTensors::open(data_path("cnn/" + name + ".io.safetensors"));
  const std::string model = io.metadata().at("model");
  CnnCase c{name, SafeTensors::open(data_path("cnn/" + model + ".safetensors")), std::move(io), {}};
  c.spec.name = model;
  c.spec.architecture = model == "mobilenet_v1" ? "mobilenet_v1" : "resnet";
  const TensorInfo& input = c.io.info("input");
  c.spec.preprocess.input_height = static_cast<int>(input.shape[2]);
  c.spec.preprocess.input_width = static_cast<int>(input.shape[3]);
  return c;
}

}  // namespace vitscope::testing
