// `vitscope probe` end to end on a few real photos: each kind's rows and JSON, the identities that
// must hold (a window covering the grid, the trained positional embedding and softmax are the
// unmodified model), and its errors.
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "cli/cli_runner.hpp"
#include "cli/edited_weights.hpp"
#include "models/test_helpers.hpp"

using namespace vitscope::testing;
namespace fs = std::filesystem;
using Catch::Matchers::Contains;

namespace {

std::string deit() { return quote(shared_path("models/deit_tiny_patch16_224.safetensors")); }

// Four labelled photos of the shared set, and their labels.csv.
fs::path four_photos(const std::string& name) {
  const fs::path dir = fresh_dir(name);
  const std::string images = shared_path("images/imagenet-100");
  std::ifstream in(images + "/labels.csv");
  std::ofstream labels(dir / "labels.csv");
  std::string line;
  std::getline(in, line);
  labels << line << '\n';
  for (int i = 0; i < 4 && std::getline(in, line); ++i) {
    fs::copy_file(images + "/" + line.substr(0, line.find(',')), dir / line.substr(0, line.find(',')));
    labels << line << '\n';
  }
  return dir;
}

nlohmann::json read_json(const fs::path& path) {
  std::ifstream in(path);
  return nlohmann::json::parse(in);
}

}  // namespace

TEST_CASE("probe window: a row per (layers, window), the whole-grid window is the unmodified model", "[cli][probe]") {
  const fs::path dir = four_photos("probe_window");
  const fs::path json = dir / "window.json", out = dir / "plots";
  const RunResult run = run_vitscope("probe window " + quote(dir.string()) + " --model " + deit() + " --labels " +
                                     quote((dir / "labels.csv").string()) + " --windows 1,27 --layers 2 --json " +
                                     quote(json.string()) + " --out " + quote(out.string()) +
                                     " --cnn mobilenet_v1_0.75_224");
  INFO(run.out << run.err);
  REQUIRE(run.status == 0);
  const nlohmann::json report = read_json(json);
  CHECK(report.at("images") == 4);
  REQUIRE(report.at("rows").size() == 4);  // {all, first 2} × {1, 27}
  for (const auto& row : report.at("rows")) {
    CAPTURE(row.dump());
    if (row.at("window") == 27) {  // sees every token: the unmodified model, up to summation order
      CHECK(row.at("agreement") == 1.0);
      CHECK(row.at("kl").get<double>() < 1e-6);
      CHECK(row.at("attention_work_share").get<double>() == Approx(1.0));
    } else if (row.at("layers") == "all") {  // a window of one patch: 3 keys per query of 197
      CHECK(row.at("attention_work_share").get<double>() == Approx(3.0 / 197).epsilon(0.01));
    } else {  // 2 of 12 blocks windowed
      CHECK(row.at("attention_work_share").get<double>() == Approx((2 * 3.0 / 197 + 10) / 12).epsilon(0.01));
    }
    CHECK(row.at("top1_low").get<double>() <= row.at("top1").get<double>());
  }
  const auto& outside = report.at("attention_outside_window");
  REQUIRE(outside.size() == 2);
  for (double share : outside[1].at("outside_share_per_block")) CHECK(share == Approx(0.0).margin(1e-6));
  for (double share : outside[0].at("outside_share_per_block")) CHECK(share > 0.0);
  CHECK(report.at("cnn_receptive_fields").size() == 27);  // MobileNet v1's convolutions
  CHECK(fs::file_size(out / "window.png") > 1000);
  CHECK_THAT(run.out, Contains("theoretical receptive field"));
}

