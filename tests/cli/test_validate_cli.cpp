// `vitscope validate` on the 100 labelled photos reproduces PyTorch's accuracy on them exactly.
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "cli/cli_runner.hpp"
#include "models/imagenet100.hpp"

using namespace vitscope::testing;
namespace fs = std::filesystem;
using Catch::Matchers::Contains;

TEST_CASE("validate: DeiT-Tiny's top-1 and top-5 accuracy equal PyTorch's", "[cli][validate]") {
  const std::string images = shared_path("images/imagenet-100");
  const PhotoGolden golden = read_photo_golden("imagenet100_deit_tiny.safetensors");
  const auto truth = read_labels_csv(images + "/labels.csv");
  int top1 = 0, top5 = 0;
  for (std::size_t i = 0; i < golden.files.size(); ++i) {
    const int label = truth.at(golden.files[i]);
    int rank = 0;  // classes scoring higher than the true one
    for (std::size_t k = 0; k < golden.logits.shape(1); ++k) rank += golden.logits(i, k) > golden.logits(i, label);
    top1 += rank == 0;
    top5 += rank < 5;
  }
  const fs::path json = fresh_dir("validate") / "report.json";
  const RunResult run = run_vitscope("validate --model " + quote(shared_path("models/deit_tiny_patch16_224.safetensors")) +
                                     " " + quote(images) + " --labels " + quote(images + "/labels.csv") +
                                     " --json " + quote(json.string()));
  INFO(run.out << run.err);
  REQUIRE(run.status == 0);
  std::ifstream in(json);
  const auto report = nlohmann::json::parse(in);
  CHECK(report.at("images") == 100);
  CHECK(report.at("top1") == top1);
  CHECK(report.at("top5") == top5);
  CHECK(top1 == 79);  // the shared README's PyTorch reference
  CHECK_THAT(run.out, Contains("top-1 accuracy 79.00% (79/100)"));
  int errors = 0;
  for (const auto& c : report.at("per_class")) errors += c.at("top1_errors").get<int>();
  CHECK(errors == 100 - top1);
}

TEST_CASE("validate: an ImageFolder tree named by class", "[cli][validate]") {
  const fs::path root = fresh_dir("imagefolder");
  const std::string samples = std::string(VITSCOPE_REPO_DIR) + "/samples";
  fs::create_directories(root / "espresso");
  fs::create_directories(root / "tabby");
  fs::copy_file(samples + "/coffee.png", root / "espresso" / "a.png");
  fs::copy_file(samples + "/chelsea.png", root / "tabby" / "b.png");  // DeiT-Tiny says Egyptian cat
  const RunResult run = run_vitscope("validate --model " + quote(shared_path("models/deit_tiny_patch16_224.safetensors")) +
                                     " " + quote(root.string()) + " --imagefolder");
  INFO(run.out << run.err);
  REQUIRE(run.status == 0);
  CHECK_THAT(run.out, Contains("top-1 accuracy 50.00% (1/2)"));
  CHECK_THAT(run.out, Contains("top-5 accuracy 100.00% (2/2)"));
  CHECK_THAT(run.out, Contains("tabby -> Egyptian cat: 1"));
  // A folder that is not a class name is an error naming it.
  fs::create_directories(root / "not_a_class");
  const RunResult bad = run_vitscope("validate --model " + quote(shared_path("models/deit_tiny_patch16_224.safetensors")) +
                                     " " + quote(root.string()) + " --imagefolder");
  CHECK(bad.status == 2);
  CHECK_THAT(bad.err, Contains("not_a_class"));
}
