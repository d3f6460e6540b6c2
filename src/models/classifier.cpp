#include "vitscope/models/classifier.hpp"

#include "vitscope/models/cnn.hpp"
#include "vitscope/models/model_registry.hpp"
#include "vitscope/core/error.hpp"
#include "vitscope/io/safetensors.hpp"
#include "vitscope/models/vit.hpp"

namespace vitscope {

std::unique_ptr<ImageClassifier> load_classifier(const ModelSpec& spec, ThreadPool* pool) {
  // The CNNs have fp32 kernels only: computing fp32 under another name would be a wrong record.
  if (spec.architecture != "vit" && spec.precision != Precision::Fp32)
    throw ConfigError("model '" + spec.name + "' (" + spec.architecture + "): --precision " +
                      precision_name(spec.precision) + " is for ViTs; the CNNs run in fp32 only");
  const SafeTensors file = SafeTensors::open(spec.weights_path);
  if (spec.architecture == "vit") return VitModel::load(file, spec, pool);
  if (spec.architecture == "mobilenet_v1") return CnnModel::load_mobilenet_v1(file, spec, pool);
  if (spec.architecture == "resnet") return CnnModel::load_resnet(file, spec, pool);
  throw ConfigError("model '" + spec.name + "': unsupported architecture '" + spec.architecture + "'");
}

}  // namespace vitscope
