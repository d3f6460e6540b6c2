// Effective receptive fields against PyTorch autograd on the golden models (the signed input
// gradient, the |gradient| maps summed over channels, their size and spread), and the spread
// measures on maps whose answer is known.
#include <cmath>
#include <string>

#include "models/test_cnn_cases.hpp"
#include "vitscope/maps/cnn_maps.hpp"
#include "vitscope/core/error.hpp"

using namespace vitscope;
using vitscope::testing::CnnCase;
using vitscope::testing::open_cnn_case;

namespace {

// Gradients relative to their largest magnitude: fp32 back-propagation through up to 27 layers
// against float64 autograd.
constexpr double kRelativeTolerance = 1e-5;

xt::xtensor<float, 3> first_image(const CnnCase& c) {
  const xt::xtensor<float, 4> input = c.input();
  xt::xtensor<float, 3> image = xt::xtensor<float, 3>::from_shape({3, input.shape(2), input.shape(3)});
  std::copy(input.begin(), input.begin() + static_cast<std::ptrdiff_t>(image.size()), image.begin());
  return image;
}

template <class A, class B>
double relative_difference(const A& ours, const B& golden) {
  REQUIRE(ours.size() == golden.size());
  double worst = 0, scale = 0;
  for (std::size_t i = 0; i < golden.size(); ++i) {
    scale = std::max(scale, double(std::abs(golden.data()[i])));
    worst = std::max(worst, double(std::abs(ours.data()[i] - golden.data()[i])));
  }
  return worst / scale;
}

}  // namespace

TEST_CASE("ERF maps, sizes and spreads match PyTorch autograd", "[maps][cnn][erf]") {
  const std::string name = GENERATE(as<std::string>{}, "mobilenet_v1", "mobilenet_v1_odd", "resnet18",
                                    "resnet18_odd", "resnet_bottleneck");
  CAPTURE(name);
  const CnnCase c = open_cnn_case(name);
  ThreadPool pool(2);
  auto model = c.load(&pool);
  Session session(&pool);
  const xt::xtensor<float, 3> image = first_image(c);
  const nlohmann::json erfs = c.meta_json("erf");
  for (auto it = erfs.begin(); it != erfs.end(); ++it) {
    const std::string& key = it.key();
    const nlohmann::json& info = it.value();
    const int layer = model->find_layer(info["layer"].get<std::string>());
    ErfOptions options;
    options.channel = info["channel"].get<int>();
    const EffectiveReceptiveField erf = effective_receptive_fields(*model, session, image, {layer}, options)[0];
    CAPTURE(key);
    CHECK(erf.unit.y == info["unit"][0].get<int>());
    CHECK(erf.unit.x == info["unit"][1].get<int>());
    CHECK(erf.centre_y == info["centre"][0].get<double>());
    CHECK(erf.centre_x == info["centre"][1].get<double>());
    const double diff = relative_difference(erf.map, c.tensor<2>(key));
    INFO("worst |ERF - PyTorch| / max = " << diff);
    CHECK(diff <= kRelativeTolerance);
    CHECK(erf.spread.mass == Approx(info["mass"].get<double>()).epsilon(1e-4));
    CHECK(erf.spread.size == info["size95"].get<double>());
    CHECK(erf.spread.sigma == Approx(info["sigma"].get<double>()).epsilon(1e-4));
  }
}

TEST_CASE("The signed input gradient matches PyTorch autograd", "[maps][cnn][erf]") {
  const std::string name = GENERATE(as<std::string>{}, "mobilenet_v1", "mobilenet_v1_odd", "resnet18",
                                    "resnet18_odd", "resnet_bottleneck");
  CAPTURE(name);
  const CnnCase c = open_cnn_case(name);
  auto model = c.load(nullptr);
  Session session;
  for (const std::string& key : c.io.names()) {
    if (key.rfind("grad.", 0) != 0) continue;
    const std::string layer = key.substr(5);
    const nlohmann::json info = c.meta_json("erf")["erf." + layer];
    const CnnUnit unit{model->find_layer(layer), info["unit"][0].get<int>(), info["unit"][1].get<int>(), -1};
    const xt::xtensor<float, 3> grad = model->input_gradients(first_image(c), {unit}, session)[0];
    const double diff = relative_difference(grad, c.tensor<3>(key));
    INFO(key << ": worst |gradient - PyTorch| / max = " << diff);
    CHECK(diff <= kRelativeTolerance);
  }
}

