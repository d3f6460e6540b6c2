// The settings file beside a result file.
#include "vitscope/batch/settings.hpp"

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "vitscope/batch/output.hpp"
#include "vitscope/core/error.hpp"
#include "vitscope/core/json_numbers.hpp"
#include "vitscope/io/file_digest.hpp"

namespace vitscope::batch {
namespace {

constexpr int kFormatVersion = 1;

std::string preprocess_words(const PreprocessConfig& p) {
  char text[256];
  std::snprintf(text, sizeof text,
                "input %dx%d, crop_pct %.6g, %s, mean [%.6g, %.6g, %.6g], std [%.6g, %.6g, %.6g]", p.input_height,
                p.input_width, p.crop_pct, interpolation_name(p.interpolation), p.mean[0], p.mean[1], p.mean[2],
                p.std[0], p.std[1], p.std[2]);
  return text;
}

// what: "weights", "class names".
std::string file_sha256(const std::string& path, const std::string& what) {
  try {
    return file_sha256_hex(path);
  } catch (const std::runtime_error& e) {
    throw ConfigError(std::string(e.what()) + " (the " + what + "' digest goes into the settings file)");
  }
}

}  // namespace

nlohmann::json RunSettings::to_json() const {
  return {{"format_version", kFormatVersion}, {"model", model},   {"weights_sha256", weights_sha256},
          {"precision", precision},          {"topk", topk},     {"preprocess", preprocess},
          {"model_options", model_options},  {"class_names", class_names}};
}

RunSettings RunSettings::from_json(const nlohmann::json& j) {
  if (!j.at("format_version").is_number_integer() || j.at("format_version") != kFormatVersion)
    throw std::runtime_error("format_version " + j.at("format_version").dump() + " is not " +
                             std::to_string(kFormatVersion));
  RunSettings s;
  s.model = j.at("model").get<std::string>();
  s.weights_sha256 = j.at("weights_sha256").get<std::string>();
  s.precision = j.at("precision").get<std::string>();
  s.topk = json_int(j.at("topk"), "topk", 1, 1 << 20);
  s.preprocess = j.at("preprocess").get<std::string>();
  if (j.contains("model_options")) s.model_options = j.at("model_options").get<std::string>();
  if (j.contains("class_names")) s.class_names = j.at("class_names").get<std::string>();
  return s;
}

RunSettings settings_of(const ModelSpec& spec, int topk, ExifMode exif, DecodeMode decode) {
  RunSettings s;
  s.model = spec.name;
  s.weights_sha256 = file_sha256(spec.weights_path, "weights");
  s.precision = precision_name(spec.precision);
  if (spec.precision == Precision::Int8) {  // which layers stay fp32 changes the numbers
    std::string kept;
    for (const std::string& layer : spec.keep_fp32) kept += (kept.empty() ? "" : ",") + layer;
    s.precision += " (fp32: " + (kept.empty() ? std::string("none") : kept) + ")";
  }
  s.topk = topk;
  // "decode draft" only when drafted: files written by exact runs keep the words they always had.
  s.preprocess = std::string("exif ") + exif_mode_name(exif) + ", " +
                 (decode == DecodeMode::Draft ? "decode draft, " : "") + preprocess_words(spec.preprocess);
  s.model_options = spec.architecture;
  if (spec.architecture == "vit") {
    char text[160];
    std::snprintf(text, sizeof text, ", heads %s, patch %d, layernorm eps %.6g",
                  spec.heads > 0 ? std::to_string(spec.heads).c_str() : "from the width", spec.patch_size,
                  static_cast<double>(spec.layernorm_eps));
    s.model_options += text;
  }
  s.class_names = spec.labels_path.empty() ? std::string("none") : file_sha256(spec.labels_path, "class names");
  return s;
}

std::string settings_path(const std::string& results_path) { return results_path + ".settings.json"; }

std::string settings_difference(const RunSettings& in_file, const RunSettings& run) {
  auto differs = [](const std::string& what, const std::string& file, const std::string& here) {
    return what + ": " + file + " in the file, " + here + " in this run";
  };
  if (in_file.model != run.model) return differs("model", in_file.model, run.model);
  if (in_file.weights_sha256 != run.weights_sha256)
    return differs("weights (sha256)", in_file.weights_sha256.substr(0, 16) + "…", run.weights_sha256.substr(0, 16) + "…");
  if (in_file.precision != run.precision) return differs("precision", in_file.precision, run.precision);
  if (in_file.topk != run.topk) return differs("top-k", std::to_string(in_file.topk), std::to_string(run.topk));
  if (in_file.preprocess != run.preprocess) return differs("preprocessing", in_file.preprocess, run.preprocess);
  if (!in_file.model_options.empty() && in_file.model_options != run.model_options)
    return differs("model", in_file.model_options, run.model_options);
  if (!in_file.class_names.empty() && in_file.class_names != run.class_names)
    return differs("class names (sha256)", in_file.class_names.substr(0, 16), run.class_names.substr(0, 16));
  return "";
}

std::optional<RunSettings> read_settings(const std::string& results_path) {
  const std::string path = settings_path(results_path);
  std::ifstream in(path);
  if (!in) {
    if (::access(path.c_str(), F_OK) != 0) return std::nullopt;
    throw OutputError(path + ": cannot read");
  }
  try {
    return RunSettings::from_json(nlohmann::json::parse(in));
  } catch (const std::exception& e) {
    throw OutputError(path + ": not a vitscope settings file (" + std::string(e.what()) + ")");
  }
}

void write_settings(const std::string& results_path, const RunSettings& settings) {
  const std::string path = settings_path(results_path);
  const std::string temporary = path + ".tmp-" + std::to_string(::getpid());
  {
    std::ofstream out(temporary, std::ios::trunc);
    out << settings.to_json().dump(2) << '\n';
    out.flush();
    if (!out) {
      std::remove(temporary.c_str());
      throw OutputError(path + ": cannot write");
    }
  }
  if (std::rename(temporary.c_str(), path.c_str()) != 0) {
    std::remove(temporary.c_str());
    throw OutputError(path + ": cannot write");
  }
}

}  // namespace vitscope::batch
