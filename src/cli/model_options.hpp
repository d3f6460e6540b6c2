#pragma once
// Options every model-running subcommand shares (--model, --threads, ...), and loading the model
// they name.
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "vitscope/io/image.hpp"
#include "vitscope/preprocess/preprocess.hpp"
#include "vitscope/models/classifier.hpp"
#include "vitscope/core/thread_pool.hpp"

namespace vitscope::cli {

struct ModelOptions {
  std::string model;   // name from weights/models.json or a .safetensors path; empty: the default
  int threads = 0;     // 0: all hardware threads
  int heads = 0;       // overrides the manifest (for bare .safetensors files)
  std::string labels;  // overrides the manifest's label file
  std::string precision = "fp32";
  std::vector<std::string> keep_fp32 = {"none"};  // --keep-fp32, for int8
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

// How a command reads images, as given on its command line.
struct ImageReadFlags {
  std::string exif = "apply";    // --exif apply|ignore
  std::string decode = "exact";  // --decode exact|draft
};
// --exif apply|ignore and --decode exact|draft on a command that reads images.
void add_image_read_options(CLI::App& command, ImageReadFlags& flags);
// How the command loads images for models with these preprocessings: the EXIF mode, the decode
// mode (a draft decode asks for the largest of the models' resize targets, so that no model's
// input is made from an upsampled image) and the pixel limit.
ImageLoadOptions image_load_options(const ImageReadFlags& flags, const std::vector<PreprocessConfig>& preprocess,
                                    double max_megapixels = 100);

// --max-megapixels: from one pixel to a million megapixels (larger than any image a decoder opens,
// and a pixel count far inside 64 bits).
constexpr double kMinMegapixelLimit = 1e-6, kMaxMegapixelLimit = 1e6;
CLI::Validator megapixel_limit();

// ConfigError "--topk K: the model has N classes" when K is more than the model's classes (the
// rows would be shorter than their header).
void check_topk(int topk, const ImageClassifier& model);

// The resolved spec alone (no weights read).
ModelSpec resolve_model(const ModelOptions& options);

}  // namespace vitscope::cli
