// End-to-end tests of `vitscope classify` on the real binary, the real DeiT-Tiny weights and the
// bundled sample photos.
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/cli_runner.hpp"
#include "models/test_helpers.hpp"

using namespace vitscope::testing;
namespace fs = std::filesystem;
using Catch::Matchers::Contains;

namespace {

const std::string kSamples = std::string(VITSCOPE_REPO_DIR) + "/samples";

std::string deit_tiny() { return shared_path("models/deit_tiny_patch16_224.safetensors"); }

// Minimal RFC 4180 reader: rows of fields.
std::vector<std::vector<std::string>> parse_csv(const std::string& text) {
  std::vector<std::vector<std::string>> rows(1);
  std::string field;
  bool quoted = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') field += '"', ++i;
      else if (c == '"') quoted = false;
      else field += c;
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      rows.back().push_back(field), field.clear();
    } else if (c == '\n') {
      rows.back().push_back(field), field.clear();
      rows.emplace_back();
    } else {
      field += c;
    }
  }
  if (rows.back().empty()) rows.pop_back();
  return rows;
}

struct Top1 {
  int index;
  std::string label;
  double probability;
};

}  // namespace

TEST_CASE("classify: text, json and csv parse and agree on the samples", "[cli]") {
  const std::string model = "--model " + quote(deit_tiny());
  const RunResult json_run = run_vitscope("classify " + model + " --format json --topk 3 " + quote(kSamples));
  INFO(json_run.err);
  REQUIRE(json_run.status == 0);
  const auto doc = nlohmann::json::parse(json_run.out);
  const auto& results = doc.at("results");
  REQUIRE(results.size() == 4);
  CHECK(doc.at("summary").at("ok") == 4);

  std::map<std::string, Top1> from_json;
  std::vector<std::string> order;
  for (const auto& r : results) {
    CHECK(r.at("status") == "ok");
    REQUIRE(r.at("predictions").size() == 3);
    const auto& p = r.at("predictions")[0];
    from_json[r.at("path")] = {p.at("class_index"), p.at("label"), p.at("probability")};
    order.push_back(r.at("path"));
    double previous = 1.0;
    for (const auto& q : r.at("predictions")) {
      CHECK(q.at("probability").get<double>() <= previous);
      previous = q.at("probability");
    }
  }
  // Folder contents come out sorted.
  CHECK(std::is_sorted(order.begin(), order.end()));
  // The bundled photos are classified as what they show.
  CHECK(from_json.at(kSamples + "/chelsea.png").label.find("cat") != std::string::npos);
  CHECK(from_json.at(kSamples + "/coffee.png").label == "espresso");  // ImageNet class 967

  const RunResult csv_run = run_vitscope("classify " + model + " --format csv --topk 3 " + quote(kSamples));
  REQUIRE(csv_run.status == 0);
  const auto rows = parse_csv(csv_run.out);
  REQUIRE(rows.size() == 5);
  CHECK(rows[0] == std::vector<std::string>{"path", "status", "error", "model", "class_1", "label_1",
                                            "probability_1", "class_2", "label_2", "probability_2",
                                            "class_3", "label_3", "probability_3"});
  for (std::size_t i = 1; i < rows.size(); ++i) {
    REQUIRE(rows[i].size() == rows[0].size());
    CHECK(rows[i][0] == order[i - 1]);
    CHECK(rows[i][1] == "ok");
    const Top1& j = from_json.at(rows[i][0]);
    CHECK(std::stoi(rows[i][4]) == j.index);
    CHECK(rows[i][5] == j.label);
    CHECK(std::stod(rows[i][6]) == Approx(j.probability).epsilon(1e-5));
  }

  const RunResult text_run = run_vitscope("classify " + model + " --topk 3 " + quote(kSamples));
  REQUIRE(text_run.status == 0);
  for (const auto& [path, top] : from_json) {
    const auto at = text_run.out.find(path + "\n");
    REQUIRE(at != std::string::npos);
    const std::string first_line = text_run.out.substr(at + path.size() + 1,
                                                       text_run.out.find('\n', at + path.size() + 1) - at - path.size() - 1);
    CHECK_THAT(first_line, Contains(top.label + " (" + std::to_string(top.index) + ")"));
    char percent[32];
    std::snprintf(percent, sizeof percent, "%.2f%%", 100 * top.probability);
    CHECK_THAT(first_line, Contains(percent));
  }
}

TEST_CASE("classify: bad files get error rows, the good one is still classified", "[cli]") {
  const fs::path dir = fresh_dir("bad_inputs");
  fs::copy_file(kSamples + "/chelsea.png", dir / "good.png");
  std::ofstream(dir / "empty.jpg").close();
  {
    const std::string jpeg = read_file(kSamples + "/rocket.jpg");
    std::ofstream(dir / "truncated.jpg", std::ios::binary) << jpeg.substr(0, jpeg.size() / 2);
  }
  std::ofstream(dir / "notes.jpg") << "this is a text file, not a JPEG\n";
  std::ofstream(dir / "README.txt") << "not an image and not named like one: skipped\n";

  const RunResult run = run_vitscope("classify --model " + quote(deit_tiny()) + " --format json " + quote(dir.string()));
  INFO(run.out << run.err);
  CHECK(run.status == 1);
  const auto doc = nlohmann::json::parse(run.out);
  std::map<std::string, nlohmann::json> rows;
  for (const auto& r : doc.at("results")) rows[fs::path(r.at("path").get<std::string>()).filename()] = r;
  REQUIRE(rows.size() == 4);  // README.txt is not an input
  CHECK(rows.at("good.png").at("status") == "ok");
  CHECK(rows.at("good.png").at("predictions").size() == 5);
  for (const char* bad : {"empty.jpg", "truncated.jpg", "notes.jpg"}) {
    INFO(bad);
    CHECK(rows.at(bad).at("status") == "error");
    const std::string message = rows.at(bad).at("error");
    CHECK_THAT(message, Contains(bad));
    CHECK(message.find('\n') == std::string::npos);
    // The same one-line message on stderr.
    CHECK_THAT(run.err, Contains(message));
  }
  CHECK_THAT(rows.at("empty.jpg").at("error").get<std::string>(), Contains("empty"));
  CHECK(doc.at("summary").at("ok") == 1);
  CHECK(doc.at("summary").at("errors") == 3);
}

