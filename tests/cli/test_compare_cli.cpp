// End-to-end tests of `vitscope compare` on the real binary with the real DeiT-Tiny and MobileNet
// weights: the three outputs, their sizes and contents, and the numbers behind the plot.
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include "cli/cli_runner.hpp"
#include "models/test_helpers.hpp"

using namespace vitscope::testing;
namespace fs = std::filesystem;
using Catch::Matchers::Contains;

namespace {

const std::string kSamples = std::string(VITSCOPE_REPO_DIR) + "/samples";

std::string model_args() {
  return "--vit " + quote(shared_path("models/deit_tiny_patch16_224.safetensors")) + " --cnn " +
         quote(shared_path("models/mobilenet_v1_0.75_224.safetensors"));
}

// Not blank: the pixel values vary.
double pixel_spread(const cv::Mat& image) {
  cv::Scalar mean, stddev;
  cv::meanStdDev(image, mean, stddev);
  return (stddev[0] + stddev[1] + stddev[2]) / 3;
}

}  // namespace

TEST_CASE("compare writes the panel, the receptive-field plot and compare.json", "[cli][compare]") {
  const fs::path out = fresh_dir("compare_one");
  const RunResult run = run_vitscope("compare " + model_args() + " --out " + quote(out.string()) + " " +
                                     quote(kSamples + "/coffee.png"));
  INFO(run.out << run.err);
  REQUIRE(run.status == 0);
  CHECK_THAT(run.out, Contains("espresso"));
  CHECK_THAT(run.out, Contains("IoU of the top-20% regions"));

  const cv::Mat panel = cv::imread((out / "panel.png").string());
  const cv::Mat plot = cv::imread((out / "receptive_fields.png").string());
  REQUIRE(!panel.empty());
  REQUIRE(!plot.empty());
  CHECK(panel.cols >= 3 * 336);
  CHECK(panel.rows >= 336 + 168);
  CHECK(plot.size() == cv::Size(960, 640));
  CHECK(pixel_spread(panel) > 20);
  CHECK(pixel_spread(plot) > 5);

  std::ifstream in(out / "compare.json");
  const auto j = nlohmann::json::parse(in);
  CHECK(j.at("files").size() == 3);
  CHECK(j.at("vit").at("top").size() == 5);
  CHECK(j.at("cnn").at("top").size() == 5);
  CHECK(j.at("vit").at("top")[0].at("label") == "espresso");
  CHECK(j.at("cnn").at("top")[0].at("label") == "espresso");
  // DeiT-Tiny: 12 layers of 3 heads, each layer's mean the mean of its heads.
  const auto& layers = j.at("vit").at("layers");
  REQUIRE(layers.size() == 12);
  for (const auto& layer : layers) {
    REQUIRE(layer.at("per_head_px").size() == 3);
    double sum = 0;
    for (double d : layer.at("per_head_px")) {
      CHECK(d >= 0);
      CHECK(d <= 224 * std::sqrt(2.0));
      sum += d;
    }
    CHECK(layer.at("mean_attention_distance_px").get<double>() == Approx(sum / 3));
  }
  // MobileNet v1: 27 convolutions; the theoretical field grows with depth to 315 px (see the
  // receptive-field tests), and the effective field is never larger than the theoretical one.
  const auto& cnn_layers = j.at("cnn").at("layers");
  REQUIRE(cnn_layers.size() == 27);
  int previous = 0;
  for (const auto& layer : cnn_layers) {
    const int theoretical = layer.at("theoretical_rf_px");
    CHECK(theoretical >= previous);
    previous = theoretical;
    CHECK(layer.at("effective_rf_px").get<double>() <= theoretical);
  }
  CHECK(previous == 315);
  const double iou = j.at("overlap").at("iou_top_regions");
  CHECK(iou >= 0);
  CHECK(iou <= 1);
}

TEST_CASE("compare on a folder: one sub-folder per image, error rows for bad files", "[cli][compare]") {
  const fs::path in = fresh_dir("compare_in");
  const fs::path out = fresh_dir("compare_out");
  fs::copy_file(kSamples + "/chelsea.png", in / "cat.png");
  fs::copy_file(kSamples + "/rocket.jpg", in / "rocket.jpg");
  std::ofstream(in / "broken.jpg") << "not a jpeg";
  const RunResult run = run_vitscope("compare " + model_args() + " --no-erf --class 281 --out " +
                                     quote(out.string()) + " " + quote(in.string()));
  INFO(run.out << run.err);
  CHECK(run.status == 1);
  CHECK_THAT(run.err, Contains("broken.jpg"));
  for (const char* name : {"cat", "rocket"}) {
    CHECK(fs::exists(out / name / "panel.png"));
    CHECK(fs::exists(out / name / "receptive_fields.png"));
    CHECK(fs::exists(out / name / "compare.json"));
  }
  CHECK(!fs::exists(out / "broken"));
  std::ifstream report(out / "cat" / "compare.json");
  const auto j = nlohmann::json::parse(report);
  CHECK(j.at("cnn").at("cam").at("class_index") == 281);
  CHECK(j.at("cnn").at("cam").at("label") == "tabby");
  CHECK(j.at("cnn").at("layers")[0].at("effective_rf_px").is_null());
}
