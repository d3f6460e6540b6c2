// vitscope classify: top-k ImageNet classes for every image given (files or folders).
#include <algorithm>
#include <iostream>

#include "vitscope/batch/runner.hpp"
#include "cli/commands.hpp"
#include "cli/model_options.hpp"
#include "cli/report.hpp"
#include "vitscope/io/discover.hpp"
#include "vitscope/core/error.hpp"
#include "vitscope/io/image.hpp"
#include "vitscope/io/labels.hpp"

namespace vitscope::cli {

using namespace vitscope::batch;  // the batch library this command runs
namespace {

struct ClassifyOptions {
  ModelOptions model;
  int topk = 5;
  std::string format = "text";
  double max_megapixels = 100;
  ImageReadFlags image_read;  // --exif, --decode
  std::vector<std::string> paths;
};

int run_classify(const ClassifyOptions& options) {
  LoadedModel loaded = load_model(options.model);
  ImageClassifier& model = *loaded.model;
  check_topk(options.topk, model);
  const std::vector<std::string> inputs = discover_inputs(options.paths);
  const ImageLoadOptions load_options = image_load_options(options.image_read, {model.spec().preprocess}, options.max_megapixels);

  auto writer = make_result_writer(options.format, std::cout, model.spec().name, options.topk);
  writer->begin();
  int ok_count = 0, error_count = 0;
  run_in_batches(*loaded.model, loaded.session, inputs, load_options, [&](std::size_t i, const std::string& error, const float* logits) {
    ResultRow row;
    row.path = inputs[i];
    row.error = error;
    if (row.ok()) {
      row.predictions = top_k(logits, model.num_classes(), options.topk, loaded.labels);
      ++ok_count;
    } else {
      std::cerr << "vitscope: error: " << row.error << '\n';
      ++error_count;
    }
    writer->write(row);
  });
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
  add_image_read_options(*cmd, options->image_read);
  cmd->add_option("--max-megapixels", options->max_megapixels,
                  "Refuse images larger than this many megapixels (1e-6 to 1e6), before decoding them")
      ->check(megapixel_limit())
      ->capture_default_str();
  cmd->add_option("paths", options->paths,
                  "Image files or folders (searched recursively; images recognised by content)")
      ->required();
  return {cmd, [options] { return run_classify(*options); }};
}

}  // namespace vitscope::cli
