// vitscope faithfulness: which explanation map shows what the model used? Every method of a ViT
// and a CNN through the perturbation tests on the same images, summarised with intervals.
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "cli/commands.hpp"
#include "cli/faithfulness_report.hpp"
#include "cli/model_options.hpp"
#include "vitscope/core/error.hpp"
#include "vitscope/io/discover.hpp"
#include "vitscope/io/image.hpp"
#include "vitscope/preprocess/preprocess.hpp"

namespace fs = std::filesystem;

namespace vitscope::cli {
namespace {

struct FaithfulnessOptions {
  std::string vit = "deit_tiny_patch16_224";
  std::string cnn = "mobilenet_v1_0.75_224";
  std::string methods = "raw-attention,rollout,grad-rollout,input-x-gradient,cam,grad-cam,random,gaussian";
  std::string gradcam_layer;
  std::string json;
  std::string plot;
  std::uint64_t seed = 0;
  int batch = 16;
  ImageReadFlags image_read;  // --exif, --decode
  int threads = 0;
  std::vector<std::string> paths;
};

struct ModelRun {
  std::string family;
  LoadedModel loaded;
  std::vector<ExplanationMethod> methods;
  std::vector<std::vector<PerturbationCurves>> curves;  // [method][image]
  double seconds = 0;
};

xt::xtensor<float, 3> preprocess(const RgbImage& photo, const ImageClassifier& model) {
  const PreprocessConfig& c = model.spec().preprocess;
  return normalize_image(resize_and_crop(photo, c), c.mean, c.std);
}

// An input that failed: the message naming the file on stderr (below the progress line), its error
// row on stdout.
void report_failure(const std::string& input, const std::string& problem, const std::string& message) {
  std::cerr << "\nvitscope: error: " << message << '\n';
  std::cout << input << "\n  error: " << problem << '\n';
}

int run_faithfulness(const FaithfulnessOptions& options) {
  const std::vector<ExplanationMethod> methods = parse_explanation_methods(options.methods, "--methods");
  // Files written after all the scoring: what would stop them is refused before it.
  for (const std::string& file : {options.json, options.plot}) {
    if (file.empty()) continue;
    if (fs::is_directory(file)) throw ConfigError(file + ": is a folder, not a file");
    const fs::path folder = fs::path(file).has_parent_path() ? fs::path(file).parent_path() : fs::path(".");
    std::error_code ec;
    if (!fs::is_directory(folder, ec))
      throw ConfigError(file + ": " + folder.string() + (fs::exists(folder, ec) ? " is not a folder" : " does not exist"));
  }
  ModelOptions vit_options, cnn_options;
  vit_options.model = options.vit;
  cnn_options.model = options.cnn;
  vit_options.threads = cnn_options.threads = options.threads;
  ModelRun vit_run{"ViT", load_model(vit_options), {}, {}, 0};
  ModelRun cnn_run{"CNN", load_model(cnn_options), {}, {}, 0};
  const auto* vit = dynamic_cast<const VitModel*>(vit_run.loaded.model.get());
  const auto* cnn = dynamic_cast<const CnnModel*>(cnn_run.loaded.model.get());
  if (!vit) throw ConfigError("--vit " + options.vit + ": not a Vision Transformer (it has no attention to explain)");
  if (!cnn) throw ConfigError("--cnn " + options.cnn + ": not a CNN (mobilenet_v1 or resnet)");
  for (ExplanationMethod m : methods) {
    if (explanation_method_info(m).vit) vit_run.methods.push_back(m);
    if (explanation_method_info(m).cnn) cnn_run.methods.push_back(m);
  }
  vit_run.curves.resize(vit_run.methods.size());
  cnn_run.curves.resize(cnn_run.methods.size());
  ExplanationOptions explanation;
  explanation.seed = options.seed;
  if (!options.gradcam_layer.empty()) {
    explanation.gradcam_layer = cnn->find_layer(options.gradcam_layer);
    if (explanation.gradcam_layer > cnn->feature_layer())
      throw ConfigError("--gradcam-layer " + options.gradcam_layer + ": after the pooled features");
  }
  PerturbationProtocol protocol;
  protocol.batch = options.batch;
  const VitBackprop backprop(*vit);

  const std::vector<std::string> inputs = discover_inputs(options.paths);
  if (inputs.empty()) {
    std::cerr << "vitscope: error: no images found in the given paths\n";
    return kExitSomeInputsFailed;
  }
  const ImageLoadOptions load = image_load_options(options.image_read, {vit->spec().preprocess, cnn->spec().preprocess});
  int failed = 0, done = 0;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    try {
      const RgbImage photo = load_image(inputs[i], load);
      explanation.image_index = static_cast<int>(i);
      auto start = std::chrono::steady_clock::now();
      const auto vit_curves = vit_faithfulness(*vit, backprop, vit_run.loaded.session, preprocess(photo, *vit),
                                               vit_run.methods, explanation, protocol);
      auto middle = std::chrono::steady_clock::now();
      const auto cnn_curves = cnn_faithfulness(*cnn, cnn_run.loaded.session, preprocess(photo, *cnn), cnn_run.methods,
                                               explanation, protocol);
      auto end = std::chrono::steady_clock::now();
      vit_run.seconds += std::chrono::duration<double>(middle - start).count();
      cnn_run.seconds += std::chrono::duration<double>(end - middle).count();
      for (std::size_t m = 0; m < vit_curves.size(); ++m) vit_run.curves[m].push_back(vit_curves[m]);
      for (std::size_t m = 0; m < cnn_curves.size(); ++m) cnn_run.curves[m].push_back(cnn_curves[m]);
      ++done;
      std::cerr << "\rfaithfulness: " << done << "/" << inputs.size() << " images" << std::flush;
    } catch (const ImageError& e) {  // its message names the file
      report_failure(inputs[i], e.what(), e.what());
      ++failed;
    } catch (const ModelOutputError& e) {
      report_failure(inputs[i], e.what(), inputs[i] + ": " + e.what());
      ++failed;
    } catch (const ConfigError& e) {
      report_failure(inputs[i], e.what(), inputs[i] + ": " + e.what());
      ++failed;
    }
  }
  std::cerr << '\n';
  if (done == 0) {
    std::cerr << "vitscope: error: no image could be scored\n";
    return kExitSomeInputsFailed;
  }

