// The whole eval transform against timm/torchvision's Resize → CenterCrop → ToTensor → Normalize.
#include <cmath>

#include <catch2/catch.hpp>

#include "preprocess/preprocess_test_util.hpp"
#include "vitscope/preprocess/preprocess.hpp"

using namespace vitscope;
using namespace vitscope::test;

TEST_CASE("preprocess equals the torchvision pipeline on the golden cases", "[preprocess][golden]") {
  const nlohmann::json cases = golden_cases("pipeline_cases");
  REQUIRE(cases.size() >= 5);
  for (const auto& c : cases) {
    PreprocessConfig config;
    config.input_height = c.at("input_height");
    config.input_width = c.at("input_width");
    config.crop_pct = c.at("crop_pct");
    config.interpolation = parse_interpolation(c.at("interpolation"));
    for (int i = 0; i < 3; ++i) {
      config.mean[i] = c.at("mean")[i].get<float>();
      config.std[i] = c.at("std")[i].get<float>();
    }
    const std::string key = c.at("tensor");
    const auto expected = preprocess_golden().load_f32(key, {3, config.input_height, config.input_width});
    const auto ours = preprocess(load_image(preprocess_data(c.at("source"))), config);
    REQUIRE(ours.shape()[0] == 3);
    REQUIRE(ours.shape()[1] == static_cast<std::size_t>(config.input_height));
    REQUIRE(ours.shape()[2] == static_cast<std::size_t>(config.input_width));

    double worst = 0.0;
    std::size_t worst_index = 0, identical = 0;
    for (std::size_t i = 0; i < ours.size(); ++i) {
      const double diff = std::fabs(double{ours.data()[i]} - double{expected.data()[i]});
      if (diff == 0.0) ++identical;
      if (diff > worst) worst = diff, worst_index = i;
    }
    INFO(key << ": " << identical << "/" << ours.size() << " identical, max |diff| " << worst
             << " at flat index " << worst_index);
    CHECK(worst <= 1e-6);
  }
}
