#pragma once
// Running a model over many images: decoded and preprocessed in parallel on the model's threads,
// then classified in batches; results come back in input order.
#include <functional>
#include <string>
#include <vector>

#include "cli/model_options.hpp"
#include "vitscope/io/image.hpp"

namespace vitscope::cli {

// For each input, in order: on_result(index, error, logits) with logits[num_classes] when error is
// empty, null otherwise (the error names the file).
using ResultCallback = std::function<void(std::size_t index, const std::string& error, const float* logits)>;

void run_in_batches(LoadedModel& loaded, const std::vector<std::string>& inputs,
                    const ImageLoadOptions& load_options, const ResultCallback& on_result);

}  // namespace vitscope::cli
