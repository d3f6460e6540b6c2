// Options and manifests that cannot be right are one-line errors with status 2, before any image:
// sizes that are not finite positive numbers, a manifest asked for that is not there, a format
// this vitscope does not read, a missing labels file, absurd preprocessing, a top-k above the
// classes, labels outside the model or given twice, a folder that does not exist.
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "cli/batch_test_support.hpp"

using namespace vitscope::testing;
namespace fs = std::filesystem;
using Catch::Matchers::Contains;

namespace {

const std::string kPhoto = std::string(VITSCOPE_REPO_DIR) + "/samples/coffee.png";

// The repository's manifest with one model entry edited, written to dir/weights/models.json with
// the label file beside it.
fs::path edited_manifest(const fs::path& dir, const std::function<void(nlohmann::json&)>& edit) {
  std::ifstream in(std::string(VITSCOPE_REPO_DIR) + "/weights/models.json");
  nlohmann::json manifest = nlohmann::json::parse(in);
  edit(manifest);
  fs::create_directories(dir / "weights");
  fs::copy_file(std::string(VITSCOPE_REPO_DIR) + "/weights/imagenet_classes.txt", dir / "weights" / "imagenet_classes.txt",
                fs::copy_options::overwrite_existing);
  std::ofstream(dir / "weights" / "models.json") << manifest.dump(2);
  return dir / "weights" / "models.json";
}

RunResult classify_with_manifest(const std::string& manifest) {
  return run_shell("VITSCOPE_MANIFEST=" + quote(manifest) + " VITSCOPE_WEIGHTS_DIR=" +
                   quote(shared_path("models")) + " " + vitscope_command("classify " + quote(kPhoto)));
}

}  // namespace

TEST_CASE("size and top-k options that cannot be right", "[cli][options]") {
  for (const char* value : {"nan", "inf", "0", "-1", "1e999", "12abc"}) {
    INFO(value);
    const RunResult run = run_vitscope("classify --model " + quote(tiny_model()) + " --max-megapixels " + value + " " +
                                       quote(kPhoto));
    CHECK(run.status == 2);
    CHECK_THAT(run.err, Contains("--max-megapixels"));
    const RunResult batch = run_vitscope("batch " + quote(kPhoto) + " --out /nonexistent/never.csv --max-megapixels " + value);
    CHECK(batch.status == 2);
  }
  // Numbers outside the limits: a pixel count past 64 bits, less than one pixel (1e-320 is a
  // number, if a denormal one).
  for (const char* value : {"1e13", "1e7", "1e-320", "1e-7"}) {
    INFO(value);
    const RunResult run = run_vitscope("classify --model " + quote(tiny_model()) + " --max-megapixels " + value + " " +
                                       quote(kPhoto));
    CHECK(run.status == 2);
    CHECK_THAT(run.err, Contains(std::string("--max-megapixels: '") + value + "' is out of range: the limit is from 1e-06"));
    CHECK(run.out.empty());
  }
  const RunResult largest = run_vitscope("classify --model " + quote(tiny_model()) + " --max-megapixels 1e6 " + quote(kPhoto));
  CHECK(largest.status == 0);
  const RunResult topk = run_vitscope("classify --model " + quote(tiny_model()) + " --topk 17 --format csv " + quote(kPhoto));
  CHECK(topk.status == 2);
  CHECK_THAT(topk.err, Contains("--topk 17: the model has 16 classes"));
  const fs::path dir = fresh_dir("options_topk");
  const RunResult batch = run_vitscope(batch_args(tiny_model(), kPhoto, dir / "r.csv", "--topk 17"));
  CHECK(batch.status == 2);
  CHECK_THAT(batch.err, Contains("--topk 17: the model has 16 classes"));
  CHECK(!fs::exists(dir / "r.csv"));
}

TEST_CASE("manifests that cannot be right", "[cli][options]") {
  const fs::path dir = fresh_dir("options_manifest");
  const RunResult missing = classify_with_manifest((dir / "nothing.json").string());
  CHECK(missing.status == 2);
  CHECK_THAT(missing.err, Contains("VITSCOPE_MANIFEST names a file that does not exist"));
  const RunResult folder = classify_with_manifest(dir.string());
  CHECK(folder.status == 2);
  CHECK_THAT(folder.err, Contains("VITSCOPE_MANIFEST names a folder"));
  REQUIRE(::mkfifo((dir / "fifo.json").c_str(), 0644) == 0);  // would block a reader forever
  const RunResult fifo = classify_with_manifest((dir / "fifo.json").string());
  CHECK(fifo.status == 2);
  CHECK_THAT(fifo.err, Contains("fifo.json: VITSCOPE_MANIFEST names a FIFO, not a regular file"));

  struct Case {
    std::string name, message;
    std::function<void(nlohmann::json&)> edit;
  };
  const std::string deit = "deit_tiny_patch16_224";
  const std::vector<Case> cases = {
      {"version", "format_version 2", [](nlohmann::json& m) { m["format_version"] = 2; }},
      {"labels", "labels file", [&](nlohmann::json& m) { m["models"][deit]["labels"] = "no_such_labels.txt"; }},
      {"input_size", "input_size[0] is 100000; expected an integer in 1..4096",
       [&](nlohmann::json& m) { m["models"][deit]["preprocess"]["input_size"] = {100000, 100000}; }},
      {"std", "std positive", [&](nlohmann::json& m) { m["models"][deit]["preprocess"]["std"] = {0.2, 0.0, 0.2}; }},
  };
  for (const Case& c : cases) {
    INFO(c.name);
    const RunResult run = classify_with_manifest(edited_manifest(dir / c.name, c.edit).string());
    CHECK(run.status == 2);
    CHECK_THAT(run.err, Contains(c.message));
    CHECK(run.out.empty());
  }
}

TEST_CASE("validate refuses labels outside the model or given twice, and a missing folder", "[cli][options]") {
  const fs::path dir = fresh_dir("options_validate");
  fs::create_directories(dir / "images");
  fs::copy_file(kPhoto, dir / "images" / "a.png");
  fs::copy_file(kPhoto, dir / "images" / "b.png");
  std::ofstream(dir / "outside.csv") << "file,class_index\na.png,3\nb.png,16\n";
  std::ofstream(dir / "twice.csv") << "file,class_index\na.png,3\nb.png,4\n./a.png,5\n";
  const std::string model = " --model " + quote(tiny_model());
  const RunResult outside = run_vitscope("validate " + quote((dir / "images").string()) + " --labels " +
                                         quote((dir / "outside.csv").string()) + model);
  CHECK(outside.status == 2);
  CHECK_THAT(outside.err, Contains("has class_index 16, outside the model's 0..15"));
  const RunResult twice = run_vitscope("validate " + quote((dir / "images").string()) + " --labels " +
                                       quote((dir / "twice.csv").string()) + model);
  CHECK(twice.status == 2);
  CHECK_THAT(twice.err, Contains("line 4: ./a.png is labelled again (first on line 2)"));
  const RunResult no_folder = run_vitscope("validate " + quote((dir / "nowhere").string()) + " --labels " +
                                           quote((dir / "twice.csv").string()) + model);
  CHECK(no_folder.status == 2);
  CHECK_THAT(no_folder.err, Contains("nowhere: no such folder"));
}
