#pragma once
// weights/models.json: the models vitscope knows by name, where their weights come from, and what
// tensor shapes cannot tell (attention heads, preprocessing, label file).
#include <optional>
#include <string>
#include <vector>

#include "vitscope/kernels/precision.hpp"
#include "vitscope/preprocess/preprocess.hpp"

namespace vitscope {

struct WeightSource {
  std::string mirror_file;  // a file name looked up in the local mirror directories
  std::string url;          // a download address for people with internet
  std::string sha256;       // empty when unknown
};

const char* precision_name(Precision precision);
Precision parse_precision(const std::string& name);  // "fp32" | "bf16" | "int8"; ConfigError

struct ModelSpec {
  std::string name;          // "deit_tiny_patch16_224", or the file stem for a bare .safetensors
  std::string description;
  std::string architecture;  // "vit"
  std::string weights_path;  // resolved path of the .safetensors file
  std::vector<WeightSource> sources;
  int patch_size = 16;
  int heads = 0;             // 0: not known (derive from the width, 64 per head)
  float layernorm_eps = 1e-6f;
  bool pos_embed_antialias = true;  // how pos_embed is resampled for another input size
  Precision precision = Precision::Fp32;
  // With int8: the linear layers that stay in fp32 (none by default: quantising the patch
  // embedding and the head too was measured harmless, README "int8"). An entry names a layer
  // ("patch_embed", "head", "blocks.11.mlp.fc2") or, without the "blocks.N." prefix, that layer of
  // every block ("mlp.fc2").
  std::vector<std::string> keep_fp32;
  PreprocessConfig preprocess;
  std::string labels_path;   // resolved path of the class-name file; empty when none
};

class ModelRegistry {
 public:
  // Reads a manifest; throws ConfigError "<path>: <problem>".
  static ModelRegistry load(const std::string& manifest_path);
  // Finds weights/models.json: $VITSCOPE_MANIFEST, beside the executable (../weights, ../../weights),
  // then the source tree this binary was built from.
  static ModelRegistry load_default();

  const std::string& manifest_path() const { return manifest_path_; }
  const std::string& default_model() const { return default_model_; }
  std::vector<std::string> names() const;
  bool contains(const std::string& name) const;

  // A model name from the manifest, or a path to a .safetensors file. For a name, the weights are
  // looked for in the manifest's folder (weights/), then $VITSCOPE_WEIGHTS_DIR, then ../shared/models
  // beside the repository; ConfigError names the places tried and the fetch command. A bare file takes
  // the settings of the manifest entry with the same file name, else ViT defaults (ImageNet
  // preprocessing, heads from the file's metadata or width / 64).
  ModelSpec resolve(const std::string& name_or_path) const;

  // The folders searched for weights, in order (existing or not).
  std::vector<std::string> weight_dirs() const;

 private:
  struct Entry {
    ModelSpec spec;
    std::string file;
    std::string labels_file;
  };
  std::string manifest_path_;
  std::string default_model_;
  std::vector<Entry> entries_;
  const Entry* find_entry(const std::string& name) const;
  const Entry* find_entry_by_file(const std::string& file_name) const;
};

}  // namespace vitscope
