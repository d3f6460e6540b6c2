#pragma once
// The settings that decide a result file's numbers, kept beside it in <results>.settings.json: the
// model, the digest of its weights file, how the model is built from them (architecture, heads),
// the class names, the precision, top-k and preprocessing. A run that
// completes (--resume) or merges result files refuses files whose settings differ from its own, so
// one file never mixes rows computed two ways.
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "vitscope/io/image.hpp"
#include "vitscope/models/model_registry.hpp"

namespace vitscope::batch {

struct RunSettings {
  std::string model;
  std::string weights_sha256;  // of the weights file's bytes
  std::string precision;       // "fp32" | "bf16" | "int8"
  int topk = 0;                // classes per row
  std::string preprocess;      // the preprocessing, in words (EXIF, resize, crop, interpolation, mean, std)
  // The next two are empty in files written before they were recorded, and then not compared.
  std::string model_options;   // architecture and what the weights do not fix (heads, patch, eps)
  std::string class_names;     // sha256 of the class-name file, or "none"

  nlohmann::json to_json() const;
  static RunSettings from_json(const nlohmann::json& j);  // std::exception on a missing field
};

// The settings of a run of `spec` writing `topk` classes per row, images loaded with `exif`;
// reads the weights file once.
RunSettings settings_of(const ModelSpec& spec, int topk, ExifMode exif = ExifMode::Apply,
                        DecodeMode decode = DecodeMode::Exact);

// "<results>.settings.json".
std::string settings_path(const std::string& results_path);

// The first setting that differs, in words ("precision: bf16 in the file, fp32 in this run"), or
// empty when they agree.
std::string settings_difference(const RunSettings& in_file, const RunSettings& run);

// The settings beside a result file; nullopt when there is none. OutputError when it cannot be read
// or parsed.
std::optional<RunSettings> read_settings(const std::string& results_path);

// Writes them beside the result file (a temporary renamed into place). OutputError on failure.
void write_settings(const std::string& results_path, const RunSettings& settings);

}  // namespace vitscope::batch