TEST_CASE("input_gradients refuses units outside the layer", "[maps][cnn][erf]") {
  const CnnCase c = open_cnn_case("resnet18");
  auto model = c.load(nullptr);
  const xt::xtensor<float, 3> image = first_image(c);
  Session session;
  const int layer = model->find_layer("layer4.1");  // 2×2×32 at 48×48
  CHECK_THROWS_AS(model->input_gradients(image, {{layer, 2, 0, -1}}, session), ConfigError);
  CHECK_THROWS_AS(model->input_gradients(image, {{layer, 0, 0, 32}}, session), ConfigError);
  CHECK_THROWS_AS(model->input_gradients(image, {{0, 0, 0, -1}}, session), ConfigError);
  CHECK_THROWS_WITH(model->find_layer("layer9"), Catch::Matchers::Contains("layer9"));
}

TEST_CASE("A forward pass after input gradients still gives the golden logits", "[maps][cnn][erf]") {
  const CnnCase c = open_cnn_case("mobilenet_v1");
  auto model = c.load(nullptr);
  Session session;
  model->input_gradients(first_image(c), {{model->feature_layer(), 1, 1, -1}}, session);
  const auto diff =
      vitscope::testing::max_abs_difference(model->forward(c.input(), session), c.tensor<2>("logits"));
  CHECK(diff.max_abs <= 1e-4);
}

TEST_CASE("mass_spread on maps with a known answer", "[maps][cnn][erf]") {
  xt::xtensor<float, 2> map = xt::zeros<float>({21, 21});
  SECTION("a uniform 5x5 square") {
    for (int y = 8; y <= 12; ++y)
      for (int x = 8; x <= 12; ++x) map(y, x) = 2.0f;
    CHECK(mass_spread(map, 10, 10, 0.95).size == 5);  // radius 1 holds 9/25, radius 2 all
    CHECK(mass_spread(map, 10, 10, 0.36).size == 3);  // exactly 9/25
    CHECK(mass_spread(map, 10, 10, 0.3).size == 3);
    CHECK(mass_spread(map, 9, 9, 0.95).size == 7);    // off-centre: radius 3 reaches (12, 12)
    // var_y = var_x = (4 + 1 + 0 + 1 + 4) / 5 = 2
    CHECK(mass_spread(map, 10, 10, 0.95).sigma == Approx(std::sqrt(2.0)));
    CHECK(mass_spread(map, 10, 10, 0.95).mass == Approx(50.0));
  }
  SECTION("a single pixel") {
    map(3, 17) = 1.0f;
    const MassSpread s = mass_spread(map, 3, 17, 0.95);
    CHECK(s.size == 1);
    CHECK(s.sigma == 0);
  }
  SECTION("a Gaussian of sigma 2.5") {
    xt::xtensor<float, 2> big = xt::zeros<float>({61, 61});
    for (int y = 0; y < 61; ++y)
      for (int x = 0; x < 61; ++x)
        big(y, x) = static_cast<float>(std::exp(-((y - 30) * (y - 30) + (x - 30) * (x - 30)) / (2 * 2.5 * 2.5)));
    CHECK(mass_spread(big, 30, 30, 0.95).sigma == Approx(2.5).epsilon(1e-3));
  }
  SECTION("an empty map") {
    const MassSpread s = mass_spread(map, 10, 10, 0.95);
    CHECK(std::isnan(s.size));
    CHECK(std::isnan(s.sigma));
    CHECK(s.mass == 0);
  }
}
