// End-to-end tests of `vitscope compare` on the real binary with the real DeiT-Tiny and MobileNet
// weights: the three outputs, their sizes and contents, and the numbers behind the plot.
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include "cli/edited_weights.hpp"
#include "cli/vit_cnn_args.hpp"

using namespace vitscope::testing;
namespace fs = std::filesystem;
using Catch::Matchers::Contains;

namespace {

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
  CHECK(plot.size() == cv::Size(1800, 620));  // two panels: cumulative | one hop
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
    // Cumulative: the centre patch token's effective field, a centred square up to 2 * 120 px.
    const auto& erf = layer.at("erf_centre_token");
    CHECK(erf.at("size_95_px").get<double>() >= 16);
    CHECK(erf.at("size_95_px").get<double>() <= 240);
    CHECK(erf.at("mean_distance_px").get<double>() > 0);
    CHECK(erf.at("mean_distance_px").get<double>() < erf.at("size_95_px").get<double>());
  }
  CHECK(j.at("vit").at("erf_centre_token_index") == 1 + 7 * 14 + 7);
  CHECK(j.at("vit").at("erf_class_token_last_block").at("size_95_px").get<double>() > 16);
  // The default maps, on the patch grid (ViT) and the CNN's last feature map.
  const auto& vit_maps = j.at("vit").at("maps");
  REQUIRE(vit_maps.size() == 2);
  CHECK(vit_maps[0].at("method") == "rollout");
  CHECK(vit_maps[1].at("method") == "grad-rollout");
  CHECK(vit_maps[1].at("values").size() == 14);
  const auto& cnn_maps = j.at("cnn").at("maps");
  REQUIRE(cnn_maps.size() == 2);
  CHECK(cnn_maps[1].at("method") == "grad-cam");
  CHECK(cnn_maps[1].at("values").size() == 14);  // conv_pw_11, on the ViT's patch grid
  // The plot's numbers: every curve of both panels.
  const auto& curves = j.at("receptive_fields");
  CHECK(curves.at("vit").at("erf_size_95_px").size() == 12);
  CHECK(curves.at("vit").at("mean_attention_distance_px").size() == 12);
  CHECK(curves.at("cnn").at("erf_mean_distance_px").size() == 27);
  CHECK(curves.at("cnn").at("one_hop_mean_distance_px").size() == 27);
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
    // One hop: 0 for a 1x1 convolution, else (4 + 4 sqrt 2) / 9 of the input jump for a 3x3.
    const double hop = layer.at("one_hop_mean_distance_px");
    if (layer.at("name").get<std::string>().rfind("conv_pw", 0) == 0)
      CHECK(hop == 0);
    else
      CHECK(hop > 0);
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
  CHECK_THAT(run.out, Contains("effective field of the centre token \u2014 after the last block"));
  CHECK_THAT(run.out, !Contains("nan"));  // --no-erf measures no effective field: none is printed
  std::ifstream report(out / "cat" / "compare.json");
  const auto j = nlohmann::json::parse(report);
  CHECK(j.at("cnn").at("cam").at("class_index") == 281);
  CHECK(j.at("cnn").at("cam").at("label") == "tabby");
  CHECK(j.at("cnn").at("layers")[0].at("effective_rf_px").is_null());
}

