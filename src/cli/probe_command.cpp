// vitscope probe KIND DIR: the lecture's claims measured on a trained ViT. Each kind runs forward
// variants over a folder of images (labelled or not) and scores them against the unmodified model.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>

#include <nlohmann/json.hpp>

#include "cli/commands.hpp"
#include "cli/model_options.hpp"
#include "cli/probe_report.hpp"
#include "vitscope/core/error.hpp"
#include "vitscope/io/dataset.hpp"
#include "vitscope/io/discover.hpp"
#include "vitscope/maps/cnn_maps.hpp"
#include "vitscope/models/cnn.hpp"
#include "vitscope/preprocess/preprocess.hpp"

namespace vitscope::cli {
namespace {

namespace fs = std::filesystem;

struct ProbeOptions {
  ModelOptions model;
  std::string kind;
  std::string dir;
  std::string labels_csv;
  std::string json_path;
  std::string out_dir;
  std::vector<int> windows{1, 3, 5, 7, 9, 11, 13, 15, 19, 27};
  std::vector<int> layers{2, 4, 6};
  std::string cnn;
  unsigned seed = 0;
  int chunk = 10;
  ImageReadFlags image_read;  // --exif, --decode
};

// The images of DIR (labelled by labels.csv when given), preprocessed; unreadable ones are error
// lines and left out.
ProbeImages load_probe_images(const ProbeOptions& options, const PreprocessConfig& config, ThreadPool& pool,
                              int& failed) {
  std::vector<std::string> paths;
  std::vector<int> labels;
  if (!options.labels_csv.empty()) {
    for (const LabelledImage& image : read_labelled_csv(options.labels_csv, options.dir)) {
      paths.push_back(image.path);
      labels.push_back(image.class_index);
    }
  } else {
    std::error_code ec;
    if (!fs::is_directory(options.dir, ec)) throw ConfigError(options.dir + ": not a folder");
    paths = discover_inputs({options.dir});
  }
  if (paths.empty()) throw ConfigError(options.dir + ": no images found");
  const ImageLoadOptions load = image_load_options(options.image_read, {config});
  std::vector<xt::xtensor<float, 3>> tensors(paths.size());
  std::vector<std::string> errors(paths.size());
  pool.run(static_cast<int>(paths.size()), [&](int i) {
    try {
      tensors[i] = preprocess(load_image(paths[i], load), config);
    } catch (const ImageError& e) {
      errors[i] = e.what();
    } catch (const std::exception& e) {
      errors[i] = paths[i] + ": " + e.what();
    }
  });
  ProbeImages images;
  std::size_t good = 0;
  for (std::size_t i = 0; i < paths.size(); ++i) good += errors[i].empty();
  images.images = xt::xtensor<float, 4>::from_shape(
      {good, 3, static_cast<std::size_t>(config.input_height), static_cast<std::size_t>(config.input_width)});
  std::size_t at = 0;
  for (std::size_t i = 0; i < paths.size(); ++i) {
    if (!errors[i].empty()) {
      std::cout << paths[i] << "\n  error: " << errors[i] << '\n';
      std::cerr << "vitscope: error: " << errors[i] << '\n';
      ++failed;
      continue;
    }
    std::copy(tensors[i].begin(), tensors[i].end(), images.images.begin() + static_cast<std::ptrdiff_t>(at * tensors[i].size()));
    images.paths.push_back(paths[i]);
    if (!labels.empty()) images.labels.push_back(labels[i]);
    ++at;
  }
  if (good == 0) throw ConfigError(options.dir + ": no readable image");
  return images;
}

void check_windows(const ProbeOptions& options) {
  for (int k : options.windows)
    if (k <= 0 || k % 2 == 0)
      throw ConfigError("--windows: " + std::to_string(k) + " is not a positive odd number of patches");
}

int run_probe(const ProbeOptions& options) {
  check_windows(options);
  const auto start = std::chrono::steady_clock::now();
  LoadedModel loaded = load_model(options.model);
  const auto* vit = dynamic_cast<const VitModel*>(loaded.model.get());
  if (!vit) throw ConfigError("probe: " + loaded.model->spec().name + " is not a Vision Transformer");
  const int depth = vit->config().depth;
  for (int l : options.layers)
    if (l < 1 || l > depth)
      throw ConfigError("--layers: " + std::to_string(l) + " is outside 1.." + std::to_string(depth));

  int failed = 0;
  const ProbeImages images = load_probe_images(options, vit->spec().preprocess, *loaded.pool, failed);
  const bool labelled = !images.labels.empty();
  VitProbe probe(*vit, loaded.session, images, options.chunk);
  const std::string& name = vit->spec().name;
  std::printf("%s, probe %s, on %zu images%s; intervals are 95%% (Wilson for shares, mean ± 1.96 SE "
              "for KL); agreement: top-1 equal to the unmodified model's\n",
              name.c_str(), options.kind.c_str(), images.paths.size(), labelled ? " with labels" : "");
  if (labelled)
    std::printf("unmodified: top-1 %s, top-5 %s\n", proportion_text(*probe.unmodified().top1).c_str(),
                proportion_text(*probe.unmodified().top5).c_str());
  std::printf("\n");

  nlohmann::json report = {{"model", name}, {"kind", options.kind}, {"images", images.paths.size()},
                           {"unreadable", failed}, {"labelled", labelled},
                           {"unmodified", scores_json(probe.unmodified())}};
  if (!options.out_dir.empty()) {
    std::error_code ec;
    fs::create_directories(options.out_dir, ec);
    if (ec) throw ConfigError(options.out_dir + ": cannot create folder: " + ec.message());
  }
  if (options.kind == "window") {
    const WindowProbe result = probe_windows(probe, options.windows, options.layers);
    print_window_probe(result, depth, labelled);
    report.update(window_probe_json(result));
    if (!options.cnn.empty()) {
      ModelOptions cnn_options;
      cnn_options.model = options.cnn;
      cnn_options.threads = 1;
      LoadedModel cnn = load_model(cnn_options);
      const auto* cnn_model = dynamic_cast<const CnnModel*>(cnn.model.get());
      if (!cnn_model) throw ConfigError("--cnn " + options.cnn + ": not a CNN");
      const PreprocessConfig& p = cnn_model->spec().preprocess;
      const std::vector<LayerReach> fields = layer_reach(*cnn_model, p.input_height, p.input_width);
      print_cnn_fields(fields, cnn_model->spec().name, vit->config().patch_size);
      report["cnn"] = cnn_model->spec().name;
      report["cnn_receptive_fields"] = cnn_fields_json(fields, vit->config().patch_size);
    }
    if (!options.out_dir.empty()) {
      const std::string plot = (fs::path(options.out_dir) / "window.png").string();
      write_window_plot(result, labelled, plot, name);
      report["files"] = {plot};
    }
  } else if (options.kind == "position") {
    const std::vector<NamedProbeRow> rows = probe_positions(probe, options.seed);
    print_named_probe(rows, "position", labelled);
    report.update(named_probe_json(rows, "position", depth));
    report["seed"] = options.seed;
  } else if (options.kind == "norm") {
    const std::vector<NamedProbeRow> rows = probe_normalisations(probe);
    print_named_probe(rows, "normalisation", labelled);
    report.update(named_probe_json(rows, "norm", depth));
  } else if (options.kind == "heads") {
    const std::vector<HeadProbeRow> rows = probe_heads(probe);
    print_head_probe(rows, labelled);
    report.update(head_probe_json(rows));
  } else {  // conv
    const ConvProbe result = probe_convolutions(probe);
    print_conv_probe(result, labelled);
    report.update(conv_probe_json(result));
    if (!options.out_dir.empty()) {
      const std::string image = (fs::path(options.out_dir) / "conv_kernels.png").string();
      write_kernel_images(result, vit->config().heads, image);
      report["files"] = {image};
    }
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("\n%.1f s on %d threads\n", seconds, loaded.pool->size());
  report["seconds"] = seconds;
  if (!options.json_path.empty()) {
    std::ofstream out(options.json_path);
    out << report.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
    if (!out) throw ConfigError(options.json_path + ": cannot write");
  }
  return failed > 0 ? kExitSomeInputsFailed : kExitOk;
}

}  // namespace

Subcommand add_probe_command(CLI::App& app) {
  auto o = std::make_shared<ProbeOptions>();
  CLI::App* cmd = app.add_subcommand(
      "probe", "Run a ViT with the lecture's variants (truncated attention, no positional embedding, "
               "ReLU instead of softmax, heads off, heads as convolutions) and measure what changes");
  add_model_options(*cmd, o->model);
  cmd->add_option("kind", o->kind, "window | position | norm | heads | conv")
      ->required()
      ->check(CLI::IsMember({"window", "position", "norm", "heads", "conv"}));
  cmd->add_option("dir", o->dir, "Folder of the images")->required();
  add_image_read_options(*cmd, o->image_read);
  cmd->add_option("--labels", o->labels_csv,
                  "CSV with file,class_index columns (files relative to DIR); without it, only agreement "
                  "with the unmodified model");
  cmd->add_option("--json", o->json_path, "Also write every number as JSON to this file");
  cmd->add_option("--out", o->out_dir, "Folder for pictures (window: window.png; conv: conv_kernels.png)");
  cmd->add_option("--windows", o->windows, "window: the window sizes k (odd)")->delimiter(',')->capture_default_str();
  cmd->add_option("--layers", o->layers, "window: also windows in the first L blocks only, for each L")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_option("--cnn", o->cnn, "window: a CNN whose receptive field per layer is listed in patches");
  cmd->add_option("--seed", o->seed, "position: seed of the permutation of the patch rows")->capture_default_str();
  cmd->add_option("--chunk", o->chunk, "Images per forward pass")->check(CLI::Range(1, 256))->capture_default_str();
  return {cmd, [o] { return run_probe(*o); }};
}

}  // namespace vitscope::cli
