// vitscope classify: top-k ImageNet classes for every image given (files or folders).
#include <algorithm>
#include <iostream>

#include "cli/commands.hpp"
#include "cli/model_options.hpp"
#include "cli/report.hpp"
#include "vitscope/discover.hpp"
#include "vitscope/error.hpp"
#include "vitscope/image.hpp"
#include "vitscope/labels.hpp"
#include "vitscope/preprocess.hpp"

namespace vitscope::cli {
namespace {

struct ClassifyOptions {
  ModelOptions model;
  int topk = 5;
  std::string format = "text";
  double max_megapixels = 100;
  std::vector<std::string> paths;
};

// Decoding + preprocessing of one input; the error is kept instead of thrown.
struct PreparedInput {
  std::string path;
  xt::xtensor<float, 3> tensor;
  std::string error;
};

int run_classify(const ClassifyOptions& options) {
  LoadedModel loaded = load_model(options.model);
  ImageClassifier& model = *loaded.model;
  const PreprocessConfig& preprocess_config = model.spec().preprocess;
  const std::vector<std::string> inputs = discover_inputs(options.paths);
  ImageLoadOptions load_options;
  load_options.max_pixels = static_cast<std::int64_t>(options.max_megapixels * 1e6);

  auto writer = make_result_writer(options.format, std::cout, model.spec().name, options.topk);
  writer->begin();
  int ok_count = 0, error_count = 0;
  // Inputs go through in chunks: decoded in parallel, then one batched forward pass.
  const std::size_t chunk = static_cast<std::size_t>(std::max(2, loaded.pool->size()) * 2);
  for (std::size_t start = 0; start < inputs.size(); start += chunk) {
    const std::size_t count = std::min(chunk, inputs.size() - start);
    std::vector<PreparedInput> prepared(count);
    loaded.pool->run(static_cast<int>(count), [&](int i) {
      PreparedInput& p = prepared[i];
      p.path = inputs[start + i];
      try {
        p.tensor = preprocess(load_image(p.path, load_options), preprocess_config);
      } catch (const ImageError& e) {
        p.error = e.what();
      } catch (const std::exception& e) {
        p.error = p.path + ": " + e.what();
      }
    });
    std::vector<std::size_t> good;
    for (std::size_t i = 0; i < count; ++i)
      if (prepared[i].error.empty()) good.push_back(i);
    xt::xtensor<float, 2> logits;
    if (!good.empty()) {
      xt::xtensor<float, 4> batch = xt::xtensor<float, 4>::from_shape(
          {good.size(), 3, static_cast<std::size_t>(preprocess_config.input_height),
           static_cast<std::size_t>(preprocess_config.input_width)});
      const std::size_t image_size = batch.size() / good.size();
      for (std::size_t g = 0; g < good.size(); ++g)
        std::copy(prepared[good[g]].tensor.begin(), prepared[good[g]].tensor.end(),
                  batch.begin() + static_cast<std::ptrdiff_t>(g * image_size));
      logits = model.forward(batch);
    }
    std::size_t next_good = 0;
    for (std::size_t i = 0; i < count; ++i) {
      ResultRow row;
      row.path = prepared[i].path;
      row.error = prepared[i].error;
      if (row.ok()) {
        row.predictions = top_k(&logits(next_good++, 0), model.num_classes(), options.topk,
                                loaded.labels);
        ++ok_count;
      } else {
        std::cerr << "vitscope: error: " << row.error << '\n';
        ++error_count;
      }
      writer->write(row);
    }
  }
  writer->end(ok_count, error_count);
  if (inputs.empty()) {
    std::cerr << "vitscope: error: no images found in the given paths\n";
    return kExitSomeInputsFailed;
  }
  if (error_count > 0)
    std::cerr << "vitscope: " << ok_count << " classified, " << error_count << " failed\n";
  return error_count > 0 ? kExitSomeInputsFailed : kExitOk;
}

}  // namespace

Subcommand add_classify_command(CLI::App& app) {
  auto options = std::make_shared<ClassifyOptions>();
  CLI::App* cmd = app.add_subcommand("classify", "Print the top-k classes of each image");
  add_model_options(*cmd, options->model);
  cmd->add_option("--topk,-k", options->topk, "How many classes to print per image")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  cmd->add_option("--format,-f", options->format, "Output format")
      ->check(CLI::IsMember({"text", "json", "csv"}))
      ->capture_default_str();
  cmd->add_option("--max-megapixels", options->max_megapixels,
                  "Refuse images larger than this, before decoding them")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("paths", options->paths,
                  "Image files or folders (searched recursively; images recognised by content)")
      ->required();
  return {cmd, [options] { return run_classify(*options); }};
}

}  // namespace vitscope::cli