TEST_CASE("compare --summary: each receptive-field curve's mean and interval over the images; chosen maps",
          "[cli][compare]") {
  const fs::path in = fresh_dir("compare_summary_in");
  const fs::path out = fresh_dir("compare_summary_out");
  fs::copy_file(kSamples + "/chelsea.png", in / "cat.png");
  fs::copy_file(kSamples + "/coffee.png", in / "coffee.png");
  const RunResult run = run_vitscope("compare " + model_args() +
                                     " --summary --maps raw-attention,input-x-gradient,random,grad-cam "
                                     "--gradcam-layer conv_pw_11 --out " + quote(out.string()) + " " + quote(in.string()));
  INFO(run.out << run.err);
  REQUIRE(run.status == 0);
  CHECK_THAT(run.out, Contains("summary over 2 images"));
  REQUIRE(!cv::imread((out / "summary" / "receptive_fields.png").string()).empty());
  std::ifstream summary_in(out / "summary" / "summary.json");
  const auto summary = nlohmann::json::parse(summary_in);
  CHECK(summary.at("receptive_fields").at("images") == 2);
  std::ifstream cat_in(out / "cat" / "compare.json"), coffee_in(out / "coffee" / "compare.json");
  const auto cat = nlohmann::json::parse(cat_in), coffee = nlohmann::json::parse(coffee_in);
  const auto& points = summary.at("receptive_fields").at("vit").at("erf_mean_distance_px");
  REQUIRE(points.size() == 12);
  for (std::size_t l = 0; l < 12; ++l) {
    const double a = cat.at("receptive_fields").at("vit").at("erf_mean_distance_px")[l].at("mean");
    const double b = coffee.at("receptive_fields").at("vit").at("erf_mean_distance_px")[l].at("mean");
    CHECK(points[l].at("mean").get<double>() == Approx((a + b) / 2));
    CHECK(points[l].at("low").get<double>() <= std::min(a, b) + 1e-9);
    CHECK(points[l].at("high").get<double>() >= std::max(a, b) - 1e-9);
  }
  // The maps asked for, each with the model it applies to (the baseline with the ViT's).
  const auto& vit_maps = cat.at("vit").at("maps");
  REQUIRE(vit_maps.size() == 3);
  CHECK(vit_maps[0].at("method") == "raw-attention");
  CHECK(vit_maps[1].at("method") == "input-x-gradient");
  CHECK(vit_maps[2].at("method") == "random");
  const auto& cnn_maps = cat.at("cnn").at("maps");
  REQUIRE(cnn_maps.size() == 1);
  CHECK(cnn_maps[0].at("grid")[0] == 14);  // conv_pw_11: stride 16
}

TEST_CASE("compare: option errors are exit 2 before any image", "[cli][compare]") {
  const fs::path out = fresh_dir("compare_options");
  const std::string photo = quote(kSamples + "/coffee.png");
  struct Case {
    std::string args, message;
  };
  std::ofstream(out / "file.txt") << "x";
  for (const Case& c : {Case{"--class 1000", "--class 1000"}, Case{"--maps rollout,lrp", "unknown map method 'lrp'"},
                        Case{"--gradcam-layer nosuch", "nosuch"},
                        Case{"--out " + quote((out / "file.txt").string()), "not a folder"},
                        // below a file: no folder can be made there, for any image
                        Case{"--out " + quote((out / "file.txt" / "sub").string()), "file.txt is not a folder"}}) {
    const RunResult run = run_vitscope("compare " + model_args() + " " + c.args + " " + photo);
    INFO(c.args << "\n" << run.out << run.err);
    CHECK(run.status == 2);
    CHECK_THAT(run.err, Contains(c.message));
    CHECK(run.out.empty());
  }
  const RunResult cnn_as_vit = run_vitscope("compare --vit " + quote(shared_path("models/mobilenet_v1_0.75_224.safetensors")) +
                                            " " + photo);
  CHECK(cnn_as_vit.status == 2);
  CHECK_THAT(cnn_as_vit.err, Contains("not a Vision Transformer"));
}

TEST_CASE("compare: a model whose output is not finite gives each image an error row naming it", "[cli][compare]") {
  // Weights that load but give NaN (ViT) or infinite (CNN) logits: no class, no maps, status 1,
  // and every image still tried.
  const fs::path dir = fresh_dir("compare_nan");
  const fs::path broken_vit = dir / "broken_vit.safetensors", broken_cnn = dir / "broken_cnn.safetensors";
  copy_with_value(data_path("vit/tokens197.safetensors"), "head.bias", NAN, broken_vit);
  copy_with_value(shared_path("models/mobilenet_v1_0.75_224.safetensors"), "conv_preds/bias", INFINITY, broken_cnn);
  const std::string photos = quote(kSamples + "/coffee.png") + " " + quote(kSamples + "/chelsea.png");
  struct Case {
    std::string models, model_name;
  };
  for (const Case& c : {Case{"--vit " + quote(broken_vit.string()) + " --cnn " +
                                 quote(shared_path("models/mobilenet_v1_0.75_224.safetensors")), "broken_vit"},
                        Case{"--vit " + quote(data_path("vit/tokens197.safetensors")) + " --cnn " +
                                 quote(broken_cnn.string()), "broken_cnn"}}) {
    const RunResult run = run_vitscope("compare " + c.models + " --no-erf --maps rollout,cam --out " +
                                       quote((dir / "out").string()) + " " + photos);
    INFO(run.out << run.err);
    CHECK(run.status == 1);
    CHECK_THAT(run.out, !Contains("%"));
    for (const char* photo : {"coffee.png", "chelsea.png"})
      CHECK_THAT(run.err, Contains(std::string(photo) + ": model " + c.model_name + " gave a non-finite logit"));
    CHECK(!fs::exists(dir / "out" / "coffee" / "compare.json"));
  }
}