TEST_CASE("classify: a FIFO named like an image is an error row, and does not hang the run", "[cli]") {
  const fs::path dir = fresh_dir("fifo_input");
  const fs::path fifo = dir / "pipe.jpg";
  REQUIRE(::mkfifo(fifo.c_str(), 0644) == 0);  // nobody writes to it: a blocking open would wait forever
  const RunResult run = run_vitscope("classify --model " + quote(deit_tiny()) + " --format csv " +
                                     quote(fifo.string()) + " " + quote(kSamples + "/chelsea.png"));
  INFO(run.out << run.err);
  CHECK(run.status == 1);
  CHECK_THAT(run.err, Contains("pipe.jpg: not a regular file"));
  CHECK_THAT(run.out, Contains("chelsea.png,ok"));
}

TEST_CASE("classify: a missing path is an error row and a non-zero exit", "[cli]") {
  const RunResult run = run_vitscope("classify --model " + quote(deit_tiny()) + " --format csv " +
                                     quote(kSamples + "/chelsea.png") + " /nonexistent/photo.jpg");
  CHECK(run.status == 1);
  const auto rows = parse_csv(run.out);
  REQUIRE(rows.size() == 3);
  CHECK(rows[1][1] == "ok");
  CHECK(rows[2][0] == "/nonexistent/photo.jpg");
  CHECK(rows[2][1] == "error");
  CHECK_THAT(rows[2][2], Contains("/nonexistent/photo.jpg"));
}

TEST_CASE("classify: a model given by name is found in the local mirror", "[cli]") {
  shared_path("models/deit_tiny_patch16_224.safetensors");
  const RunResult run = run_vitscope("classify --model deit_tiny_patch16_224 --topk 1 --format csv " +
                                     quote(kSamples + "/coffee.png"));
  INFO(run.err);
  CHECK(run.status == 0);
  CHECK_THAT(run.out, Contains("espresso"));
}

TEST_CASE("classify: unknown model names and bad options exit with status 2", "[cli]") {
  const RunResult unknown = run_vitscope("classify --model no_such_model " + quote(kSamples));
  CHECK(unknown.status == 2);
  CHECK_THAT(unknown.err, Contains("no_such_model"));
  const RunResult bad_format = run_vitscope("classify --format xml " + quote(kSamples));
  CHECK(bad_format.status == 2);
  const RunResult bad_topk = run_vitscope("classify --topk 0 " + quote(kSamples));
  CHECK(bad_topk.status == 2);
}

TEST_CASE("info: DeiT-Tiny's configuration, parameters and MACs", "[cli]") {
  const RunResult run = run_vitscope("info " + quote(deit_tiny()));
  INFO(run.err);
  REQUIRE(run.status == 0);
  CHECK_THAT(run.out, Contains("5,717,416"));
  // "key   value" lines
  auto field = [&](const std::string& key) {
    std::istringstream lines(run.out);
    for (std::string line; std::getline(lines, line);)
      if (line.rfind(key + " ", 0) == 0) return line.substr(line.find_first_not_of(' ', key.size()));
    return std::string("<no line " + key + ">");
  };
  CHECK(field("heads") == "3 (head dim 64)");
  CHECK(field("depth") == "12");
  CHECK(field("width") == "192");
  CHECK_THAT(run.out, Contains("197 (196 patches + 1 prefix)"));
  // 196·192·768 + 12·(197·192·576 + 2·197²·192 + 197·192² + 2·197·192·768) + 192·1000
  CHECK_THAT(run.out, Contains("1,253,683,200"));
}

TEST_CASE("classify: the MobileNet CNN by name and by file", "[cli]") {
  const std::string file = shared_path("models/mobilenet_v1_0.75_224.safetensors");
  const RunResult by_name = run_vitscope("classify --model mobilenet_v1_0.75_224 --topk 1 --format csv " +
                                         quote(kSamples + "/coffee.png"));
  INFO(by_name.err);
  CHECK(by_name.status == 0);
  CHECK_THAT(by_name.out, Contains("espresso"));
  CHECK_THAT(by_name.out, Contains("mobilenet_v1_0.75_224"));
  // A bare file: the architecture is recognised from its tensor names.
  const RunResult by_file = run_vitscope("classify --model " + quote(file) + " --topk 1 --format csv " +
                                         quote(kSamples + "/coffee.png"));
  INFO(by_file.err);
  CHECK(by_file.status == 0);
  CHECK_THAT(by_file.out, Contains("espresso"));
}
