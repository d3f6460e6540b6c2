// vitscope compare: a ViT's attention next to a CNN's maps on the same photos, with how far each
// model sees by depth. Writes panel.png, receptive_fields.png and compare.json per image, and with
// --summary the receptive-field curves' means and intervals over all images.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>

#include <nlohmann/json.hpp>

#include "cli/commands.hpp"
#include "cli/model_options.hpp"
#include "vitscope/core/json_path.hpp"
#include "vitscope/maps/compare.hpp"
#include "vitscope/models/vit_backprop.hpp"
#include "vitscope/render/compare_figures.hpp"
#include "vitscope/io/discover.hpp"
#include "vitscope/core/error.hpp"
#include "vitscope/render/render.hpp"

namespace fs = std::filesystem;
using nlohmann::json;

namespace vitscope::cli {
namespace {

struct CompareCommandOptions {
  std::string vit = "deit_tiny_patch16_224";
  std::string cnn = "mobilenet_v1_0.75_224";
  int threads = 0;
  int layer = 0;   // 1-based on the command line; 0: the last
  int cls = -1;
  std::string fusion = "mean";
  double discard = 0;
  bool no_erf = false;
  bool summary = false;
  std::string maps = "rollout,grad-rollout,cam,grad-cam";
  std::string gradcam_layer;  // empty: default_gradcam_layer()
  std::uint64_t seed = 0;
  std::string out = "compare_out";
  ImageReadFlags image_read;  // --exif, --decode
  std::vector<std::string> paths;
};

json predictions_json(const std::vector<Prediction>& top) {
  json out = json::array();
  int rank = 1;
  for (const Prediction& p : top)
    out.push_back({{"rank", rank++}, {"class_index", p.class_index}, {"label", p.label}, {"probability", p.probability}});
  return out;
}

json number(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }

json spread_json(const MassSpread& s) {
  return {{"size_95_px", number(s.size)}, {"mean_distance_px", number(s.mean_distance)}, {"sigma_px", number(s.sigma)}};
}

json maps_json(const std::vector<ExplanationMap>& maps) {
  json out = json::array();
  for (const ExplanationMap& m : maps) {
    json rows = json::array();
    for (std::size_t y = 0; y < m.map.shape(0); ++y) {
      json row = json::array();
      for (std::size_t x = 0; x < m.map.shape(1); ++x) row.push_back(m.map(y, x));
      rows.push_back(row);
    }
    out.push_back({{"method", explanation_method_info(m.method).name}, {"grid", {m.map.shape(0), m.map.shape(1)}}, {"values", rows}});
  }
  return out;
}

json curve_json(const std::vector<double>& x, const std::vector<std::string>* names, const CurveStat& curve) {
  json out = json::array();
  for (std::size_t i = 0; i < x.size() && i < curve.mean.size(); ++i) {
    json point = {{"relative_depth", x[i]}, {"mean", number(curve.mean[i])}, {"low", number(curve.low[i])},
                  {"high", number(curve.high[i])}};
    if (names) point["layer"] = (*names)[i];
    out.push_back(point);
  }
  return out;
}

json reach_json(const ReachCurves& r) {
  return {{"images", r.images},
          {"interval", "mean ± 1.96 standard errors over the images"},
          {"vit", {{"erf_size_95_px", curve_json(r.vit_depth, nullptr, r.vit_erf_size)},
                   {"erf_mean_distance_px", curve_json(r.vit_depth, nullptr, r.vit_erf_distance)},
                   {"mean_attention_distance_px", curve_json(r.vit_depth, nullptr, r.vit_attention_distance)}}},
          {"cnn", {{"erf_size_95_px", curve_json(r.cnn_depth, &r.cnn_layers, r.cnn_erf_size)},
                   {"erf_mean_distance_px", curve_json(r.cnn_depth, &r.cnn_layers, r.cnn_erf_distance)},
                   {"theoretical_rf_px", curve_json(r.cnn_depth, &r.cnn_layers, r.cnn_theoretical)},
                   {"one_hop_mean_distance_px", curve_json(r.cnn_hop_depth, &r.cnn_hop_layers, r.cnn_one_hop)}}}};
}

json comparison_json(const Comparison& c, const std::string& vit_name, const std::string& cnn_name,
                     const CompareOptions& options) {
  json vit = {{"model", vit_name}, {"top", predictions_json(c.vit_top)}};
  vit["rollout"] = {{"head_fusion", head_fusion_name(options.rollout.fusion)},
                    {"discard_ratio", options.rollout.discard_ratio},
                    {"grid", {c.rollout.shape(0), c.rollout.shape(1)}}};
  vit["head_attention_layer"] = c.vit_layer + 1;
  json layers = json::array();
  for (std::size_t l = 0; l < c.attention_distance.shape(0); ++l) {
    json heads = json::array();
    double mean = 0;
    for (std::size_t h = 0; h < c.attention_distance.shape(1); ++h) {
      heads.push_back(c.attention_distance(l, h));
      mean += c.attention_distance(l, h) / static_cast<double>(c.attention_distance.shape(1));
    }
    json entry = {{"layer", l + 1},
                  {"relative_depth", static_cast<double>(l + 1) / static_cast<double>(c.attention_distance.shape(0))},
                  {"mean_attention_distance_px", mean},
                  {"per_head_px", heads}};
    if (l < c.vit_reach.size()) entry["erf_centre_token"] = spread_json(c.vit_reach[l].erf);
    layers.push_back(entry);
  }
  vit["layers"] = layers;
  vit["erf_centre_token_index"] = c.vit_erf_token;
  vit["erf_class_token_last_block"] = spread_json(c.vit_class_erf);
  vit["explained_class"] = c.vit_class;
  vit["maps"] = maps_json(c.vit_maps);

  json cnn = {{"model", cnn_name}, {"top", predictions_json(c.cnn_top)}};
  cnn["cam"] = {{"class_index", c.cam_class}, {"label", c.cam_label}, {"grid", {c.cam.shape(0), c.cam.shape(1)}}};
  int max_depth = 1;
  for (const LayerReach& r : c.cnn_reach) max_depth = std::max(max_depth, r.depth);
  json cnn_layers = json::array();
  for (const LayerReach& r : c.cnn_reach) {
    json entry = {{"name", r.name},
                  {"op", cnn_op_name(r.op)},
                  {"depth", r.depth},
                  {"relative_depth", static_cast<double>(r.depth) / max_depth},
                  {"theoretical_rf_px", r.theoretical_size},
                  {"jump_px", r.jump}};
    entry["effective_rf_px"] = number(r.effective_size);
    entry["effective_rf_sigma_px"] = number(r.effective_sigma);
    entry["effective_rf_mean_distance_px"] = number(r.effective_mean_distance);
    entry["one_hop_mean_distance_px"] = r.one_hop_mean_distance;
    cnn_layers.push_back(entry);
  }
  cnn["layers"] = cnn_layers;
  cnn["maps"] = maps_json(c.cnn_maps);
  return {{"vit", vit},
          {"cnn", cnn},
          {"overlap", {{"top_fraction", options.top_fraction},
                       {"iou_top_regions", c.top_region_iou},
                       {"correlation", c.map_correlation},
                       {"same_frame", c.same_frame}}}};
}

// "123 px", or "—" for a size that was not measured (--no-erf leaves it NaN).
std::string pixels(double size) {
  if (!std::isfinite(size)) return "\u2014";
  char text[32];
  std::snprintf(text, sizeof text, "%.0f px", size);
  return text;
}

void print_summary(const std::string& path, const Comparison& c, const std::string& vit_name,
                   const std::string& cnn_name, const fs::path& dir, const CompareOptions& options) {
  const Prediction& v = c.vit_top.front();
  const Prediction& n = c.cnn_top.front();
  const double first_distance = c.attention_distance.shape(0) ? [&] {
    double m = 0;
    for (std::size_t h = 0; h < c.attention_distance.shape(1); ++h) m += c.attention_distance(0, h);
    return m / static_cast<double>(c.attention_distance.shape(1));
  }() : 0.0;
  double last_distance = 0;
  const std::size_t L = c.attention_distance.shape(0);
  for (std::size_t h = 0; h < c.attention_distance.shape(1); ++h)
    last_distance += c.attention_distance(L - 1, h) / static_cast<double>(c.attention_distance.shape(1));
  const LayerReach& deepest = c.cnn_reach.back();
  const double vit_erf = c.vit_reach.empty() ? NAN : c.vit_reach.back().erf.size;
  double widest_kernel = 0;
  for (const LayerReach& r : c.cnn_reach) widest_kernel = std::max(widest_kernel, r.one_hop_mean_distance);
  char buf[1400];
  std::snprintf(buf, sizeof buf,
                "%s\n"
                "  ViT %s: %s %.1f%%   CNN %s: %s %.1f%%   -> the %s is more confident%s\n"
                "  where they look: IoU of the top-%.0f%% regions %.2f, correlation %.2f (rollout vs CAM of '%s')\n"
                "  how far they see (cumulative): effective field of the centre token %s after the last block; "
                "CNN: %s at %s (theoretical %d px)\n"
                "  one hop: ViT mean attention distance %.0f px (layer 1) -> %.0f px (layer %zu); CNN kernel reach at most %.0f px\n"
                "  wrote %s/{panel.png, receptive_fields.png, compare.json}\n",
                path.c_str(), vit_name.c_str(), v.label.c_str(), 100 * v.probability, cnn_name.c_str(),
                n.label.c_str(), 100 * n.probability, v.probability >= n.probability ? "ViT" : "CNN",
                v.class_index == n.class_index ? " (same class)" : " (different classes)",
                100 * options.top_fraction, c.top_region_iou, c.map_correlation, c.cam_label.c_str(),
                pixels(vit_erf).c_str(), pixels(deepest.effective_size).c_str(), deepest.name.c_str(), deepest.theoretical_size, first_distance, last_distance, L,
                widest_kernel, dir.string().c_str());
  std::cout << buf;
  std::cout.flush();
}

// An input that failed: its error row on stdout, the message naming the file on stderr.
void report_failure(const std::string& input, const std::string& problem, const std::string& message) {
  std::cout << input << "\n  error: " << problem << '\n';
  std::cerr << "vitscope: error: " << message << '\n';
}

// One output folder per input: the --out folder itself for a single image, else a sub-folder named
// after the file (made unique when two inputs share a name).
std::vector<fs::path> output_dirs(const std::vector<std::string>& inputs, const fs::path& out) {
  if (inputs.size() == 1) return {out};
  std::vector<fs::path> dirs;
  std::set<std::string> used;
  for (const std::string& input : inputs) {
    std::string name = fs::path(input).stem().string();
    if (name.empty()) name = "image";
    std::string unique = name;
    for (int i = 2; used.count(unique); ++i) unique = name + "_" + std::to_string(i);
    used.insert(unique);
    dirs.push_back(out / unique);
  }
  return dirs;
}

// --out must be a folder, or a path that can become one: its nearest existing ancestor a folder
// (below a regular file no folder can be made, and every image would fail on it).
void check_out_folder(const std::string& out) {
  for (fs::path path = out; !path.empty(); path = path.parent_path()) {
    std::error_code ec;
    const fs::file_status status = fs::status(path, ec);
    if (status.type() == fs::file_type::not_found) {
      if (path == path.parent_path()) return;
      continue;
    }
    if (ec) throw ConfigError("--out " + out + ": cannot examine " + path.string() + ": " + ec.message());
    if (fs::is_directory(status)) return;
    throw ConfigError("--out " + out + ": " + (path == out ? "exists and" : path.string()) + " is not a folder");
  }
}

int run_compare(const CompareCommandOptions& options) {
  ModelOptions vit_options, cnn_options;
  vit_options.model = options.vit;
  cnn_options.model = options.cnn;
  vit_options.threads = cnn_options.threads = options.threads;
  LoadedModel vit_loaded = load_model(vit_options);
  LoadedModel cnn_loaded = load_model(cnn_options);
  auto* vit = dynamic_cast<VitModel*>(vit_loaded.model.get());
  auto* cnn = dynamic_cast<CnnModel*>(cnn_loaded.model.get());
  if (!vit) throw ConfigError("--vit " + options.vit + ": not a Vision Transformer");
  if (!cnn) throw ConfigError("--cnn " + options.cnn + ": not a CNN (mobilenet_v1 or resnet)");
  if (options.layer > vit->config().depth)
    throw ConfigError("--layer " + std::to_string(options.layer) + ": the ViT has " +
                      std::to_string(vit->config().depth) + " layers");
  const int classes = std::min(vit->num_classes(), cnn->num_classes());
  if (options.cls >= classes)
    throw ConfigError("--class " + std::to_string(options.cls) + ": out of range (the models have " +
                      std::to_string(classes) + " classes)");
  check_out_folder(options.out);

  CompareOptions compare;
  compare.rollout = {parse_head_fusion(options.fusion), options.discard};
  compare.vit_layer = options.layer - 1;
  compare.explained_class = options.cls;
  compare.effective_fields = !options.no_erf;
  compare.methods = parse_explanation_methods(options.maps, "--maps");
  compare.explanation.seed = options.seed;
  if (!options.gradcam_layer.empty()) compare.explanation.gradcam_layer = cnn->find_layer(options.gradcam_layer);
  if (compare.explanation.gradcam_layer > cnn->feature_layer())
    throw ConfigError("--gradcam-layer " + options.gradcam_layer + ": after the pooled features");
  const VitBackprop backprop(*vit);  // the ViT runs in fp32 here
  const std::vector<std::string>& labels = vit_loaded.labels.empty() ? cnn_loaded.labels : vit_loaded.labels;
  const std::string vit_name = vit->spec().name, cnn_name = cnn->spec().name;
  const ImageLoadOptions load = image_load_options(options.image_read, {vit->spec().preprocess, cnn->spec().preprocess});

  const std::vector<std::string> inputs = discover_inputs(options.paths);
  const std::vector<fs::path> dirs = output_dirs(inputs, options.out);
  int failed = 0;
  std::vector<ReachCurves> summary_curves;
  std::string size_text;
  auto input_size = [&](const Comparison& c) {
    size_text = std::to_string(c.vit_view.shape(1)) + "x" + std::to_string(c.vit_view.shape(0));
    return size_text;
  };
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    try {
      const RgbImage photo = load_image(inputs[i], load);
      compare.explanation.image_index = static_cast<int>(i);
      const Comparison c = compare_models(*vit, &backprop, *cnn, vit_loaded.session, photo, labels, compare);
      const ReachCurves curves = reach_curves(c);
      if (options.summary) summary_curves.push_back(curves);
      std::error_code ec;
      fs::create_directories(dirs[i], ec);
      if (ec) throw ConfigError(dirs[i].string() + ": cannot create folder: " + ec.message());
      const fs::path panel = dirs[i] / "panel.png", plot = dirs[i] / "receptive_fields.png",
                     report = dirs[i] / "compare.json";
      render::write_png(panel.string(), render::compare_panel(c, vit_name, cnn_name, compare.rollout));
      render::write_png(plot.string(), render::receptive_field_plot(curves, vit_name, cnn_name, input_size(c)));
      json j = comparison_json(c, vit_name, cnn_name, compare);
      j["receptive_fields"] = reach_json(curves);
      put_path(j, "image", inputs[i]);
      j["files"] = {panel.string(), plot.string(), report.string()};
      std::ofstream out(report);
      out << j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
      if (!out) throw ConfigError(report.string() + ": cannot write");
      print_summary(inputs[i], c, vit_name, cnn_name, dirs[i], compare);
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
  if (inputs.empty()) {
    std::cerr << "vitscope: error: no images found in the given paths\n";
    return kExitSomeInputsFailed;
  }
  if (options.summary && !summary_curves.empty()) {
    const ReachCurves summary = summarize_reach(summary_curves);
    const fs::path dir = fs::path(options.out) / "summary";
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) throw ConfigError(dir.string() + ": cannot create folder: " + ec.message());
    render::write_png((dir / "receptive_fields.png").string(),
                      render::receptive_field_plot(summary, vit_name, cnn_name, size_text));
    std::ofstream out(dir / "summary.json");
    out << json({{"vit", vit_name}, {"cnn", cnn_name}, {"receptive_fields", reach_json(summary)}}).dump(2) << '\n';
    if (!out) throw ConfigError((dir / "summary.json").string() + ": cannot write");
    std::cout << "summary over " << summary.images << " images: wrote " << dir.string()
              << "/{receptive_fields.png, summary.json}\n";
  }
  return failed > 0 ? kExitSomeInputsFailed : kExitOk;
}

}  // namespace

Subcommand add_compare_command(CLI::App& app) {
  auto o = std::make_shared<CompareCommandOptions>();
  CLI::App* cmd = app.add_subcommand(
      "compare", "Show a ViT's attention next to a CNN's maps, and how far each model sees by depth");
  cmd->add_option("--vit", o->vit, "ViT model name or .safetensors file")->capture_default_str();
  cmd->add_option("--cnn", o->cnn, "CNN model name or .safetensors file")->capture_default_str();
  cmd->add_option("--layer", o->layer, "ViT layer (1-based) whose per-head attention is shown (default: last)")
      ->check(CLI::Range(1, 1000));
  cmd->add_option("--class", o->cls, "Class index the class-specific maps of both models explain (default: each model's top-1)")
      ->check(CLI::Range(0, 1000000));
  cmd->add_option("--maps", o->maps,
                  "Maps to draw, comma-separated: raw-attention, rollout, grad-rollout, input-x-gradient (ViT); "
                  "cam, grad-cam (CNN); random, gaussian (baselines)")
      ->capture_default_str();
  cmd->add_option("--gradcam-layer", o->gradcam_layer, "CNN layer of Grad-CAM (default: the last layer on the 16-pixel patch grid, conv_pw_11 for MobileNet v1)");
  cmd->add_option("--seed", o->seed, "Seed of the random baseline map")->capture_default_str();
  cmd->add_flag("--summary", o->summary,
                "Also write summary/receptive_fields.png and summary/summary.json: each receptive-field curve's "
                "mean and 95% interval over the images");
  cmd->add_option("--head-fusion", o->fusion, "How rollout combines heads")
      ->check(CLI::IsMember({"mean", "max", "min"}))
      ->capture_default_str();
  cmd->add_option("--discard", o->discard, "Fraction of the lowest attentions rollout discards")
      ->check(CLI::Range(0.0, 0.99))
      ->capture_default_str();
  cmd->add_flag("--no-erf", o->no_erf, "Skip both models' effective receptive fields (one backward pass per block / layer)");
  add_image_read_options(*cmd, o->image_read);
  cmd->add_option("--threads,-t", o->threads, "Worker threads (default: all cores)")->check(CLI::Range(1, 1024));
  cmd->add_option("--out,-o", o->out, "Output folder (one sub-folder per image when several)")
      ->capture_default_str();
  cmd->add_option("paths", o->paths, "Image files or folders")->required();
  return {cmd, [o] { return run_compare(*o); }};
}

}  // namespace vitscope::cli
