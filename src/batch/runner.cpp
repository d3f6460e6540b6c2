#include "vitscope/batch/runner.hpp"

#include <algorithm>
#include <cmath>

#include "vitscope/core/error.hpp"
#include "vitscope/models/predictions.hpp"
#include "vitscope/preprocess/preprocess.hpp"

namespace vitscope::batch {
namespace {

// Decoding + preprocessing of one input; the error is kept instead of thrown.
struct PreparedInput {
  xt::xtensor<float, 3> tensor;
  std::string error;
};

}  // namespace

std::string non_finite_logits_error(const float* logits, int n, const std::string& path,
                                    const std::string& model) {
  const std::string problem = non_finite_logits_problem(logits, n, model);
  return problem.empty() ? "" : path + ": " + problem;
}

void run_in_batches(const ImageClassifier& model, Session& session,
                    const std::vector<std::string>& inputs, const ImageLoadOptions& load_options,
                    const ResultCallback& on_result) {
  run_in_batches({ModelRun{&model, &session, on_result}}, inputs, load_options);
}

void run_in_batches(const std::vector<ModelRun>& runs, const std::vector<std::string>& inputs,
                    const ImageLoadOptions& load_options) {
  if (runs.empty()) return;
  const PreprocessConfig& config = runs.front().model->spec().preprocess;
  for (const ModelRun& run : runs) {
    const PreprocessConfig& other = run.model->spec().preprocess;
    if (other.input_height != config.input_height || other.input_width != config.input_width ||
        other.crop_pct != config.crop_pct || other.interpolation != config.interpolation ||
        other.mean != config.mean || other.std != config.std)
      throw ConfigError("models " + runs.front().model->spec().name + " and " + run.model->spec().name +
                        " preprocess their inputs differently; they cannot share one pass over the images");
  }
  Session& preparing = *runs.front().session;
  const std::size_t chunk = static_cast<std::size_t>(std::max(2, preparing.threads()) * 2);
  for (std::size_t start = 0; start < inputs.size(); start += chunk) {
    const std::size_t count = std::min(chunk, inputs.size() - start);
    std::vector<PreparedInput> prepared(count);
    auto prepare = [&](int i) {
      const std::string& path = inputs[start + i];
      try {
        prepared[i].tensor = preprocess(load_image(path, load_options), config);
      } catch (const ImageError& e) {
        prepared[i].error = e.what();
      } catch (const std::exception& e) {
        prepared[i].error = path + ": " + e.what();
      }
    };
    if (preparing.pool())
      preparing.pool()->run(static_cast<int>(count), prepare);
    else
      for (int i = 0; i < static_cast<int>(count); ++i) prepare(i);
    std::vector<std::size_t> good;
    for (std::size_t i = 0; i < count; ++i)
      if (prepared[i].error.empty()) good.push_back(i);
    xt::xtensor<float, 4> batch;
    if (!good.empty()) {
      batch = xt::xtensor<float, 4>::from_shape({good.size(), 3, static_cast<std::size_t>(config.input_height),
                                                 static_cast<std::size_t>(config.input_width)});
      const std::size_t image_size = batch.size() / good.size();
      for (std::size_t g = 0; g < good.size(); ++g)
        std::copy(prepared[good[g]].tensor.begin(), prepared[good[g]].tensor.end(),
                  batch.begin() + static_cast<std::ptrdiff_t>(g * image_size));
    }
    for (const ModelRun& run : runs) {
      xt::xtensor<float, 2> logits;
      if (!good.empty()) logits = run.model->forward(batch, *run.session);
      std::size_t next_good = 0;
      for (std::size_t i = 0; i < count; ++i) {
        if (!prepared[i].error.empty()) {
          run.on_result(start + i, prepared[i].error, nullptr);
          continue;
        }
        const float* row = &logits(next_good++, 0);
        const std::string error =
            non_finite_logits_error(row, run.model->num_classes(), inputs[start + i], run.model->spec().name);
        run.on_result(start + i, error, error.empty() ? row : nullptr);
      }
    }
  }
}

}  // namespace vitscope::batch
