// Theoretical receptive fields: hand-derived values for MobileNet v1 and ResNet-18 at 224×224, the
// independent Python recurrence of the golden files on even and odd inputs, and the effective
// fields (autograd) never reaching outside them.
#include <cmath>
#include <map>
#include <string>

#include "models/test_cnn_cases.hpp"
#include "vitscope/maps/cnn_maps.hpp"

using namespace vitscope;
using vitscope::testing::CnnCase;
using vitscope::testing::open_cnn_case;

namespace {

struct Expected {
  int size, jump, start;  // start in both axes (square input, symmetric rules)
};

void check_fields(const CnnModel& model, int side, const std::map<std::string, Expected>& expected) {
  const std::vector<ReceptiveField> fields = theoretical_receptive_fields(model, side, side);
  for (const auto& [name, e] : expected) {
    const ReceptiveField& f = fields[model.find_layer(name)];
    INFO(name << ": size " << f.size << " jump " << f.jump << " start (" << f.start_y << ", "
              << f.start_x << "); expected " << e.size << ", " << e.jump << ", " << e.start);
    CHECK(f.size == e.size);
    CHECK(f.jump == e.jump);
    CHECK(f.start_y == e.start);
    CHECK(f.start_x == e.start);
  }
}

}  // namespace

TEST_CASE("MobileNet v1 receptive fields at 224x224, derived by hand", "[maps][cnn][rf]") {
  // Widths do not matter: the golden 0.125 model has the strides and kernels of every MobileNet v1.
  // r' = r + (k − 1)·j, j' = j·s, start' = start − pad_top·j. All 3×3; TensorFlow "same" pads a
  // stride-1 layer by 1 on every side and a stride-2 layer on an even input by 0 top/left, 1
  // bottom/right (224, 112, 56, 28, 14 are all even), so strided layers leave start unchanged.
  //   conv1      s2: r = 1 + 2·1 = 3,            j = 2,  start = 0
  //   conv_dw_1  s1: r = 3 + 2·2 = 7,            j = 2,  start = 0 − 1·2 = −2
  //   conv_dw_2  s2: r = 7 + 2·2 = 11,           j = 4,  start = −2
  //   conv_dw_3  s1: r = 11 + 2·4 = 19,          j = 4,  start = −2 − 4 = −6
  //   conv_dw_4  s2: r = 19 + 2·4 = 27,          j = 8,  start = −6
  //   conv_dw_5  s1: r = 27 + 2·8 = 43,          j = 8,  start = −14
  //   conv_dw_6  s2: r = 43 + 2·8 = 59,          j = 16, start = −14
  //   conv_dw_7..11 s1: r = 59 + 32·n = 91, 123, 155, 187, 219; start = −14 − 16·n = −30 .. −94
  //   conv_dw_12 s2: r = 219 + 2·16 = 251,       j = 32, start = −94
  //   conv_dw_13 s1: r = 251 + 2·32 = 315,       j = 32, start = −94 − 32 = −126
  // A 1×1 pointwise layer keeps its depthwise layer's field.
  const CnnCase c = open_cnn_case("mobilenet_v1");
  auto model = c.load(nullptr);
  check_fields(*model, 224,
               {{"conv1", {3, 2, 0}},        {"conv_dw_1", {7, 2, -2}},     {"conv_pw_1", {7, 2, -2}},
                {"conv_dw_2", {11, 4, -2}},  {"conv_dw_3", {19, 4, -6}},    {"conv_dw_4", {27, 8, -6}},
                {"conv_dw_5", {43, 8, -14}}, {"conv_dw_6", {59, 16, -14}},  {"conv_dw_7", {91, 16, -30}},
                {"conv_dw_8", {123, 16, -46}}, {"conv_dw_9", {155, 16, -62}}, {"conv_dw_10", {187, 16, -78}},
                {"conv_dw_11", {219, 16, -94}}, {"conv_dw_12", {251, 32, -94}}, {"conv_dw_13", {315, 32, -126}},
                {"conv_pw_13", {315, 32, -126}}});
  // Unit i of the final 7×7 map is centred on pixel −126 + 32·i + 157 = 31 + 32·i: the bottom/right
  // padding of every strided layer shifts the grid by 1 + 2 + 4 + 8 + 16 pixels.
  const ReceptiveField last = theoretical_receptive_fields(*model, 224, 224)[model->feature_layer()];
  CHECK(last.centre_y(0) == 31.0);
  CHECK(last.centre_x(3) == 127.0);
}

