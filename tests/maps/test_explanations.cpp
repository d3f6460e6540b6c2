// Explanation maps: the ViT's gradient-weighted rollout against PyTorch (Chefer et al.'s rule on
// autograd's attention gradients, tests/data/vit/gradients), input × gradient, Grad-CAM (equal to
// CAM / (h·w) at the pooled features; the class gradient against finite differences), the
// baselines, patch relevance, and the ViT's effective receptive fields on the real DeiT-Tiny
// against autograd's maps.
#include <cmath>
#include <cstring>
#include <string>

#include <xtensor/xview.hpp>

#include "models/test_cnn_cases.hpp"
#include "models/deit_tiny_erf_case.hpp"
#include "models/vit_gradient_case.hpp"
#include "vitscope/core/error.hpp"
#include "vitscope/maps/cnn_maps.hpp"
#include "vitscope/maps/explanations.hpp"
#include "vitscope/maps/vit_receptive_fields.hpp"
#include "vitscope/models/model_registry.hpp"

using namespace vitscope;
using namespace vitscope::testing;

namespace {

xt::xtensor<float, 3> image_of(const xt::xtensor<float, 4>& batch, std::size_t b) {
  return xt::view(batch, b, xt::all(), xt::all(), xt::all());
}

std::vector<float> one_hot(int classes, int k) {
  std::vector<float> v(static_cast<std::size_t>(classes), 0.0f);
  v[static_cast<std::size_t>(k)] = 1.0f;
  return v;
}

}  // namespace

TEST_CASE("Gradient-weighted rollout equals Chefer et al.'s rule on PyTorch autograd", "[maps][explanations]") {
  for (const char* name : kGradientCases) {
    DYNAMIC_SECTION(name) {
      const VitGradientCase c(name);
      const VitModel* model = c.model.get();
      const VitBackprop& backprop = *c.backprop;
      const SafeTensors& grads = c.grads;
      const xt::xarray<float> expected = grads.load_f32("chefer");
      REQUIRE(grads.info("top1").dtype == DType::I32);
      const xt::xtensor<float, 4>& input = c.input;
      Session session;
      for (std::size_t b = 0; b < input.shape(0); ++b) {
        const xt::xtensor<float, 3> image = image_of(input, b);
        const VitTape tape = backprop.record(image, session);
        std::int32_t k;
        std::memcpy(&k, grads.data("top1") + 4 * b, 4);
        const VitGradient g = backprop.from_logits(tape, one_hot(model->num_classes(), k), true, session);
        const xt::xtensor<float, 2> map =
            vit_explanation(ExplanationMethod::GradientRollout, *model, {&image, &tape, &g}, {});
        const xt::xarray<float> row = xt::view(expected, b, xt::all());
        double scale = 0;
        for (float v : row) scale = std::max(scale, std::abs(double(v)));
        INFO("image " << b);
        CHECK(max_abs_difference(map, row).max_abs <= 1e-4 * scale + 1e-6);
      }
    }
  }
}

TEST_CASE("Input x gradient sums each patch's first-order share", "[maps][explanations]") {
  xt::xtensor<float, 3> image = xt::zeros<float>({3, 32, 48}), gradient = xt::zeros<float>({3, 32, 48});
  image(0, 0, 0) = 2;
  gradient(0, 0, 0) = 3;  // patch (0, 0): 6
  image(2, 31, 47) = -1;
  gradient(2, 31, 47) = 4;  // patch (1, 2): −4
  image(1, 17, 20) = 5;     // gradient zero there
  const xt::xtensor<float, 2> map = input_times_gradient(image, gradient, 16);
  REQUIRE(map.shape(0) == 2);
  REQUIRE(map.shape(1) == 3);
  CHECK(map(0, 0) == 6.0f);
  CHECK(map(1, 2) == -4.0f);
  CHECK(xt::sum(xt::abs(map))() == 10.0f);
  CHECK_THROWS_AS(input_times_gradient(image, xt::zeros<float>({3, 32, 32}), 16), ConfigError);
}

TEST_CASE("Grad-CAM at the pooled features is CAM / (h*w); the class gradient matches finite differences",
          "[maps][explanations][cnn]") {
  const CnnCase c = open_cnn_case("mobilenet_v1_odd");
  auto model = c.load(nullptr);
  Session session;
  const xt::xtensor<float, 4> input = c.input();
  const xt::xtensor<float, 3> image = image_of(input, 0);
  const xt::xtensor<float, 3> gradcam = c.tensor<3>("gradcam");
  const int k = c.top1()[0];
  ExplanationOptions at_features;
  at_features.gradcam_layer = model->feature_layer();
  const xt::xtensor<float, 2> map = cnn_explanation(ExplanationMethod::GradCam, *model, session, image, k, at_features);
  double top = 0, worst = 0;
  for (std::size_t y = 0; y < map.shape(0); ++y)
    for (std::size_t x = 0; x < map.shape(1); ++x) {
      top = std::max(top, double(gradcam(0, y, x)));
      worst = std::max(worst, std::abs(double(map(y, x)) - gradcam(0, y, x)));
    }
  CHECK(worst <= 1e-5 * top);

  // ∂logit/∂image (layer 0) against central differences of the forward pass, at a few pixels.
  const CnnModel::LayerGradient g = model->class_gradient(image, k, 0, session);
  REQUIRE(g.gradient.shape(2) == 3);
  auto logit = [&](const xt::xtensor<float, 3>& x) {
    xt::xtensor<float, 4> batch = xt::xtensor<float, 4>::from_shape({1, x.shape(0), x.shape(1), x.shape(2)});
    std::copy(x.begin(), x.end(), batch.begin());
    return double(model->forward(batch, session)(0, k));
  };
  CHECK(logit(image) == Approx(g.logits(k)).margin(1e-4));
  double largest = 0;
  for (float v : g.gradient) largest = std::max(largest, std::abs(double(v)));
  for (const auto& [ch, y, x] : {std::array<int, 3>{0, 3, 4}, {1, 10, 7}, {2, 5, 12}, {0, 0, 0}}) {
    const float h = 1e-2f;
    xt::xtensor<float, 3> up = image, down = image;
    up(ch, y, x) += h;
    down(ch, y, x) -= h;
    const double numeric = (logit(up) - logit(down)) / (2 * h);
    INFO("pixel (" << ch << ", " << y << ", " << x << ")");
    CHECK(std::abs(numeric - g.gradient(y, x, ch)) <= 2e-3 * largest);
  }
  CHECK_THROWS_AS(model->class_gradient(image, model->num_classes(), 1, session), ConfigError);
  CHECK_THROWS_AS(model->class_gradient(image, k, static_cast<int>(model->layers().size()), session), ConfigError);
}

