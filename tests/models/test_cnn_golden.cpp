// MobileNet v1 (Keras layout) and ResNets (torchvision layout) against PyTorch float64 runs of the
// same random weights (scripts/golden/gen_cnn_cases.py): logits and the pooled feature map, on even
// inputs (TensorFlow "same" padding with the extra pixel at the bottom/right) and odd ones.
#include <string>

#include "models/test_cnn_cases.hpp"

using namespace vitscope;
using vitscope::testing::CnnCase;
using vitscope::testing::max_abs_difference;
using vitscope::testing::open_cnn_case;

namespace {

constexpr double kLogitTolerance = 1e-4;    // absolute, fp32 against float64
// Absolute, on activations up to 6: PyTorch float32 itself is 1.1e-4 from float64 on mobilenet_v1_odd.
constexpr double kFeatureTolerance = 2e-4;

// features [B,h,w,C] (ours, NHWC) against [B,C,h,w] (PyTorch).
double feature_difference(const xt::xtensor<float, 4>& ours, const xt::xtensor<float, 4>& theirs) {
  REQUIRE(ours.shape(0) == theirs.shape(0));
  REQUIRE(ours.shape(1) == theirs.shape(2));
  REQUIRE(ours.shape(2) == theirs.shape(3));
  REQUIRE(ours.shape(3) == theirs.shape(1));
  double worst = 0;
  for (std::size_t b = 0; b < ours.shape(0); ++b)
    for (std::size_t y = 0; y < ours.shape(1); ++y)
      for (std::size_t x = 0; x < ours.shape(2); ++x)
        for (std::size_t c = 0; c < ours.shape(3); ++c)
          worst = std::max(worst, double(std::abs(ours(b, y, x, c) - theirs(b, c, y, x))));
  return worst;
}

}  // namespace

TEST_CASE("CNN logits and features match PyTorch on every golden case", "[models][cnn]") {
  const std::string name = GENERATE(as<std::string>{}, "mobilenet_v1", "mobilenet_v1_odd", "resnet18",
                                    "resnet18_odd", "resnet_bottleneck", "resnet18_winograd",
                                    "resnet_bottleneck_winograd");  // *_winograd: layer1 runs as Winograd
  const int threads = GENERATE(1, 2);
  CAPTURE(name, threads);
  const CnnCase c = open_cnn_case(name);
  ThreadPool pool(threads);
  auto model = c.load(&pool);
  CHECK(model->num_classes() == 10);
  CHECK(model->layers()[model->feature_layer()].name == c.meta("feature_layer"));

  Session session(&pool);
  const xt::xtensor<float, 2> logits = model->forward(c.input(), session, /*record_features=*/true);
  const xt::xtensor<float, 4>& features = session.recording().features;
  const auto logit_diff = max_abs_difference(logits, c.tensor<2>("logits"));
  INFO("worst |logit - PyTorch| = " << logit_diff.max_abs << " at flat index " << logit_diff.where);
  CHECK(logit_diff.max_abs <= kLogitTolerance);
  const double feature_diff = feature_difference(features, c.tensor<4>("features"));
  INFO("worst |feature - PyTorch| = " << feature_diff);
  CHECK(feature_diff <= kFeatureTolerance);
}

TEST_CASE("A CNN gives each image of a batch the logits it gets alone", "[models][cnn]") {
  const std::string name = GENERATE(as<std::string>{}, "mobilenet_v1", "resnet18");
  const CnnCase c = open_cnn_case(name);
  ThreadPool pool(2);
  auto model = c.load(&pool);
  const xt::xtensor<float, 4> batch = c.input();
  Session session(&pool);
  const xt::xtensor<float, 2> together = model->forward(batch, session);
  for (std::size_t b = 0; b < batch.shape(0); ++b) {
    xt::xtensor<float, 4> one = xt::xtensor<float, 4>::from_shape({1, 3, batch.shape(2), batch.shape(3)});
    std::copy(batch.begin() + b * one.size(), batch.begin() + (b + 1) * one.size(), one.begin());
    const xt::xtensor<float, 2> alone = model->forward(one, session);
    for (std::size_t k = 0; k < alone.shape(1); ++k) CHECK(alone(0, k) == Approx(together(b, k)).margin(1e-5));
  }
  // And a batch again after a smaller one: the workspace is re-planned, not reused wrongly.
  const auto again = max_abs_difference(model->forward(batch, session), together);
  CHECK(again.max_abs == 0.0);
}

TEST_CASE("CNN summaries report the structure, parameters and MACs", "[models][cnn]") {
  SECTION("MobileNet v1 0.125") {
    const CnnCase c = open_cnn_case("mobilenet_v1");
    auto model = c.load(nullptr);
    const ModelSummary s = model->summary();
    CHECK(s.architecture == "mobilenet_v1");
    // Learned values in the file: every tensor but the BatchNorm running statistics.
    std::int64_t all = 0, statistics = 0;
    for (const std::string& n : c.weights.names()) {
      all += c.weights.info(n).numel();
      if (n.find("moving_") != std::string::npos) statistics += c.weights.info(n).numel();
    }
    CHECK(s.parameters == all - statistics);
    CHECK(model->layers().size() == 28);  // image, conv1, 13 × (depthwise, pointwise)
    CHECK(model->layers().back().depth == 27);
    bool has_width = false;
    for (const auto& [key, value] : s.config)
      if (key == "width multiplier") has_width = value.rfind("0.125 (4 to 128 channels)", 0) == 0;
    CHECK(has_width);
  }
  SECTION("ResNet-18") {
    const CnnCase c = open_cnn_case("resnet18");
    auto model = c.load(nullptr);
    const ModelSummary s = model->summary();
    CHECK(s.architecture == "resnet");
    bool named = false;
    for (const auto& [key, value] : s.config)
      if (key == "variant") named = value == "ResNet-18 (basic blocks 2-2-2-2)";
    CHECK(named);
    // MACs by hand at 48×48, stem width 4: conv1 24·24·4·147, then per stage the 3×3 convolutions
    // (and the 1×1 downsample) at 12, 6, 3 and 2 pixels square, then fc 32·10.
    const std::int64_t expected = 24 * 24 * 4 * 147                           // conv1
                                  + 4 * (12 * 12 * 4 * 36)                    // layer1: 4 convs 4→4
                                  + 6 * 6 * 8 * 36 + 3 * (6 * 6 * 8 * 72) + 6 * 6 * 8 * 4     // layer2
                                  + 3 * 3 * 16 * 72 + 3 * (3 * 3 * 16 * 144) + 3 * 3 * 16 * 8  // layer3
                                  + 2 * 2 * 32 * 144 + 3 * (2 * 2 * 32 * 288) + 2 * 2 * 32 * 16 // layer4
                                  + 32 * 10;
    CHECK(s.macs_per_image == expected);
  }
}
