// Class activation maps against the golden files: the CAM computed in PyTorch from the head
// weights, and Grad-CAM from autograd, which must equal the CAM divided by h·w.
#include <string>

#include "models/test_cnn_cases.hpp"
#include "vitscope/maps/cnn_maps.hpp"
#include "vitscope/core/error.hpp"

using namespace vitscope;
using vitscope::testing::CnnCase;
using vitscope::testing::open_cnn_case;

namespace {

// CAM values are sums of C products over activations up to 6; relative to the map's maximum.
constexpr double kRelativeTolerance = 1e-5;

xt::xtensor<float, 3> slice(const xt::xtensor<float, 4>& t, std::size_t b) {
  xt::xtensor<float, 3> out = xt::xtensor<float, 3>::from_shape({t.shape(1), t.shape(2), t.shape(3)});
  std::copy(t.begin() + static_cast<std::ptrdiff_t>(b * out.size()),
            t.begin() + static_cast<std::ptrdiff_t>((b + 1) * out.size()), out.begin());
  return out;
}

// Worst |ours[y,x] · scale - golden[b,y,x]| relative to max golden[b].
double relative_map_difference(const xt::xtensor<float, 2>& ours, const xt::xtensor<float, 3>& golden,
                               std::size_t b, double scale) {
  REQUIRE(ours.shape(0) == golden.shape(1));
  REQUIRE(ours.shape(1) == golden.shape(2));
  double worst = 0, top = 0;
  for (std::size_t y = 0; y < ours.shape(0); ++y)
    for (std::size_t x = 0; x < ours.shape(1); ++x) {
      top = std::max(top, double(golden(b, y, x)));
      worst = std::max(worst, std::abs(ours(y, x) * scale - golden(b, y, x)));
    }
  return worst / std::max(top, 1e-12);
}

}  // namespace

TEST_CASE("CAM equals PyTorch's, and Grad-CAM times h*w", "[maps][cnn][cam]") {
  const std::string name = GENERATE(as<std::string>{}, "mobilenet_v1", "mobilenet_v1_odd", "resnet18",
                                    "resnet18_odd", "resnet_bottleneck");
  CAPTURE(name);
  const CnnCase c = open_cnn_case(name);
  auto model = c.load(nullptr);
  Session session;
  model->forward(c.input(), session, /*record_features=*/true);
  const xt::xtensor<float, 4>& features = session.recording().features;
  const xt::xtensor<float, 3> cam = c.tensor<3>("cam"), gradcam = c.tensor<3>("gradcam");
  const std::vector<int> top1 = c.top1();
  const double pixels = double(features.shape(1)) * features.shape(2);
  for (std::size_t b = 0; b < features.shape(0); ++b) {
    const int k = top1[b];
    const xt::xtensor<float, 2> map = class_activation_map(slice(features, b), model->head_weight(), k);
    const double cam_diff = relative_map_difference(map, cam, b, 1.0);
    const double gradcam_diff = relative_map_difference(map, gradcam, b, 1.0 / pixels);
    INFO("image " << b << ", class " << k << ": CAM diff " << cam_diff << ", Grad-CAM diff " << gradcam_diff);
    CHECK(cam_diff <= kRelativeTolerance);
    CHECK(gradcam_diff <= kRelativeTolerance);
  }
}

TEST_CASE("class_activation_map on an image maps the top-1 class by default", "[maps][cnn][cam]") {
  const CnnCase c = open_cnn_case("resnet18");
  auto model = c.load(nullptr);
  const xt::xtensor<float, 4> input = c.input();
  const xt::xtensor<float, 2> logits = c.tensor<2>("logits");
  const std::vector<int> top1 = c.top1();
  const xt::xtensor<float, 3> cam = c.tensor<3>("cam");
  Session session;
  for (std::size_t b = 0; b < input.shape(0); ++b) {
    const ClassActivation a = class_activation_map(*model, session, slice(input, b));
    CHECK(a.class_index == top1[b]);
    for (std::size_t k = 0; k < a.logits.size(); ++k) CHECK(a.logits(k) == Approx(logits(b, k)).margin(1e-4));
    CHECK(relative_map_difference(a.map, cam, b, 1.0) <= kRelativeTolerance);
    const int other = (a.class_index + 1) % 10;
    CHECK(class_activation_map(*model, session, slice(input, b), other).class_index == other);
  }
  xt::xtensor<float, 3> features = xt::zeros<float>({2, 2, 32});
  CHECK_THROWS_AS(class_activation_map(features, model->head_weight(), 10), ConfigError);
  xt::xtensor<float, 3> wrong = xt::zeros<float>({2, 2, 31});
  CHECK_THROWS_AS(class_activation_map(wrong, model->head_weight(), 0), ConfigError);
}
