#pragma once
// Options every model-running subcommand shares (--model, --threads, ...), and loading the model
// they name.
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "vitscope/io/image.hpp"
#include "vitscope/models/classifier.hpp"
#include "vitscope/core/thread_pool.hpp"

namespace vitscope::cli {

struct ModelOptions {
  std::string model;   // name from weights/models.json or a .safetensors path; empty: the default
  int threads = 0;     // 0: all hardware threads
  int heads = 0;       // overrides the manifest (for bare .safetensors files)
  std::string labels;  // overrides the manifest's label file
  std::string precision = "fp32";
};

void add_model_options(CLI::App& command, ModelOptions& options);

struct LoadedModel {
  std::unique_ptr<ThreadPool> pool;  // declared first: the session uses it until destroyed
  std::unique_ptr<ImageClassifier> model;
  Session session;                   // runs the model on pool
  std::vector<std::string> labels;   // empty when no label file fits the model
};

// Resolves, opens and binds the model; ConfigError / WeightsError on failure.
LoadedModel load_model(const ModelOptions& options);

// --exif apply|ignore on a command that reads images (default apply).
void add_exif_option(CLI::App& command, std::string& mode);
// How the command loads images: the EXIF mode and the pixel limit.
ImageLoadOptions image_load_options(const std::string& exif, double max_megapixels = 100);

// A number option that must be finite and above zero (CLI::PositiveNumber lets "inf" through).
CLI::Validator finite_positive_number();

// ConfigError "--topk K: the model has N classes" when K is more than the model's classes (the
// rows would be shorter than their header).
void check_topk(int topk, const ImageClassifier& model);

// The resolved spec alone (no weights read).
ModelSpec resolve_model(const ModelOptions& options);

}  // namespace vitscope::cli
