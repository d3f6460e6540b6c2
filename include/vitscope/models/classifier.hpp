#pragma once
// What every model offers the command line: preprocessing settings, a batched forward pass to logits,
// and a description of itself. ViTs and CNNs implement it.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <xtensor/xtensor.hpp>

#include "vitscope/models/model_registry.hpp"
#include "vitscope/models/session.hpp"
#include "vitscope/core/thread_pool.hpp"

namespace vitscope {

struct ModelSummary {
  std::string architecture;                              // "vit"
  std::vector<std::pair<std::string, std::string>> config;  // printable settings, in order
  std::int64_t parameters = 0;
  std::int64_t macs_per_image = 0;  // multiply-accumulates of one forward pass at the input size
};

class ImageClassifier {
 public:
  virtual ~ImageClassifier() = default;
  virtual const ModelSpec& spec() const = 0;
  virtual int num_classes() const = 0;
  virtual ModelSummary summary() const = 0;
  // batch[B, 3, H, W] (preprocessed) → logits[B, classes], on the session's threads, in its
  // workspaces (stage timings into session.profile() for the models that time their stages).
  // The model itself is not changed: sessions may run it from several threads at once.
  virtual xt::xtensor<float, 2> forward(const xt::xtensor<float, 4>& batch, Session& session) const = 0;
};

// Opens spec.weights_path and builds the model its architecture names; WeightsError on a bad file.
// pool (null: single thread) packs the weights; it is not kept.
std::unique_ptr<ImageClassifier> load_classifier(const ModelSpec& spec, ThreadPool* pool);

}  // namespace vitscope
