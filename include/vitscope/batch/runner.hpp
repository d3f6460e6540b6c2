#pragma once
// Running a model over many images: decoded and preprocessed in parallel on the model's threads,
// then classified in batches; results come back in input order.
#include <functional>
#include <string>
#include <vector>

#include "vitscope/models/classifier.hpp"
#include "vitscope/io/image.hpp"

namespace vitscope::batch {

// For each input, in order: on_result(index, error, logits) with logits[num_classes] when error is
// empty, null otherwise (the error names the file; non-finite logits are an error too).
using ResultCallback = std::function<void(std::size_t index, const std::string& error, const float* logits)>;

// "<path>: model <name> gave a non-finite logit (NaN or infinity)" when logits[n] holds one (the
// model's weights or preprocessing are broken: its top classes would be arbitrary), else "".
std::string non_finite_logits_error(const float* logits, int n, const std::string& path,
                                    const std::string& model);

// Images are prepared on the session's threads, a few per thread at a time, then classified
// together on them.
void run_in_batches(const ImageClassifier& model, Session& session,
                    const std::vector<std::string>& inputs, const ImageLoadOptions& load_options,
                    const ResultCallback& on_result);

// One model of a run over several (its session, and its results).
struct ModelRun {
  const ImageClassifier* model = nullptr;
  Session* session = nullptr;
  ResultCallback on_result;
};

// The same for several models with the same preprocessing (one model at two precisions): each
// image is decoded and preprocessed once, on the first model's threads, then classified by every
// model in turn; each model's results come back in input order. ConfigError when the models'
// preprocessing differs.
void run_in_batches(const std::vector<ModelRun>& runs, const std::vector<std::string>& inputs,
                    const ImageLoadOptions& load_options);

}  // namespace vitscope::batch