TEST_CASE("Baseline maps and patch relevance", "[maps][explanations]") {
  const xt::xtensor<float, 2> a = random_map(14, 14, 7), b = random_map(14, 14, 7), other = random_map(14, 14, 8);
  const bool same_seed_same_map = a == b, other_seed_other_map = a != other;
  CHECK(same_seed_same_map);
  CHECK(other_seed_other_map);
  CHECK(xt::amin(a)() >= 0.0f);
  CHECK(xt::amax(a)() < 1.0f);
  const xt::xtensor<float, 2> g = gaussian_map(14, 14);
  CHECK(g(6, 6) == g(7, 7));  // centred between the middle patches
  CHECK(g(6, 6) == xt::amax(g)());
  CHECK(g(0, 0) < g(3, 3));
  // A map on the grid is its own relevance; a constant map at any resolution stays constant.
  const bool on_grid_unchanged = patch_relevance(a, 224, 224, 16) == a;
  CHECK(on_grid_unchanged);
  const xt::xtensor<float, 2> constant = xt::ones<float>({7, 7}) * 3.0f;
  const xt::xtensor<float, 2> r = patch_relevance(constant, 224, 224, 16);
  REQUIRE(r.shape(0) == 14);
  const float constant_error = xt::amax(xt::abs(r - 3.0f))();
  CHECK(constant_error < 1e-6f);
  // A 7×7 map peaked at one cell puts its largest patches under that cell.
  xt::xtensor<float, 2> peak = xt::zeros<float>({7, 7});
  peak(2, 5) = 1;
  const xt::xtensor<float, 2> rp = patch_relevance(peak, 224, 224, 16);
  const auto best = std::distance(rp.begin(), std::max_element(rp.begin(), rp.end()));
  CHECK(best / 14 / 2 == 2);
  CHECK(best % 14 / 2 == 5);
  CHECK_THROWS_AS(patch_relevance(peak, 200, 224, 16), ConfigError);
  CHECK(kernel_mean_distance(1, 8) == 0.0);
  CHECK(kernel_mean_distance(3, 1) == Approx((4 + 4 * std::sqrt(2.0)) / 9));
  CHECK(kernel_mean_distance(3, 16) == Approx(16 * (4 + 4 * std::sqrt(2.0)) / 9));
  CHECK(parse_explanation_method("grad-rollout") == ExplanationMethod::GradientRollout);
  CHECK_THROWS_AS(parse_explanation_method("lrp"), ConfigError);
}

TEST_CASE("DeiT-Tiny effective receptive fields agree with autograd (class token, last block; patch token, first block)",
          "[maps][explanations][real]") {
  DeitTinyErfCase c;
  const VitModel& vit = *c.vit;
  const VitBackprop& backprop = *c.backprop;
  const VitTape& tape = c.tape;
  Session& session = c.session;
  const SafeTensors& golden = c.golden;
  REQUIRE(centre_patch_token(vit, tape) == 1 + 7 * 14 + 7);
  struct Case {
    const char* tensor;
    int block, token;
  };
  for (const Case k : {Case{"cls_last", 11, 0}, Case{"patch_first", 0, centre_patch_token(vit, tape)}}) {
    INFO(k.tensor);
    const auto ours = vit_effective_receptive_fields(backprop, tape, session, {k.block}, k.token);
    REQUIRE(ours.size() == 1);
    const xt::xtensor<float, 2> reference = golden.load_f32(k.tensor);
    const MassSpread expected = mass_spread(reference, ours[0].centre_y, ours[0].centre_x, 0.95);
    CHECK(ours[0].spread.size == expected.size);
    CHECK(ours[0].spread.mean_distance == Approx(expected.mean_distance).epsilon(1e-4));
    CHECK(ours[0].spread.sigma == Approx(expected.sigma).epsilon(1e-4));
  }
}

TEST_CASE("Grad-CAM's default layer: the last layer on the 16-pixel grid that no skip connection bypasses",
          "[maps][explanations][cnn]") {
  Session session;
  {
    auto model = open_cnn_case("mobilenet_v1").load(nullptr);
    CHECK(model->layers()[default_gradcam_layer(*model, 224, 224)].name == "conv_pw_11");
  }
  // Bottleneck ResNet: the stride sits on conv2, so layer4.0.conv1 is still at 16 pixels, but the
  // downsample branch bypasses it; the end of layer3 is the answer.
  auto bottleneck = open_cnn_case("resnet_bottleneck").load(nullptr);
  CHECK(bottleneck->layers()[default_gradcam_layer(*bottleneck, 224, 224)].name == "layer3.0");
  auto basic = open_cnn_case("resnet18").load(nullptr);
  CHECK(basic->layers()[default_gradcam_layer(*basic, 224, 224)].name == "layer3.1");
}