TEST_CASE("probe position and norm: the trained embedding and softmax are the unmodified model", "[cli][probe]") {
  const fs::path dir = four_photos("probe_position");
  for (const char* kind : {"position", "norm"}) {
    const fs::path json = dir / (std::string(kind) + ".json");
    const RunResult run = run_vitscope(std::string("probe ") + kind + " " + quote(dir.string()) + " --model " + deit() +
                                       " --json " + quote(json.string()));
    INFO(run.out << run.err);
    REQUIRE(run.status == 0);
    const nlohmann::json report = read_json(json);
    CHECK(report.at("labelled") == false);
    const auto& rows = report.at("rows");
    REQUIRE(rows.size() == (std::string(kind) == "position" ? 3u : 4u));
    CHECK(rows[0].at("agreement") == 1.0);
    CHECK(rows[0].at("kl") == 0.0);
    CHECK(rows[0].at("top1").is_null());  // no labels
    for (std::size_t i = 1; i < rows.size(); ++i) CHECK(rows[i].at("kl").get<double>() > 0.0);
  }
}

TEST_CASE("probe conv: a kernel and a score per head, and the kernel images", "[cli][probe]") {
  const fs::path dir = four_photos("probe_conv");
  const fs::path json = dir / "conv.json", out = dir / "pictures";
  const RunResult run = run_vitscope("probe conv " + quote(dir.string()) + " --model " + deit() + " --json " +
                                     quote(json.string()) + " --out " + quote(out.string()));
  INFO(run.out << run.err);
  REQUIRE(run.status == 0);
  const nlohmann::json report = read_json(json);
  REQUIRE(report.at("rows").size() == 36);  // 12 blocks x 3 heads
  REQUIRE(report.at("kernels").size() == 36);
  for (const auto& kernel : report.at("kernels")) {
    CHECK(kernel.at("kernel").size() == 27u * 27u);  // offsets -13..13 on the 14x14 grid
    const double share = kernel.at("prefix_share").get<double>();
    CHECK(share >= 0.0);
    CHECK(share <= 1.0);
  }
  for (const auto& row : report.at("rows"))
    CHECK(row.at("convolution_like").get<bool>() == (1.0 - row.at("agreement").get<double>() < 0.005));
  CHECK(fs::file_size(out / "conv_kernels.png") > 1000);
}

TEST_CASE("probe: bad options are one-line errors with status 2; a bad image is an error row", "[cli][probe]") {
  const fs::path dir = four_photos("probe_errors");
  const std::string base = " " + quote(dir.string()) + " --model " + deit();
  for (const char* windows : {"4", "0", "-3"}) {
    const RunResult run = run_vitscope("probe window" + base + " --windows " + windows);
    INFO(windows << ": " << run.err);
    CHECK(run.status == 2);
    CHECK(std::count(run.err.begin(), run.err.end(), '\n') == 1);
  }
  CHECK(run_vitscope("probe convolutions" + base).status == 2);
  const RunResult cnn = run_vitscope("probe norm " + quote(dir.string()) + " --model mobilenet_v1_0.75_224");
  CHECK(cnn.status == 2);
  CHECK_THAT(cnn.err, Contains("not a Vision Transformer"));
  std::ofstream(dir / "broken.jpg") << "not a JPEG";
  const RunResult bad = run_vitscope("probe position" + base);
  INFO(bad.out << bad.err);
  CHECK(bad.status == 1);
  CHECK_THAT(bad.err, Contains("broken.jpg"));
  CHECK_THAT(bad.out, Contains("on 4 images"));
}

TEST_CASE("probe: a model that gives non-finite logits is a one-line error, no table", "[cli][probe]") {
  const fs::path dir = four_photos("probe_nan");
  const fs::path broken = dir.parent_path() / "probe_nan_vit.safetensors";
  copy_with_value(data_path("vit/tokens197.safetensors"), "head.bias", NAN, broken);
  const RunResult run = run_vitscope("probe position " + quote(dir.string()) + " --model " + quote(broken.string()) +
                                     " --layers 1");  // the test ViT has 2 blocks
  INFO(run.out << run.err);
  CHECK(run.status == 2);
  CHECK(std::count(run.err.begin(), run.err.end(), '\n') == 1);
  CHECK_THAT(run.err, Contains("gave a non-finite logit"));
  CHECK_THAT(run.out, !Contains("KL"));
}
