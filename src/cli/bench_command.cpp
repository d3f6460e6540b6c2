// vitscope bench: times the model's forward pass on a random batch (decode and preprocessing
// excluded) and reports the median time per image, the throughput over all timed runs (what a
// long job sees, slow runs included) and the achieved GFLOP/s.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <random>

#include "cli/commands.hpp"
#include "cli/model_options.hpp"
#include "vitscope/core/error.hpp"
#include "vitscope/io/discover.hpp"
#include "vitscope/io/image.hpp"
#include "vitscope/kernels/peak_flops.hpp"
#include "vitscope/models/vit.hpp"
#include "vitscope/preprocess/preprocess.hpp"

namespace vitscope::cli {
namespace {

struct BenchOptions {
  ModelOptions model;
  std::vector<std::string> images;  // decoded and preprocessed to report their share of the time
  int batch = 1;
  int warmup = 3;
  int iterations = 20;
  std::string format = "text";
  bool profile = false;
  int window = 0;         // ViT: k×k window attention (0: full attention)
  int window_blocks = 0;  // ... in the first L blocks (0: all)
  ImageReadFlags image_read;  // --exif, --decode
};

// Peak resident memory of this process so far, in MB.
double peak_rss_mb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;
}

// Median milliseconds to decode and preprocess one of the given images; NaN when there is none or
// none can be read.
// Each input that cannot be (a FIFO, a folder without read permission, a broken file) is named on
// stderr, as classify names it, and counted in `failed`.
double preprocess_ms(const std::vector<std::string>& paths, const PreprocessConfig& config, const ImageLoadOptions& load,
                     int& failed) {
  std::vector<double> ms;
  const std::vector<std::string> inputs = discover_inputs(paths);
  for (const std::string& path : inputs) {
    const auto start = std::chrono::steady_clock::now();
    try {
      preprocess(load_image(path, load), config);
    } catch (const ImageError& e) {
      std::cerr << "vitscope: error: " << e.what() << '\n';
      ++failed;
      continue;
    }
    ms.push_back(1e3 * std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  if (inputs.empty()) std::cerr << "vitscope: error: --images: no images found in the given paths\n";
  if (ms.empty()) return NAN;
  std::sort(ms.begin(), ms.end());
  return ms[ms.size() / 2];
}

int run_bench(const BenchOptions& options) {
  const double rss_before = peak_rss_mb();
  const auto load_start = std::chrono::steady_clock::now();
  LoadedModel loaded = load_model(options.model);
  const double load_ms =
      1e3 * std::chrono::duration<double>(std::chrono::steady_clock::now() - load_start).count();
  ImageClassifier& model = *loaded.model;
  const PreprocessConfig& p = model.spec().preprocess;
  xt::xtensor<float, 4> batch = xt::xtensor<float, 4>::from_shape(
      {static_cast<std::size_t>(options.batch), 3, static_cast<std::size_t>(p.input_height),
       static_cast<std::size_t>(p.input_width)});
  std::mt19937 rng(42);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  for (float& v : batch) v = normal(rng);

  Session& session = loaded.session;
  // With --window, the ViT runs windowed attention; GFLOP/s still counts full attention's work.
  VitForwardOptions variant;
  variant.window = options.window;
  variant.visibility_blocks = options.window_blocks;
  const auto* vit = dynamic_cast<const VitModel*>(&model);
  if (options.window > 0 && !vit)
    throw ConfigError("--window: " + model.spec().name + " is not a Vision Transformer");
  auto forward = [&] {
    if (options.window > 0)
      vit->forward(batch, session, variant);
    else
      model.forward(batch, session);
  };
  for (int i = 0; i < options.warmup; ++i) forward();
  std::vector<double> seconds;
  for (int i = 0; i < options.iterations; ++i) {
    const auto start = std::chrono::steady_clock::now();
    forward();
    seconds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  double total_seconds = 0;
  for (double s : seconds) total_seconds += s;
  const double images_per_second = options.batch * options.iterations / total_seconds;
  std::sort(seconds.begin(), seconds.end());
  const double median = seconds[seconds.size() / 2];
  const double per_image_ms = 1e3 * median / options.batch;
  const double flops = 2.0 * static_cast<double>(model.summary().macs_per_image) * options.batch;
  const double gflops = flops / median / 1e9;
  const double rss_mb = peak_rss_mb();
  const double weights_mb = static_cast<double>(model.summary().parameters) *
                            (options.model.precision == "bf16" ? 2.0 : options.model.precision == "int8" ? 1.0 : 4.0) / (1 << 20);
  // The peak first: the decoders' worker threads (OpenCV's) may still spin after decoding, and an
  // FMA loop sharing its core with one measured half the real rate.
  const kernels::PeakEstimate peak = kernels::estimate_peak(loaded.pool.get());
  int unreadable = 0;
  const double prep_ms =
      options.images.empty() ? 0.0 : preprocess_ms(options.images, p, image_load_options(options.image_read, {p}), unreadable);
  char prep_json[32] = "null";  // --images given, none readable
  if (std::isfinite(prep_ms)) std::snprintf(prep_json, sizeof prep_json, "%.3f", prep_ms);
  char line[1024];
  if (options.format == "json") {
    std::snprintf(line, sizeof line,
                  "{\"model\":\"%s\",\"batch\":%d,\"threads\":%d,\"iterations\":%d,"
                  "\"median_ms_per_batch\":%.4f,\"median_ms_per_image\":%.4f,\"min_ms_per_batch\":%.4f,"
                  "\"mean_ms_per_image\":%.4f,\"images_per_second\":%.6g,"
                  "\"gflops\":%.2f,\"peak_gflops\":%.2f,\"measured_fma_gflops\":%.2f,"
                  "\"fraction_of_peak\":%.4f,\"peak_how\":\"%s\",\"load_ms\":%.2f,"
                  "\"peak_rss_mb\":%.1f,\"rss_before_load_mb\":%.1f,\"weights_mb\":%.1f,"
                  "\"preprocess_ms_per_image\":%s,\"precision\":\"%s\",\"window\":%d,"
                  "\"window_blocks\":%d,\"int8_peak_gops\":%.2f,\"fraction_of_int8_peak\":%.4f}\n",
                  model.spec().name.c_str(), options.batch, loaded.pool->size(), options.iterations,
                  1e3 * median, per_image_ms, 1e3 * seconds.front(), 1e3 / images_per_second,
                  images_per_second, gflops, peak.theoretical_gflops,
                  peak.measured_gflops, gflops / peak.theoretical_gflops, peak.how.c_str(), load_ms,
                  rss_mb, rss_before, weights_mb, prep_json, options.model.precision.c_str(),
                  options.window, options.window_blocks, peak.int8_theoretical_gops,
                  peak.int8_theoretical_gops > 0 ? gflops / peak.int8_theoretical_gops : 0.0);
  } else {
    std::snprintf(line, sizeof line,
                  "%s  batch %d  threads %d  median %.3f ms/batch  %.3f ms/image  (min %.3f ms/batch, "
                  "%d runs)  %.1f GFLOP/s = %.0f%% of the %.0f GFLOP/s peak\n"
                  "throughput over all runs: %.2f images/s (mean %.3f ms/image)\n"
                  "peak: %s; an FMA-only loop measures %.0f GFLOP/s\n",
                  model.spec().name.c_str(), options.batch, loaded.pool->size(), 1e3 * median,
                  per_image_ms, 1e3 * seconds.front(), options.iterations, gflops,
                  100 * gflops / peak.theoretical_gflops, peak.theoretical_gflops, images_per_second,
                  1e3 / images_per_second, peak.how.c_str(),
                  peak.measured_gflops);
  }
  std::cout << line;
  if (options.format != "json" && options.model.precision == "int8" && peak.int8_theoretical_gops > 0) {
    // The same operations counted against the int8 peak: what the model would reach if every
    // product ran in int8 at full speed.
    std::snprintf(line, sizeof line, "int8 peak: %.0f GOP/s (%s); the forward pass reaches %.0f%% of it\n",
                  peak.int8_theoretical_gops, peak.int8_how.c_str(), 100 * gflops / peak.int8_theoretical_gops);
    std::cout << line;
  }
  if (options.format != "json") {
    std::snprintf(line, sizeof line,
                  "load %.1f ms; peak memory %.1f MB (%.1f MB before loading, weights %.1f MB as %s)\n",
                  load_ms, rss_mb, rss_before, weights_mb, options.model.precision.c_str());
    std::cout << line;
    if (prep_ms > 0) {
      std::snprintf(line, sizeof line,
                    "decode + preprocess %.2f ms/image = %.0f%% of decode + preprocess + model\n", prep_ms,
                    100 * prep_ms / (prep_ms + per_image_ms));
      std::cout << line;
    }
  }
  if (options.profile) {
    StageProfile profile;
    session.set_profile(&profile);
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < options.iterations; ++i) forward();
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    session.set_profile(nullptr);
    double total = 0;
    for (const auto& [stage, s] : profile.stages()) total += s;
    // Stage times are means over the profiled runs: compare their sum with these runs' own mean,
    // not with the median of the timed runs above.
    std::snprintf(line, sizeof line,
                  "profiled runs: mean %.3f ms/batch wall, stages sum to %.3f ms/batch\n",
                  1e3 * wall / options.iterations, 1e3 * total / options.iterations);
    std::cout << line;
    for (const auto& [stage, s] : profile.stages()) {
      std::snprintf(line, sizeof line, "  %-22s %8.3f ms/batch  %5.1f%%\n", stage.c_str(),
                    1e3 * s / options.iterations, 100 * s / total);
      std::cout << line;
    }
  }
  if (unreadable > 0)
    std::cerr << "vitscope: " << unreadable << (unreadable == 1 ? " --images input" : " --images inputs")
              << " could not be read" << (std::isfinite(prep_ms) ? "; decode + preprocess timed on the others\n" : "\n");
  return unreadable > 0 || std::isnan(prep_ms) ? kExitSomeInputsFailed : kExitOk;
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
  cmd->add_option("--window", options->window,
                  "ViT: attention within a KxK window of patches around each patch (odd; 0: full "
                  "attention). GFLOP/s still counts full attention's operations")
      ->check(CLI::Range(0, 999))
      ->capture_default_str();
  cmd->add_option("--window-blocks", options->window_blocks,
                  "With --window: only the first L blocks (0: all)")
      ->check(CLI::Range(0, 1000))
      ->capture_default_str();
  add_image_read_options(*cmd, options->image_read);
  cmd->add_option("--images", options->images,
                  "Images (files or folders) to time decoding and preprocessing on, for their share");
  return {cmd, [options] { return run_bench(*options); }};
}

}  // namespace vitscope::cli
