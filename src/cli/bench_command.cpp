// vitscope bench: times the model's forward pass on a random batch (decode and preprocessing
// excluded) and reports the median time per image and the achieved GFLOP/s.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <random>

#include "cli/commands.hpp"
#include "cli/model_options.hpp"
#include "vitscope/kernels/peak_flops.hpp"

namespace vitscope::cli {
namespace {

struct BenchOptions {
  ModelOptions model;
  int batch = 1;
  int warmup = 3;
  int iterations = 20;
  std::string format = "text";
  bool profile = false;
};

int run_bench(const BenchOptions& options) {
  LoadedModel loaded = load_model(options.model);
  ImageClassifier& model = *loaded.model;
  const PreprocessConfig& p = model.spec().preprocess;
  xt::xtensor<float, 4> batch = xt::xtensor<float, 4>::from_shape(
      {static_cast<std::size_t>(options.batch), 3, static_cast<std::size_t>(p.input_height),
       static_cast<std::size_t>(p.input_width)});
  std::mt19937 rng(42);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  for (float& v : batch) v = normal(rng);

  for (int i = 0; i < options.warmup; ++i) model.forward(batch);
  std::vector<double> seconds;
  for (int i = 0; i < options.iterations; ++i) {
    const auto start = std::chrono::steady_clock::now();
    model.forward(batch);
    seconds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  std::sort(seconds.begin(), seconds.end());
  const double median = seconds[seconds.size() / 2];
  const double per_image_ms = 1e3 * median / options.batch;
  const double flops = 2.0 * static_cast<double>(model.summary().macs_per_image) * options.batch;
  const double gflops = flops / median / 1e9;
  const kernels::PeakEstimate peak = kernels::estimate_peak(loaded.pool.get());
  char line[1024];
  if (options.format == "json") {
    std::snprintf(line, sizeof line,
                  "{\"model\":\"%s\",\"batch\":%d,\"threads\":%d,\"iterations\":%d,"
                  "\"median_ms_per_batch\":%.4f,\"median_ms_per_image\":%.4f,\"min_ms_per_batch\":%.4f,"
                  "\"gflops\":%.2f,\"peak_gflops\":%.2f,\"measured_fma_gflops\":%.2f,"
                  "\"fraction_of_peak\":%.4f,\"peak_how\":\"%s\"}\n",
                  model.spec().name.c_str(), options.batch, loaded.pool->size(), options.iterations,
                  1e3 * median, per_image_ms, 1e3 * seconds.front(), gflops, peak.theoretical_gflops,
                  peak.measured_gflops, gflops / peak.theoretical_gflops, peak.how.c_str());
  } else {
    std::snprintf(line, sizeof line,
                  "%s  batch %d  threads %d  median %.3f ms/batch  %.3f ms/image  (min %.3f ms/batch, "
                  "%d runs)  %.1f GFLOP/s = %.0f%% of the %.0f GFLOP/s peak\n"
                  "peak: %s; an FMA-only loop measures %.0f GFLOP/s\n",
                  model.spec().name.c_str(), options.batch, loaded.pool->size(), 1e3 * median,
                  per_image_ms, 1e3 * seconds.front(), options.iterations, gflops,
                  100 * gflops / peak.theoretical_gflops, peak.theoretical_gflops, peak.how.c_str(),
                  peak.measured_gflops);
  }
  std::cout << line;
  if (options.profile) {
    StageProfile profile;
    model.set_profile(&profile);
    for (int i = 0; i < options.iterations; ++i) model.forward(batch);
    model.set_profile(nullptr);
    double total = 0;
    for (const auto& [stage, s] : profile.stages()) total += s;
    for (const auto& [stage, s] : profile.stages()) {
      std::snprintf(line, sizeof line, "  %-22s %8.3f ms/batch  %5.1f%%\n", stage.c_str(),
                    1e3 * s / options.iterations, 100 * s / total);
      std::cout << line;
    }
  }
  return kExitOk;
}

}  // namespace

Subcommand add_bench_command(CLI::App& app) {
  auto options = std::make_shared<BenchOptions>();
  CLI::App* cmd = app.add_subcommand("bench", "Time the model's forward pass (median ms per image, GFLOP/s)");
  add_model_options(*cmd, options->model);
  cmd->add_option("--batch,-b", options->batch, "Images per forward pass")
      ->check(CLI::Range(1, 4096))
      ->capture_default_str();
  cmd->add_option("--warmup", options->warmup, "Untimed runs first")
      ->check(CLI::Range(0, 1000))
      ->capture_default_str();
  cmd->add_option("--iterations,-n", options->iterations, "Timed runs")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  cmd->add_option("--format,-f", options->format, "Output format")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  cmd->add_flag("--profile", options->profile, "Also print the time spent in each stage");
  return {cmd, [options] { return run_bench(*options); }};
}

}  // namespace vitscope::cli
