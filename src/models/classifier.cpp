#include "vitscope/classifier.hpp"

#include "vitscope/error.hpp"
#include "vitscope/safetensors.hpp"
#include "vitscope/vit.hpp"

namespace vitscope {

std::unique_ptr<ImageClassifier> load_classifier(const ModelSpec& spec, ThreadPool* pool) {
  const SafeTensors file = SafeTensors::open(spec.weights_path);
  if (spec.architecture == "vit") return VitModel::load(file, spec, pool);
  throw ConfigError("model '" + spec.name + "': unsupported architecture '" + spec.architecture + "'");
}

}  // namespace vitscope
