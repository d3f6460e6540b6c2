// Loading refuses CNN checkpoints that do not fit the architecture, naming the tensor.
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>

#include <nlohmann/json.hpp>

#include "models/test_cnn_cases.hpp"
#include "vitscope/core/error.hpp"

using namespace vitscope;
using Catch::Matchers::Contains;
using vitscope::testing::CnnCase;
using vitscope::testing::open_cnn_case;

namespace {

// Writes a copy of a golden CNN weights file with its header edited (tensors renamed, reshaped,
// dropped or added; the data section is kept as is).
std::string rewrite(const std::string& model, const std::string& tag,
                    const std::function<void(nlohmann::json&)>& edit) {
  std::ifstream in(vitscope::testing::data_path("cnn/" + model + ".safetensors"), std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::uint64_t n = 0;
  std::memcpy(&n, bytes.data(), 8);
  nlohmann::json header = nlohmann::json::parse(bytes.substr(8, n));
  edit(header);
  const std::string text = header.dump();
  const std::uint64_t m = text.size();
  const std::string path =
      (std::filesystem::temp_directory_path() / ("vitscope_cnn_" + tag + ".safetensors")).string();
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(&m), 8);
  out << text << bytes.substr(8 + n);
  return path;
}

void rename(nlohmann::json& h, const std::string& from, const std::string& to) {
  h[to] = h[from];
  h.erase(from);
}

ModelSpec spec(const std::string& architecture) {
  ModelSpec s;
  s.name = "broken";
  s.architecture = architecture;
  return s;
}

}  // namespace

TEST_CASE("A missing MobileNet tensor is named with the file", "[models][cnn]") {
  const std::string path = rewrite("mobilenet_v1", "missing",
                                   [](nlohmann::json& h) { rename(h, "conv_pw_7_bn/moving_variance", "conv_pw_7_bn/var"); });
  const SafeTensors file = SafeTensors::open(path);
  CHECK_THROWS_AS(CnnModel::load_mobilenet_v1(file, spec("mobilenet_v1"), nullptr), WeightsError);
  CHECK_THROWS_WITH(CnnModel::load_mobilenet_v1(file, spec("mobilenet_v1"), nullptr),
                    Contains(path) && Contains("conv_pw_7_bn/moving_variance"));
}

TEST_CASE("A mis-shaped MobileNet tensor is named with both shapes", "[models][cnn]") {
  // [3,3,32,1] read as [3,3,16,2]: same bytes, only the shape check can tell.
  const std::string path = rewrite("mobilenet_v1", "reshaped", [](nlohmann::json& h) {
    h["conv_dw_5/depthwise_kernel"]["shape"] = {3, 3, 16, 2};
  });
  const SafeTensors file = SafeTensors::open(path);
  CHECK_THROWS_WITH(CnnModel::load_mobilenet_v1(file, spec("mobilenet_v1"), nullptr),
                    Contains("conv_dw_5/depthwise_kernel") && Contains("[3,3,16,2]") && Contains("[3,3,32,1]"));
}

TEST_CASE("A MobileNet without all 13 blocks is refused", "[models][cnn]") {
  const std::string path = rewrite("mobilenet_v1", "short", [](nlohmann::json& h) {
    for (const char* suffix : {"/depthwise_kernel", "_bn/gamma", "_bn/beta", "_bn/moving_mean", "_bn/moving_variance"})
      h.erase(std::string("conv_dw_13") + suffix);
  });
  const SafeTensors file = SafeTensors::open(path);
  CHECK_THROWS_WITH(CnnModel::load_mobilenet_v1(file, spec("mobilenet_v1"), nullptr),
                    Contains("12 depthwise blocks"));
}

TEST_CASE("An unknown tensor is refused by both loaders", "[models][cnn]") {
  for (const std::string model : {"mobilenet_v1", "resnet18"}) {
    const std::string path = rewrite(model, "extra_" + model, [](nlohmann::json& h) {
      std::uint64_t end = 0;
      for (auto it = h.begin(); it != h.end(); ++it)
        if (it.key() != "__metadata__") end = std::max(end, it.value()["data_offsets"][1].get<std::uint64_t>());
      h["layer1.0.se.fc.weight"] = {{"dtype", "F32"}, {"shape", {0}}, {"data_offsets", {end, end}}};
    });
    const SafeTensors file = SafeTensors::open(path);
    auto load = [&] {
      return model == "resnet18" ? CnnModel::load_resnet(file, spec("resnet"), nullptr)
                                 : CnnModel::load_mobilenet_v1(file, spec("mobilenet_v1"), nullptr);
    };
    CHECK_THROWS_WITH(load(), Contains("unexpected tensor 'layer1.0.se.fc.weight'"));
  }
}

TEST_CASE("A ResNet block that changes shape needs its downsample", "[models][cnn]") {
  const std::string path = rewrite("resnet18", "no_downsample", [](nlohmann::json& h) {
    for (const char* t : {"downsample.0.weight", "downsample.1.weight", "downsample.1.bias",
                          "downsample.1.running_mean", "downsample.1.running_var", "downsample.1.num_batches_tracked"})
      h.erase(std::string("layer3.0.") + t);
  });
  const SafeTensors file = SafeTensors::open(path);
  CHECK_THROWS_WITH(CnnModel::load_resnet(file, spec("resnet"), nullptr),
                    Contains("layer3.0") && Contains("layer3.0.downsample.0.weight"));
}

TEST_CASE("A mis-shaped ResNet convolution is named", "[models][cnn]") {
  const std::string path = rewrite("resnet18", "reshaped", [](nlohmann::json& h) {
    h["layer2.1.conv1.weight"]["shape"] = {8, 8, 1, 9};  // [8,8,3,3] bytes
  });
  const SafeTensors file = SafeTensors::open(path);
  CHECK_THROWS_WITH(CnnModel::load_resnet(file, spec("resnet"), nullptr),
                    Contains("layer2.1.conv1.weight") && Contains("[8,8,1,9]") && Contains("[8,8,3,3]"));
}

TEST_CASE("Weights of another architecture are refused up front", "[models][cnn]") {
  const CnnCase mobilenet = open_cnn_case("mobilenet_v1"), resnet = open_cnn_case("resnet18");
  CHECK_THROWS_WITH(CnnModel::load_resnet(mobilenet.weights, spec("resnet"), nullptr),
                    Contains("not a ResNet in torchvision/timm layout"));
  CHECK_THROWS_WITH(CnnModel::load_mobilenet_v1(resnet.weights, spec("mobilenet_v1"), nullptr),
                    Contains("not a MobileNet v1 in Keras layout"));
}

TEST_CASE("Any positive input size runs; a wrong input shape is a one-line error", "[models][cnn]") {
  const CnnCase c = open_cnn_case("resnet18");
  auto model = c.load(nullptr);
  Session session;
  // 1×1 survives the stem (7×7 p3 s2: 1, max pool 3×3 p1 s2: 1) and every later stride.
  CHECK(model->forward(xt::zeros<float>({1, 3, 1, 1}), session).shape(1) == 10);
  const xt::xtensor<float, 4> wrong_channels = xt::zeros<float>({1, 4, 8, 8});
  CHECK_THROWS_WITH(model->forward(wrong_channels, session), Contains("expected [batch,3,height,width]"));
  const xt::xtensor<float, 4> empty = xt::zeros<float>({1, 3, 0, 8});
  CHECK_THROWS_AS(model->forward(empty, session), ConfigError);
}
