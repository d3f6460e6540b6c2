// End-to-end tests of `vitscope faithfulness` with the real DeiT-Tiny and MobileNet: the table,
// the JSON the issue of the scoreboard names (one object per model and method, AUCs, intervals,
// curves), the plot, error rows for bad images and option errors.
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>

#include "cli/edited_weights.hpp"
#include "cli/vit_cnn_args.hpp"

using namespace vitscope::testing;
namespace fs = std::filesystem;
using Catch::Matchers::Contains;

TEST_CASE("faithfulness scores each map, with error rows for bad images", "[cli][faithfulness]") {
  const fs::path in = fresh_dir("faithfulness_in"), out = fresh_dir("faithfulness_out");
  fs::copy_file(kSamples + "/coffee.png", in / "coffee.png");
  std::ofstream(in / "broken.jpg") << "not a jpeg";
  const fs::path json_file = out / "scores.json", plot_file = out / "curves.png";
  // The plumbing, not the numbers (README has those): the 2-block test ViT keeps the 144 perturbed
  // forward passes per map quick, also under the sanitizers.
  const std::string models = "--vit " + quote(data_path("vit/tokens197.safetensors")) + " --cnn " +
                             quote(shared_path("models/mobilenet_v1_0.75_224.safetensors"));
  const RunResult run = run_vitscope("faithfulness " + models + " --methods rollout,grad-rollout,random,cam --json " +
                                     quote(json_file.string()) + " --plot " + quote(plot_file.string()) + " " +
                                     quote(in.string()));
  INFO(run.out << run.err);
  CHECK(run.status == 1);  // the broken file
  CHECK_THAT(run.err, Contains("broken.jpg"));
  CHECK_THAT(run.out, Contains("on 1 image ("));
  CHECK_THAT(run.out, Contains("grad-rollout"));
  REQUIRE(!cv::imread(plot_file.string()).empty());

  std::ifstream in_json(json_file);
  const auto j = nlohmann::json::parse(in_json);
  CHECK(j.at("images") == 1);
  CHECK(j.at("failed") == 1);
  const auto& results = j.at("results");
  // ViT: rollout, grad-rollout, random; CNN: random, cam (the baseline scored for both).
  REQUIRE(results.size() == 5);
  int vit = 0, cnn = 0;
  for (const auto& r : results) {
    INFO(r.dump());
    (r.at("family") == "ViT" ? vit : cnn)++;
    for (const char* auc : {"positive_auc", "negative_auc"}) {
      const double v = r.at(auc);
      CHECK(v >= 0);
      CHECK(v <= 90);  // 100 · area over fractions 0 … 0.9
      CHECK(r.at(std::string(auc) + "_interval")[0].get<double>() <= v);
      CHECK(r.at(std::string(auc) + "_interval")[1].get<double>() >= v);
    }
    for (const char* auc : {"deletion_auc", "insertion_auc"}) {
      const double v = r.at(auc);
      CHECK(v >= 0);
      CHECK(v <= 1);
    }
    CHECK(r.at("curves").at("positive").size() == 10);
    CHECK(r.at("curves").at("positive")[0] == 1.0);  // nothing removed: the top-1 holds
    CHECK(r.at("curves").at("deletion").size() == 29);
    CHECK(r.at("images") == 1);
  }
  CHECK(vit == 3);
  CHECK(cnn == 2);
  CHECK(results[0].at("model") == "tokens197");
  CHECK(results[1].at("versus_reference").at("method") == "rollout");
}

TEST_CASE("faithfulness: a model without attention as --vit, and unknown methods, are option errors",
          "[cli][faithfulness]") {
  const std::string photo = quote(kSamples + "/coffee.png");
  const RunResult cnn_as_vit = run_vitscope("faithfulness --vit " + quote(shared_path("models/mobilenet_v1_0.75_224.safetensors")) +
                                            " " + photo);
  CHECK(cnn_as_vit.status == 2);
  CHECK_THAT(cnn_as_vit.err, Contains("not a Vision Transformer"));
  const RunResult unknown = run_vitscope("faithfulness " + model_args() + " --methods rollout,lrp " + photo);
  CHECK(unknown.status == 2);
  CHECK_THAT(unknown.err, Contains("unknown map method 'lrp'"));
  // --json and --plot are written after all the scoring: a place they cannot go is refused first.
  const fs::path dir = fresh_dir("faithfulness_outputs");
  std::ofstream(dir / "file.txt") << "a file";
  for (const std::string option : {"--json", "--plot"}) {
    const RunResult below_file = run_vitscope("faithfulness " + model_args() + " " + option + " " +
                                              quote((dir / "file.txt" / "out").string()) + " " + photo);
    INFO(option << ": " << below_file.err);
    CHECK(below_file.status == 2);
    CHECK(below_file.out.empty());
    CHECK_THAT(below_file.err, Contains("file.txt is not a folder"));
    const RunResult missing = run_vitscope("faithfulness " + model_args() + " " + option + " " +
                                           quote((dir / "missing" / "out").string()) + " " + photo);
    CHECK(missing.status == 2);
    CHECK_THAT(missing.err, Contains("does not exist"));
  }
}

TEST_CASE("faithfulness: a model whose output is not finite gives each image an error row naming it",
          "[cli][faithfulness]") {
  const fs::path dir = fresh_dir("faithfulness_nan");
  const fs::path broken_vit = dir / "broken_vit.safetensors";
  copy_with_value(data_path("vit/tokens197.safetensors"), "head.bias", NAN, broken_vit);
  const RunResult run = run_vitscope("faithfulness --vit " + quote(broken_vit.string()) + " --cnn " +
                                     quote(shared_path("models/mobilenet_v1_0.75_224.safetensors")) +
                                     " --methods rollout,random " + quote(kSamples + "/coffee.png") + " " +
                                     quote(kSamples + "/chelsea.png"));
  INFO(run.out << run.err);
  CHECK(run.status == 1);
  CHECK_THAT(run.out, !Contains("faithfulness of each map"));  // no scores
  for (const char* photo : {"coffee.png", "chelsea.png"})
    CHECK_THAT(run.err, Contains(std::string(photo) + ": model broken_vit gave a non-finite logit"));
  CHECK_THAT(run.err, Contains("no image could be scored"));
}
