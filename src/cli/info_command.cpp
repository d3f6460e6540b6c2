// vitscope info MODEL: configuration, parameter count and MACs per image.
// vitscope models: the models the manifest knows and whether their weights are present.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <iostream>

#include "cli/commands.hpp"
#include "cli/model_options.hpp"
#include "vitscope/core/error.hpp"
#include "vitscope/models/model_registry.hpp"
#include "vitscope/models/weights_digest.hpp"

namespace vitscope::cli {
namespace {

std::string with_thousands(std::int64_t n) {
  std::string digits = std::to_string(n), out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

std::string scaled(double value, const char* unit) {
  char buf[64];
  if (value >= 1e9)
    std::snprintf(buf, sizeof buf, "%.3f G%s", value / 1e9, unit);
  else
    std::snprintf(buf, sizeof buf, "%.3f M%s", value / 1e6, unit);
  return buf;
}

int run_info(ModelOptions options, const std::string& model) {
  if (!model.empty()) options.model = model;
  options.threads = 1;
  LoadedModel loaded = load_model(options);
  const ModelSpec& spec = loaded.model->spec();
  const ModelSummary summary = loaded.model->summary();
  auto line = [](const std::string& key, const std::string& value) {
    std::string padded = key;
    padded.resize(std::max<std::size_t>(key.size() + 1, 20), ' ');
    std::cout << padded << value << '\n';
  };
  line("model", spec.name);
  if (!spec.description.empty()) line("description", spec.description);
  line("weights", spec.weights_path);
  const WeightsDigestCheck digest = check_weights_digest(spec);
  line("sha256", describe(digest));
  line("architecture", summary.architecture);
  for (const auto& [key, value] : summary.config) line(key, value);
  line("parameters", with_thousands(summary.parameters) + " (" +
                         scaled(static_cast<double>(summary.parameters), "") + ")");
  line("MACs per image", with_thousands(summary.macs_per_image) + " (" +
                             scaled(static_cast<double>(summary.macs_per_image), "MAC") + ", " +
                             scaled(2.0 * static_cast<double>(summary.macs_per_image), "FLOP") + ")");
  line("labels", loaded.labels.empty() ? std::string("none (class indices only)") : spec.labels_path);
  // Weights that are not the file they should be are an error, though printed like the rest.
  return digest.status == WeightsDigestCheck::Status::Mismatch ? kExitFatal : kExitOk;
}

int run_models() {
  const ModelRegistry registry = ModelRegistry::load_default();
  std::cout << "manifest: " << registry.manifest_path() << '\n';
  for (const std::string& name : registry.names()) {
    std::string where;
    try {
      where = registry.resolve(name).weights_path;
    } catch (const ConfigError&) {
      where = "not downloaded (scripts/fetch_weights.sh " + name + ")";
    }
    std::cout << (name == registry.default_model() ? "* " : "  ") << name << "  " << where << '\n';
  }
  return kExitOk;
}

}  // namespace

Subcommand add_info_command(CLI::App& app) {
  auto options = std::make_shared<ModelOptions>();
  auto model = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand("info", "Print a model's configuration, parameters, MACs and whether its weights' SHA-256 is verified");
  cmd->add_option("model", *model, "Model name or .safetensors file (default: the default model)");
  cmd->add_option("--heads", options->heads, "Attention heads, for an unknown .safetensors file");
  return {cmd, [options, model] { return run_info(*options, *model); }};
}

Subcommand add_models_command(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand("models", "List the models of weights/models.json");
  return {cmd, [] { return run_models(); }};
}

}  // namespace vitscope::cli
