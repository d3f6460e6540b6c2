// vitscope validate: accuracy on labelled images (labels.csv or an ImageFolder tree).
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <numeric>

#include <nlohmann/json.hpp>

#include "cli/commands.hpp"
#include "cli/model_options.hpp"
#include "cli/precision_agreement.hpp"
#include "vitscope/batch/runner.hpp"
#include "vitscope/core/error.hpp"
#include "vitscope/io/dataset.hpp"
#include "vitscope/io/image.hpp"
#include "vitscope/models/validation.hpp"

namespace vitscope::cli {

using namespace vitscope::batch;  // the batch library this command runs
namespace {

struct ValidateOptions {
  ModelOptions model;
  std::string dir;
  std::string labels_csv;
  bool image_folder = false;
  std::string json_path;
  int confused = 10;
  std::string against;        // --against PRECISION: compare with the same model at that precision
  ImageReadFlags image_read;  // --exif, --decode
};

std::string label_of(const LoadedModel& loaded, int index) {
  return index < static_cast<int>(loaded.labels.size()) ? loaded.labels[index] : "class " + std::to_string(index);
}

std::vector<int> ranked(const float* logits, int n) {
  std::vector<int> order(n);
  std::iota(order.begin(), order.end(), 0);
  const int k = std::min(5, n);
  std::partial_sort(order.begin(), order.begin() + k, order.end(),
                    [&](int a, int b) { return logits[a] != logits[b] ? logits[a] > logits[b] : a < b; });
  order.resize(k);
  return order;
}

int run_validate(const ValidateOptions& options) {
  if (options.image_folder == !options.labels_csv.empty())
    throw ConfigError("validate: give exactly one of --labels FILE and --imagefolder");
  std::error_code ec;
  if (!std::filesystem::is_directory(options.dir, ec))
    throw ConfigError(options.dir + ": " + (std::filesystem::exists(options.dir, ec) ? "not a folder" : "no such folder"));
  LoadedModel loaded = load_model(options.model);
  const std::vector<LabelledImage> images = options.image_folder
                                                ? read_image_folder(options.dir, loaded.labels)
                                                : read_labelled_csv(options.labels_csv, options.dir);
  std::vector<std::string> paths;
  for (const LabelledImage& image : images) {
    if (image.class_index >= loaded.model->num_classes())
      throw ConfigError(options.labels_csv + ": " + image.path + " has class_index " + std::to_string(image.class_index) +
                        ", outside the model's 0.." + std::to_string(loaded.model->num_classes() - 1));
    paths.push_back(image.path);
  }

  ValidationCounts counts;
  // How many photos carry an EXIF rotation: where --exif apply and PyTorch's evaluation differ.
  int rotated = 0;
  for (const std::string& path : paths) {
    try {
      const std::vector<std::uint8_t> bytes = read_image_file(path);
      rotated += exif_orientation(bytes.data(), bytes.size()) != 1;
    } catch (const ImageError&) {
    }
  }
  const int classes = loaded.model->num_classes();
  const ImageLoadOptions load = image_load_options(options.image_read, {loaded.model->spec().preprocess});
  // With --against, each image's logits are kept (classes floats an image) for the comparison, and
  // the same model at the other precision classifies the same decoded images in the same pass.
  std::vector<std::vector<float>> kept(options.against.empty() ? 0 : paths.size());
  PrecisionAgreement agreement;
  ValidationCounts reference_counts;
  int reference_failed = 0;  // images the first precision classified and the other did not
  std::vector<ModelRun> runs;
  runs.push_back({loaded.model.get(), &loaded.session,
                  [&](std::size_t i, const std::string& error, const float* logits) {
                    if (!error.empty()) {
                      std::cerr << "vitscope: error: " << error << '\n';
                      ++counts.failed;
                      return;
                    }
                    counts.add(images[i].class_index, ranked(logits, classes));
                    if (!kept.empty()) kept[i].assign(logits, logits + classes);
                  }});
  auto run_all = [&] { run_in_batches(runs, paths, load); };
  if (options.against.empty()) {
    run_all();
  } else {
    ModelOptions reference_options = options.model;
    reference_options.precision = options.against;
    reference_options.keep_fp32 = ModelOptions().keep_fp32;
    LoadedModel reference = load_model(reference_options);
    runs.push_back({reference.model.get(), &reference.session,
                    [&](std::size_t i, const std::string& error, const float* logits) {
                      if (kept[i].empty()) return;  // unreadable, or failed at the first precision: reported
                      if (!error.empty()) {
                        std::cerr << "vitscope: error: " << error << " (at " << options.against << ")\n";
                        ++reference_failed;
                        return;
                      }
                      reference_counts.add(images[i].class_index, ranked(logits, classes));
                      agreement.add(kept[i].data(), logits, classes);
                    }});
    run_all();
  }

  char line[512];
  std::snprintf(line, sizeof line,
                "%s on %d images (%d unreadable)\ntop-1 accuracy %.2f%% (%d/%d)\ntop-5 accuracy %.2f%% (%d/%d)\n"
                "EXIF orientation: %d of the images carry a rotation or mirroring (--exif %s)\n",
                loaded.model->spec().name.c_str(), counts.images, counts.failed, 100 * counts.top1_accuracy(),
                counts.top1, counts.images, 100 * counts.top5_accuracy(), counts.top5, counts.images, rotated,
                options.image_read.exif.c_str());
  std::cout << line;
  if (!options.against.empty()) {
    std::snprintf(line, sizeof line, "at %s: top-1 accuracy %.2f%%, top-5 accuracy %.2f%% (%d images; %d failed)\n",
                  options.against.c_str(), 100 * reference_counts.top1_accuracy(),
                  100 * reference_counts.top5_accuracy(), reference_counts.images, reference_failed);
    std::cout << line << agreement.summary(options.model.precision, options.against);
  }
  nlohmann::json per_class = nlohmann::json::array();
  std::cout << "classes with top-1 errors (errors/images):\n";
  for (const auto& [cls, tally] : counts.per_class) {
    per_class.push_back({{"class_index", cls}, {"label", label_of(loaded, cls)}, {"images", tally.first},
                         {"top1_errors", tally.second}});
    if (tally.second > 0)
      std::cout << "  " << label_of(loaded, cls) << " (" << cls << "): " << tally.second << "/" << tally.first << '\n';
  }
  nlohmann::json confused = nlohmann::json::array();
  std::cout << "most confused (true -> predicted: count):\n";
  for (const auto& [pair, count] : counts.most_confused(static_cast<std::size_t>(options.confused))) {
    confused.push_back({{"true_class", pair.first}, {"true_label", label_of(loaded, pair.first)},
                        {"predicted_class", pair.second}, {"predicted_label", label_of(loaded, pair.second)},
                        {"count", count}});
    std::cout << "  " << label_of(loaded, pair.first) << " -> " << label_of(loaded, pair.second) << ": " << count << '\n';
  }
  if (!options.json_path.empty()) {
    nlohmann::json report = {
        {"model", loaded.model->spec().name}, {"exif", options.image_read.exif}, {"decode", options.image_read.decode}, {"exif_rotated_images", rotated}, {"images", counts.images}, {"unreadable", counts.failed},
        {"top1", counts.top1}, {"top5", counts.top5}, {"top1_accuracy", counts.top1_accuracy()},
        {"top5_accuracy", counts.top5_accuracy()}, {"per_class", per_class}, {"most_confused", confused}};
    if (!options.against.empty()) {
      report["precision"] = options.model.precision;
      report["against"] = agreement.to_json(options.against);
      report["against"]["top1_accuracy"] = reference_counts.top1_accuracy();
      report["against"]["failed"] = reference_failed;
      report["against"]["top5_accuracy"] = reference_counts.top5_accuracy();
    }
    std::ofstream out(options.json_path);
    out << report.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
    if (!out) throw ConfigError(options.json_path + ": cannot write");
  }
  return counts.failed > 0 || reference_failed > 0 ? kExitSomeInputsFailed : kExitOk;
}

}  // namespace

Subcommand add_validate_command(CLI::App& app) {
  auto o = std::make_shared<ValidateOptions>();
  CLI::App* cmd = app.add_subcommand("validate", "Top-1/top-5 accuracy, per-class errors and confused pairs on labelled images");
  add_model_options(*cmd, o->model);
  cmd->add_option("dir", o->dir, "Folder of the images")->required();
  cmd->add_option("--labels", o->labels_csv, "CSV with file,class_index columns (files relative to DIR)");
  cmd->add_flag("--imagefolder", o->image_folder, "DIR/<class name>/<images>, class names from the model's labels");
  cmd->add_option("--json", o->json_path, "Also write the report as JSON to this file");
  add_image_read_options(*cmd, o->image_read);
  cmd->add_option("--against", o->against,
                  "Also run the model at this precision and compare, image by image: top-1 agreement, "
                  "KL divergence, logit differences (e.g. --precision int8 --against fp32)")
      ->check(CLI::IsMember({"fp32", "bf16", "int8"}));
  cmd->add_option("--confused", o->confused, "How many confused pairs to list")->check(CLI::Range(0, 100000))->capture_default_str();
  return {cmd, [o] { return run_validate(*o); }};
}

}  // namespace vitscope::cli