TEST_CASE("ResNet-18 receptive fields at 224x224, derived by hand", "[maps][cnn][rf]") {
  // conv1 7×7 s2 p3: r = 7, j = 2, start = −3; maxpool 3×3 s2 p1: r = 7 + 2·2 = 11, j = 4,
  // start = −3 − 2 = −5. Every 3×3 p1 convolution adds 2·j to r and takes j from start; the first
  // of layers 2-4 doubles j after. A block's output is the union with its shortcut, which the main
  // path (two 3×3 convolutions) always contains, e.g. layer2.0: downsample 1×1 s2 of layer1.1
  // (r 43) ⊂ conv2 (r 67).
  //   layer1: 19, 27 | 35, 43           (j 4,  start −9, −13 | −17, −21)
  //   layer2: 51, 67 | 83, 99           (j 8,  start −25, −33 | −41, −49)
  //   layer3: 115, 147 | 179, 211       (j 16, start −57, −73 | −89, −105)
  //   layer4: 243, 307 | 371, 435       (j 32, start −121, −153 | −185, −217)
  const CnnCase c = open_cnn_case("resnet18");
  auto model = c.load(nullptr);
  check_fields(*model, 224,
               {{"conv1", {7, 2, -3}},            {"maxpool", {11, 4, -5}},
                {"layer1.0.conv1", {19, 4, -9}},  {"layer1.0.conv2", {27, 4, -13}}, {"layer1.0", {27, 4, -13}},
                {"layer1.1", {43, 4, -21}},       {"layer2.0.conv1", {51, 8, -25}},
                {"layer2.0.downsample", {43, 8, -21}}, {"layer2.0", {67, 8, -33}}, {"layer2.1", {99, 8, -49}},
                {"layer3.0", {147, 16, -73}},     {"layer3.1", {211, 16, -105}},
                {"layer4.0.conv1", {243, 32, -121}}, {"layer4.0", {307, 32, -153}},
                {"layer4.1", {435, 32, -217}}});
  const ReceptiveField last = theoretical_receptive_fields(*model, 224, 224)[model->feature_layer()];
  CHECK(last.centre_y(0) == 0.0);  // symmetric padding: unit i is centred on pixel 32·i
  CHECK(last.centre_x(3) == 96.0);
}

TEST_CASE("Receptive fields equal the golden files' recurrence on even and odd inputs", "[maps][cnn][rf]") {
  const std::string name = GENERATE(as<std::string>{}, "mobilenet_v1", "mobilenet_v1_odd", "resnet18",
                                    "resnet18_odd", "resnet_bottleneck");
  CAPTURE(name);
  const CnnCase c = open_cnn_case(name);
  auto model = c.load(nullptr);
  const int H = c.spec.preprocess.input_height, W = c.spec.preprocess.input_width;
  const std::vector<ReceptiveField> fields = theoretical_receptive_fields(*model, H, W);
  const nlohmann::json golden = c.meta_json("rf");
  REQUIRE(golden.size() == model->layers().size());
  for (auto it = golden.begin(); it != golden.end(); ++it) {
    const std::string& layer = it.key();
    const nlohmann::json& v = it.value();
    const ReceptiveField& f = fields[model->find_layer(layer)];
    INFO(layer << ": ours [" << f.size << "," << f.jump << "," << f.start_y << "," << f.start_x
               << "], golden " << v.dump());
    CHECK(f.size == v[0].get<int>());
    CHECK(f.jump == v[1].get<int>());
    CHECK(f.start_y == v[2].get<int>());
    CHECK(f.start_x == v[3].get<int>());
  }
}

