#include "cli/model_options.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include <filesystem>
#include <iostream>

#include "vitscope/core/error.hpp"
#include "vitscope/kernels/gemm_bf16.hpp"
#include "vitscope/kernels/gemm_int8.hpp"
#include "vitscope/io/labels.hpp"
#include "vitscope/models/model_registry.hpp"

namespace vitscope::cli {

void add_model_options(CLI::App& command, ModelOptions& options) {
  command.add_option("--model,-m", options.model,
                     "Model name from weights/models.json, or a .safetensors file "
                     "(default: deit_tiny_patch16_224). vitscope does not download: fetch a model's "
                     "weights, verified by SHA-256, with scripts/fetch_weights.sh NAME");
  command.add_option("--threads,-t", options.threads, "Worker threads (default: all cores)")
      ->check(CLI::Range(1, 1024));
  command.add_option("--heads", options.heads,
                     "Attention heads, for a .safetensors file the manifest does not know")
      ->check(CLI::Range(1, 4096));
  command.add_option("--class-names", options.labels, "Class-name file, one name per line");
  command.add_option("--precision", options.precision,
                     "Matrix products in fp32, in bf16 with fp32 accumulation, or in int8 with int32 "
                     "accumulation (ViTs: weights per output channel, activations per token; the layers "
                     "of --keep-fp32 stay in fp32)")
      ->check(CLI::IsMember({"fp32", "bf16", "int8"}))
      ->capture_default_str();
  command.add_option("--keep-fp32", options.keep_fp32,
                     "With --precision int8, the linear layers kept in fp32, comma-separated: patch_embed, head, "
                     "blocks.N.attn.qkv, blocks.N.attn.proj, blocks.N.mlp.fc1, blocks.N.mlp.fc2, or without "
                     "blocks.N. for every block; 'none' for none")
      ->delimiter(',')
      ->capture_default_str();
}

ModelSpec resolve_model(const ModelOptions& options) {
  const ModelRegistry registry = ModelRegistry::load_default();
  ModelSpec spec = registry.resolve(options.model);
  if (options.heads > 0) spec.heads = options.heads;
  if (!options.labels.empty()) spec.labels_path = options.labels;
  spec.precision = parse_precision(options.precision);
  if (spec.precision != Precision::Int8 && options.keep_fp32 != ModelOptions().keep_fp32)
    throw ConfigError("--keep-fp32 goes with --precision int8");
  spec.keep_fp32.clear();
  for (const std::string& layer : options.keep_fp32)
    if (layer != "none") spec.keep_fp32.push_back(layer);
  return spec;
}

LoadedModel load_model(const ModelOptions& options) {
  const ModelSpec spec = resolve_model(options);
  if (spec.precision == Precision::Bf16 && !kernels::bf16_hardware_available()) {
    static bool said = false;  // once per process, however many models are loaded
    if (!said)
      std::cerr << "vitscope: this CPU has no AVX512-BF16: bf16 runs emulated on the fp32 kernels "
                   "(same results, no speed-up)\n";
    said = true;
  }
  if (spec.precision == Precision::Int8 && !kernels::int8_vnni_available()) {
    static bool said = false;
    if (!said)
      std::cerr << "vitscope: this CPU has no AVX512-VNNI: int8 runs on portable integer code "
                   "(same results, slower)\n";
    said = true;
  }
  LoadedModel loaded;
  loaded.pool = std::make_unique<ThreadPool>(options.threads > 0 ? options.threads
                                                                 : hardware_threads());
  loaded.model = load_classifier(spec, loaded.pool.get());
  loaded.session = Session(loaded.pool.get());
  std::error_code ec;
  if (!spec.labels_path.empty() && std::filesystem::exists(spec.labels_path, ec)) {
    std::vector<std::string> labels = read_label_names(spec.labels_path);
    if (static_cast<int>(labels.size()) == loaded.model->num_classes())
      loaded.labels = std::move(labels);
    else if (!options.labels.empty())
      throw ConfigError(spec.labels_path + ": has " + std::to_string(labels.size()) +
                        " class names but the model has " +
                        std::to_string(loaded.model->num_classes()) + " classes");
  } else if (!options.labels.empty()) {
    throw ConfigError(options.labels + ": cannot open label file");
  }
  return loaded;
}

CLI::Validator megapixel_limit() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        char* end = nullptr;
        const double value = std::strtod(text.c_str(), &end);  // no exception on underflow: 1e-320 is a number
        if (text.empty() || end != text.c_str() + text.size()) return "'" + text + "' is not a number";
        if (!std::isfinite(value) || !(value > 0)) return "'" + text + "' is not a finite number above zero";
        if (value < kMinMegapixelLimit || value > kMaxMegapixelLimit)
          return "'" + text + "' is out of range: the limit is from 1e-06 megapixels (one pixel) to 1e+06 (a "
                 "million megapixels)";
        return "";
      },
      "MEGAPIXELS");
}

void check_topk(int topk, const ImageClassifier& model) {
  if (topk > model.num_classes())
    throw ConfigError("--topk " + std::to_string(topk) + ": the model has " + std::to_string(model.num_classes()) +
                      " classes");
}

void add_image_read_options(CLI::App& command, ImageReadFlags& flags) {
  command
      .add_option("--exif", flags.exif,
                  "EXIF orientation: apply (turn the photo as it is meant to be seen) or ignore (the stored "
                  "pixels, as PIL and the PyTorch evaluation pipelines read them)")
      ->check(CLI::IsMember({"apply", "ignore"}))
      ->capture_default_str();
  command
      .add_option("--decode", flags.decode,
                  "JPEG decoding: exact (every pixel, as PyTorch pipelines decode) or draft (libjpeg's DCT "
                  "scaling to the smallest 1/2, 1/4 or 1/8 still at least the size the resize needs, as "
                  "Pillow's Image.draft: several times faster on large photos, slightly different inputs)")
      ->check(CLI::IsMember({"exact", "draft"}))
      ->capture_default_str();
}

ImageLoadOptions image_load_options(const ImageReadFlags& flags, const std::vector<PreprocessConfig>& preprocess,
                                    double max_megapixels) {
  ImageLoadOptions options;
  options.exif = parse_exif_mode(flags.exif);
  options.decode = parse_decode_mode(flags.decode);
  // megapixel_limit() bounds the option, so the count of pixels fits in 64 bits.
  options.max_pixels = std::llround(std::clamp(max_megapixels, kMinMegapixelLimit, kMaxMegapixelLimit) * 1e6);
  if (options.decode == DecodeMode::Draft) {
    std::vector<DraftRequest> requests;
    for (const PreprocessConfig& config : preprocess) requests.push_back(draft_request_for(config));
    options.draft_request = [requests](int width, int height) {
      std::pair<int, int> largest{0, 0};
      for (const DraftRequest& request : requests) {
        const auto [w, h] = request(width, height);
        largest = {std::max(largest.first, w), std::max(largest.second, h)};
      }
      return largest;
    };
  }
  return options;
}

}  // namespace vitscope::cli
