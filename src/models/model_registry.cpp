#include "vitscope/models/model_registry.hpp"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <cmath>
#include <fstream>

#include <nlohmann/json.hpp>

#include "vitscope/core/error.hpp"
#include "vitscope/core/json_numbers.hpp"
#include "vitscope/io/safetensors.hpp"

namespace fs = std::filesystem;
using nlohmann::json;

namespace vitscope {
namespace {

fs::path executable_dir() {
  std::error_code ec;
  fs::path self = fs::read_symlink("/proc/self/exe", ec);
  return ec ? fs::path() : self.parent_path();
}

std::string string_or_empty(const json& object, const char* key) {
  auto it = object.find(key);
  return (it != object.end() && it->is_string()) ? it->get<std::string>() : std::string();
}

PreprocessConfig parse_preprocess(const json& j) {
  PreprocessConfig config;
  if (j.contains("input_size")) {
    // Beyond 4096 pixels a side nothing real is meant (and a preprocessed image would take gigabytes).
    constexpr int kMaxSide = 4096;
    config.input_height = json_int(j.at("input_size").at(0), "input_size[0]", 1, kMaxSide);
    config.input_width = json_int(j.at("input_size").at(1), "input_size[1]", 1, kMaxSide);
  }
  if (j.contains("crop_pct")) config.crop_pct = json_double(j.at("crop_pct"), "crop_pct");
  if (j.contains("interpolation"))
    config.interpolation = parse_interpolation(j.at("interpolation").get<std::string>());
  for (int c = 0; c < 3; ++c) {
    if (j.contains("mean")) config.mean[c] = json_float(j.at("mean").at(c), "mean[" + std::to_string(c) + "]");
    if (j.contains("std")) config.std[c] = json_float(j.at("std").at(c), "std[" + std::to_string(c) + "]");
  }
  if (!(config.crop_pct > 0 && config.crop_pct <= 1)) throw ConfigError("crop_pct must be in (0, 1]");
  for (int c = 0; c < 3; ++c)
    if (!std::isfinite(config.mean[c]) || !std::isfinite(config.std[c]) || !(config.std[c] > 0))
      throw ConfigError("mean and std must be finite and std positive (a zero std divides by zero)");
  return config;
}

// A bare .safetensors file's architecture, from the tensor names it holds (ViT when unreadable:
// opening it for real reports the problem).
std::string detect_architecture(const std::string& path) {
  try {
    const SafeTensors file = SafeTensors::open(path);
    if (file.contains("conv1/kernel") && file.contains("conv_dw_1/depthwise_kernel")) return "mobilenet_v1";
    if (file.contains("conv1.weight") && file.contains("layer1.0.conv1.weight")) return "resnet";
  } catch (const WeightsError&) {
  }
  return "vit";
}

// What is at a path that is not a regular file, for "VITSCOPE_MANIFEST names ...".
std::string what_is_there(const fs::path& path) {
  std::error_code ec;
  switch (fs::status(path, ec).type()) {
    case fs::file_type::not_found: return "a file that does not exist";
    case fs::file_type::directory: return "a folder, not a manifest file";
    case fs::file_type::fifo: return "a FIFO, not a regular file";
    case fs::file_type::socket: return "a socket, not a regular file";
    case fs::file_type::block:
    case fs::file_type::character: return "a device, not a regular file";
    default: return ec ? "a path that cannot be examined: " + ec.message() : "something that is not a regular file";
  }
}

}  // namespace

const char* precision_name(Precision precision) {
  switch (precision) {
    case Precision::Bf16: return "bf16";
    case Precision::Int8: return "int8";
    case Precision::Fp32: break;
  }
  return "fp32";
}

Precision parse_precision(const std::string& name) {
  if (name == "fp32") return Precision::Fp32;
  if (name == "bf16") return Precision::Bf16;
  if (name == "int8") return Precision::Int8;
  throw ConfigError("precision '" + name + "': expected fp32, bf16 or int8");
}

ModelRegistry ModelRegistry::load(const std::string& manifest_path) {
  std::ifstream in(manifest_path);
  if (!in) throw ConfigError(manifest_path + ": cannot open model manifest");
  ModelRegistry registry;
  registry.manifest_path_ = manifest_path;
  const fs::path folder = fs::path(manifest_path).parent_path();
  try {
    const json root = json::parse(in);
    constexpr int kFormatVersion = 1;  // what this reader understands
    if (!root.contains("format_version") || !root.at("format_version").is_number_integer() ||
        root.at("format_version") != kFormatVersion)
      throw ConfigError("format_version " + (root.contains("format_version") ? root.at("format_version").dump() : "missing") +
                        ": this vitscope reads manifests of format_version " + std::to_string(kFormatVersion));
    registry.default_model_ = root.value("default_model", std::string());
    for (const auto& [name, j] : root.at("models").items()) {
      Entry entry;
      entry.spec.name = name;
      entry.spec.description = string_or_empty(j, "description");
      entry.spec.architecture = j.at("architecture").get<std::string>();
      entry.file = j.at("file").get<std::string>();
      for (const auto& s : j.value("sources", json::array())) {
        entry.spec.sources.push_back(
            {string_or_empty(s, "mirror"), string_or_empty(s, "url"), string_or_empty(s, "sha256")});
      }
      if (j.contains("vit")) {
        const json& vit = j.at("vit");
        // Checked here for range only; whether they fit the weights is checked when the model loads.
        if (vit.contains("patch_size")) entry.spec.patch_size = json_int(vit.at("patch_size"), "vit.patch_size", 1, 4096);
        if (vit.contains("heads")) entry.spec.heads = json_int(vit.at("heads"), "vit.heads", 1, 1 << 16);
        if (vit.contains("layernorm_eps")) entry.spec.layernorm_eps = json_float(vit.at("layernorm_eps"), "vit.layernorm_eps");
        entry.spec.pos_embed_antialias = vit.value("pos_embed_antialias", true);
      }
      if (j.contains("preprocess")) entry.spec.preprocess = parse_preprocess(j.at("preprocess"));
      entry.labels_file = string_or_empty(j, "labels");
      if (!entry.labels_file.empty()) {
        entry.spec.labels_path = (folder / entry.labels_file).string();
        std::error_code ec;
        if (!fs::is_regular_file(entry.spec.labels_path, ec))
          throw ConfigError("model '" + printable(name) + "': labels file " + printable(entry.spec.labels_path, 200) +
                            " not found");
      }
      registry.entries_.push_back(std::move(entry));
    }
  } catch (const json::exception& e) {
    throw ConfigError(manifest_path + ": malformed model manifest: " + e.what());
  } catch (const ConfigError& e) {
    throw ConfigError(manifest_path + ": " + e.what());
  }
  return registry;
}

ModelRegistry ModelRegistry::load_default() {
  std::vector<fs::path> candidates;
  if (const char* env = std::getenv("VITSCOPE_MANIFEST"); env && *env) {
    // Asked for by name: that file or an error, never silently another manifest.
    std::error_code ec;
    if (!fs::is_regular_file(env, ec))
      throw ConfigError(std::string(env) + ": VITSCOPE_MANIFEST names " + what_is_there(env));
    return load(fs::weakly_canonical(env).string());
  }
  const fs::path exe = executable_dir();
  if (!exe.empty()) {
    candidates.push_back(exe / ".." / "weights" / "models.json");
    candidates.push_back(exe / ".." / ".." / "weights" / "models.json");
    candidates.push_back(exe / ".." / "share" / "vitscope" / "weights" / "models.json");
  }
#ifdef VITSCOPE_SOURCE_WEIGHTS_DIR
  candidates.push_back(fs::path(VITSCOPE_SOURCE_WEIGHTS_DIR) / "models.json");
#endif
  for (const fs::path& candidate : candidates) {
    std::error_code ec;
    if (fs::is_regular_file(candidate, ec)) return load(fs::weakly_canonical(candidate).string());
  }
  throw ConfigError("weights/models.json: model manifest not found (set VITSCOPE_MANIFEST)");
}

std::vector<std::string> ModelRegistry::names() const {
  std::vector<std::string> out;
  for (const Entry& e : entries_) out.push_back(e.spec.name);
  std::sort(out.begin(), out.end());
  return out;
}

bool ModelRegistry::contains(const std::string& name) const { return find_entry(name) != nullptr; }

const ModelRegistry::Entry* ModelRegistry::find_entry(const std::string& name) const {
  for (const Entry& e : entries_)
    if (e.spec.name == name) return &e;
  return nullptr;
}

const ModelRegistry::Entry* ModelRegistry::find_entry_by_file(const std::string& file_name) const {
  for (const Entry& e : entries_)
    if (e.file == file_name) return &e;
  return nullptr;
}

std::vector<std::string> ModelRegistry::weight_dirs() const {
  std::vector<std::string> dirs;
  const fs::path weights = fs::path(manifest_path_).parent_path();
  dirs.push_back(weights.string());
  if (const char* env = std::getenv("VITSCOPE_WEIGHTS_DIR"); env && *env) dirs.emplace_back(env);
  dirs.push_back((weights.parent_path().parent_path() / "shared" / "models").lexically_normal().string());
  return dirs;
}

ModelSpec ModelRegistry::resolve(const std::string& name_or_path) const {
  const std::string& wanted = name_or_path.empty() ? default_model_ : name_or_path;
  if (const Entry* entry = find_entry(wanted)) {
    ModelSpec spec = entry->spec;
    std::string tried;
    for (const std::string& dir : weight_dirs()) {
      fs::path candidate = fs::path(dir) / entry->file;
      std::error_code ec;
      if (fs::is_regular_file(candidate, ec)) {
        spec.weights_path = candidate.string();
        return spec;
      }
      tried += (tried.empty() ? "" : ", ") + dir;
    }
    throw ConfigError("model '" + wanted + "': weights file " + entry->file + " not found in " +
                      tried + "; run scripts/fetch_weights.sh " + wanted);
  }
  const fs::path path(wanted);
  std::error_code ec;
  if (path.extension() == ".safetensors" || fs::exists(path, ec)) {
    const Entry* entry = find_entry_by_file(path.filename().string());
    ModelSpec spec = entry ? entry->spec : ModelSpec{};
    if (!entry) {
      spec.name = path.stem().string();
      spec.architecture = detect_architecture(wanted);
      if (spec.architecture == "mobilenet_v1") {  // Keras MobileNet preprocessing: x / 127.5 - 1
        spec.preprocess.interpolation = Interpolation::Bilinear;
        spec.preprocess.mean = spec.preprocess.std = {0.5f, 0.5f, 0.5f};
      }
      const fs::path labels = fs::path(manifest_path_).parent_path() / "imagenet_classes.txt";
      spec.labels_path = labels.string();  // used only when the model has 1000 classes
    }
    spec.weights_path = wanted;
    return spec;
  }
  std::string known;
  for (const std::string& n : names()) known += (known.empty() ? "" : ", ") + n;
  throw ConfigError("model '" + wanted + "': not a known model name (" + known +
                    ") nor a .safetensors file");
}

}  // namespace vitscope