TEST_CASE("PyTorch's input gradients never leave the theoretical field", "[maps][cnn][rf]") {
  const std::string name = GENERATE(as<std::string>{}, "mobilenet_v1", "mobilenet_v1_odd", "resnet18",
                                    "resnet18_odd", "resnet_bottleneck");
  CAPTURE(name);
  const CnnCase c = open_cnn_case(name);
  auto model = c.load(nullptr);
  const int H = c.spec.preprocess.input_height, W = c.spec.preprocess.input_width;
  const std::vector<ReceptiveField> fields = theoretical_receptive_fields(*model, H, W);
  const nlohmann::json erfs = c.meta_json("erf");
  for (auto it = erfs.begin(); it != erfs.end(); ++it) {
    const std::string& key = it.key();
    const nlohmann::json& info = it.value();
    const ReceptiveField& f = fields[model->find_layer(info["layer"].get<std::string>())];
    const int y0 = f.start_y + info["unit"][0].get<int>() * f.jump;
    const int x0 = f.start_x + info["unit"][1].get<int>() * f.jump;
    const xt::xtensor<float, 2> map = c.tensor<2>(key);
    int outside = 0, inside_nonzero = 0;
    for (int y = 0; y < H; ++y)
      for (int x = 0; x < W; ++x) {
        const bool inside = y >= y0 && y < y0 + f.size && x >= x0 && x < x0 + f.size;
        if (map(y, x) != 0) (inside ? inside_nonzero : outside) += 1;
      }
    INFO(key << ": field rows/cols from (" << y0 << ", " << x0 << "), size " << f.size);
    CHECK(outside == 0);
    CHECK(inside_nonzero > 0);
  }
}

TEST_CASE("layer_reach lists every layer with its depth and field, ERF where asked", "[maps][cnn][rf]") {
  const CnnCase c = open_cnn_case("mobilenet_v1");
  auto model = c.load(nullptr);
  const std::vector<LayerReach> table = layer_reach(*model, 224, 224);
  REQUIRE(table.size() == 27);
  CHECK(table.front().name == "conv1");
  CHECK(table.front().depth == 1);
  CHECK(table.front().theoretical_size == 3);
  CHECK(table.back().name == "conv_pw_13");
  CHECK(table.back().depth == 27);
  CHECK(table.back().theoretical_size == 315);
  CHECK(table.back().jump == 32);
  for (std::size_t i = 1; i < table.size(); ++i) {
    CHECK(table[i].depth == table[i - 1].depth + 1);
    CHECK(table[i].theoretical_size >= table[i - 1].theoretical_size);
    CHECK(std::isnan(table[i].effective_size));
  }

  const xt::xtensor<float, 4> input = c.input();
  xt::xtensor<float, 3> image = xt::xtensor<float, 3>::from_shape({3, input.shape(2), input.shape(3)});
  std::copy(input.begin(), input.begin() + static_cast<std::ptrdiff_t>(image.size()), image.begin());
  const int pw3 = model->find_layer("conv_pw_3");
  Session session;
  const std::vector<LayerReach> with_erf = layer_reach(*model, session, image, {pw3});
  const nlohmann::json golden = c.meta_json("erf");
  for (const LayerReach& r : with_erf) {
    if (r.layer == pw3) {
      CHECK(r.effective_size == golden["erf.conv_pw_3"]["size95"].get<double>());
      CHECK(r.effective_sigma == Approx(golden["erf.conv_pw_3"]["sigma"].get<double>()).epsilon(1e-4));
    } else {
      CHECK(std::isnan(r.effective_size));
    }
  }
}
