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
// empty, null otherwise (the error names the file).
using ResultCallback = std::function<void(std::size_t index, const std::string& error, const float* logits)>;

// Images are prepared on the session's threads, a few per thread at a time, then classified
// together on them.
void run_in_batches(const ImageClassifier& model, Session& session,
                    const std::vector<std::string>& inputs, const ImageLoadOptions& load_options,
                    const ResultCallback& on_result);

}  // namespace vitscope::batch