  std::vector<FaithfulnessSummary> rows;
  for (ModelRun* run : {&vit_run, &cnn_run}) {
    const ExplanationMethod reference = run == &vit_run ? ExplanationMethod::Rollout : ExplanationMethod::Cam;
    for (FaithfulnessSummary& s :
         summarize_faithfulness(run->loaded.model->spec().name, run->methods, run->curves, reference)) {
      s.family = run->family;
      rows.push_back(std::move(s));
    }
  }
  std::cout << "faithfulness of each map on " << done << (done == 1 ? " image" : " images") << " (each model's own top-1 class; 95% bootstrap intervals)\n"
            << "ViT " << vit->spec().name << ": " << vit_run.seconds << " s; CNN " << cnn->spec().name << ": "
            << cnn_run.seconds << " s\n";
  print_faithfulness_table(rows);
  nlohmann::json report = faithfulness_json(rows, protocol);
  report["images"] = done;
  report["failed"] = failed;
  report["seconds"] = {{"vit", vit_run.seconds}, {"cnn", cnn_run.seconds}};
  if (!options.json.empty()) {
    std::ofstream out(options.json);
    out << report.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
    if (!out) throw ConfigError(options.json + ": cannot write");
  }
  if (!options.plot.empty()) write_faithfulness_plot(options.plot, rows, protocol);
  return failed > 0 ? kExitSomeInputsFailed : kExitOk;
}

}  // namespace

Subcommand add_faithfulness_command(CLI::App& app) {
  auto o = std::make_shared<FaithfulnessOptions>();
  CLI::App* cmd = app.add_subcommand(
      "faithfulness",
      "Score explanation maps by perturbation: remove the patches a map ranks first (or last) and see whether "
      "the model's top-1 and its probability hold");
  cmd->add_option("--vit", o->vit, "ViT model name or .safetensors file")->capture_default_str();
  cmd->add_option("--cnn", o->cnn, "CNN model name or .safetensors file")->capture_default_str();
  cmd->add_option("--methods", o->methods,
                  "Maps to score, comma-separated: raw-attention, rollout, grad-rollout, input-x-gradient (ViT); "
                  "cam, grad-cam (CNN); random, gaussian (baselines, for both)")
      ->capture_default_str();
  cmd->add_option("--gradcam-layer", o->gradcam_layer,
                  "CNN layer of Grad-CAM (default: the last layer on the 16-pixel patch grid)");
  cmd->add_option("--json", o->json, "Write every number (AUCs, intervals, paired differences, curves) to this file");
  cmd->add_option("--plot", o->plot, "Draw the mean curves of every map into this PNG");
  cmd->add_option("--seed", o->seed, "Seed of the random baseline (image i uses seed + i)")->capture_default_str();
  cmd->add_option("--batch", o->batch, "Perturbed images per forward pass")->check(CLI::Range(1, 256))->capture_default_str();
  add_image_read_options(*cmd, o->image_read);
  cmd->add_option("--threads,-t", o->threads, "Worker threads (default: all cores)")->check(CLI::Range(1, 1024));
  cmd->add_option("paths", o->paths, "Image files or folders")->required();
  return {cmd, [o] { return run_faithfulness(*o); }};
}

}  // namespace vitscope::cli
