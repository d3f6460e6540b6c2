// `vitscope bench`: the statistics it reports are consistent with each other, and the stage profile
// accounts for the wall time of the runs it profiled.
#include <sys/stat.h>

#include <regex>
#include <string>

#include <nlohmann/json.hpp>

#include "cli/batch_test_support.hpp"
#include "models/imagenet100.hpp"

using namespace vitscope::testing;
using Catch::Matchers::Contains;

namespace {
std::string deit_tiny() { return quote(shared_path("models/deit_tiny_patch16_224.safetensors")); }
}  // namespace

TEST_CASE("bench: JSON gives the median, the minimum and the throughput over all runs", "[cli][bench]") {
  const RunResult run = run_vitscope("bench --model " + deit_tiny() + " --batch 2 --threads 1 --warmup 0 --iterations 3 --format json");
  INFO(run.out << run.err);
  REQUIRE(run.status == 0);
  const auto doc = nlohmann::json::parse(run.out);
  CHECK(doc.at("batch") == 2);
  CHECK(doc.at("iterations") == 3);
  const double median_batch = doc.at("median_ms_per_batch"), median_image = doc.at("median_ms_per_image");
  const double min_batch = doc.at("min_ms_per_batch"), mean_image = doc.at("mean_ms_per_image");
  const double rate = doc.at("images_per_second");
  CHECK(median_image == Approx(median_batch / 2).epsilon(1e-3));
  CHECK(min_batch <= median_batch);
  CHECK(mean_image >= min_batch / 2 * (1 - 1e-3));  // a mean is never below the fastest run
  CHECK(rate == Approx(1000.0 / mean_image).epsilon(1e-3));
  CHECK(doc.at("gflops").get<double>() > 0);
}

TEST_CASE("bench --profile: the stages sum to the profiled runs' own mean wall time", "[cli][bench]") {
  const RunResult run = run_vitscope("bench --model " + deit_tiny() + " --threads 1 --warmup 0 --iterations 2 --profile");
  INFO(run.out << run.err);
  REQUIRE(run.status == 0);
  CHECK_THAT(run.out, Contains("throughput over all runs:"));
  std::smatch m;
  REQUIRE(std::regex_search(run.out, m, std::regex(R"(profiled runs: mean ([0-9.]+) ms/batch wall, stages sum to ([0-9.]+) ms/batch)")));
  const double wall = std::stod(m[1]), stages = std::stod(m[2]);
  // Everything but the hand-off between stages is inside some stage.
  CHECK(stages <= wall * 1.001);
  CHECK(stages >= wall * 0.9);
  double percent = 0, ms = 0;
  const std::regex stage(R"(\n  [a-z0-9+, ]+?\s+([0-9.]+) ms/batch\s+([0-9.]+)%)");
  for (auto it = std::sregex_iterator(run.out.begin(), run.out.end(), stage); it != std::sregex_iterator(); ++it) {
    ms += std::stod((*it)[1]);
    percent += std::stod((*it)[2]);
  }
  CHECK(percent == Approx(100).margin(0.6));
  CHECK(ms == Approx(stages).margin(0.01 * stages));
}

TEST_CASE("bench --images names each input it cannot read and exits 1, timing the others", "[cli][bench]") {
  const fs::path dir = fresh_dir("bench_unreadable");
  make_photo_folder(dir / "photos", 2, 50);
  make_photo_folder(dir / "photos" / "locked", 1, 60);
  REQUIRE(::mkfifo((dir / "fifo.jpg").c_str(), 0644) == 0);
  fs::permissions(dir / "photos" / "locked", fs::perms::none);
  fs::permissions(dir, fs::perms::all);
  const std::string bench = "bench --model " + quote(tiny_model()) + " --threads 1 --warmup 0 --iterations 1 --images ";
  const std::string fifo = (dir / "fifo.jpg").string(), locked = (dir / "photos" / "locked").string();

  const RunResult some = run_shell(unprivileged(vitscope_command(bench + quote(fifo) + " " + quote((dir / "photos").string()))));
  INFO(some.out << some.err);
  CHECK(some.status == 1);
  CHECK_THAT(some.err, Contains(fifo + ": not a regular file"));
  CHECK_THAT(some.err, Contains(locked + ": cannot read folder: Permission denied"));
  CHECK_THAT(some.out, Contains("decode + preprocess"));  // timed on the two readable photos

  const RunResult none = run_shell(unprivileged(vitscope_command(bench + quote(locked) + " --format json")));
  INFO(none.out << none.err);
  CHECK(none.status == 1);
  CHECK_THAT(none.err, Contains(locked + ": cannot read folder: Permission denied"));
  CHECK(nlohmann::json::parse(none.out).at("preprocess_ms_per_image").is_null());
  fs::permissions(dir / "photos" / "locked", fs::perms::all);
}
