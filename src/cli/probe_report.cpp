#include "cli/probe_report.hpp"

#include <algorithm>
#include <cstdio>
#include <iostream>

#include <opencv2/imgproc.hpp>

#include "vitscope/render/render.hpp"

namespace vitscope::cli {
namespace {

std::string layers_text(int layers) { return layers == 0 ? "all" : "first " + std::to_string(layers); }

std::string optional_text(const std::optional<Proportion>& p) { return p ? proportion_text(*p) : "—"; }

void add_proportion(nlohmann::json& j, const char* name, const std::optional<Proportion>& p) {
  if (!p) {
    j[name] = nullptr;
    return;
  }
  j[name] = p->value;
  j[std::string(name) + "_low"] = p->low;
  j[std::string(name) + "_high"] = p->high;
  j[std::string(name) + "_count"] = p->count;
}

cv::Scalar curve_colour(std::size_t i) {
  static const cv::Scalar palette[] = {{180, 119, 31}, {14, 127, 255}, {44, 160, 44}, {40, 39, 214},
                                       {189, 103, 148}, {75, 86, 140}};
  return palette[i % 6];
}

}  // namespace

std::string proportion_text(const Proportion& p) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%5.1f%% [%.1f, %.1f]", 100 * p.value, 100 * p.low, 100 * p.high);
  return buf;
}

std::string mean_text(const MeanInterval& m) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.3f [%.3f, %.3f]", m.mean, m.low, m.high);
  return buf;
}

nlohmann::json scores_json(const ProbeScores& s) {
  nlohmann::json j;
  add_proportion(j, "top1", s.top1);
  add_proportion(j, "top5", s.top5);
  add_proportion(j, "agreement", s.agreement);
  j["kl"] = s.kl.mean;
  j["kl_low"] = s.kl.low;
  j["kl_high"] = s.kl.high;
  j["images"] = s.agreement.n;
  return j;
}

void print_window_probe(const WindowProbe& probe, int depth, bool labelled) {
  std::printf("%-8s %6s %6s  %-22s %-22s %-22s %s\n", "layers", "window", "work", "top-1", "top-5",
              "agreement", "KL (nats)");
  for (const WindowProbeRow& row : probe.rows)
    std::printf("%-8s %6d %6.3f  %-22s %-22s %-22s %s\n", layers_text(row.layers).c_str(), row.window,
                row.key_share, labelled ? optional_text(row.scores.top1).c_str() : "—",
                labelled ? optional_text(row.scores.top5).c_str() : "—",
                proportion_text(row.scores.agreement).c_str(), mean_text(row.scores.kl).c_str());
  std::printf("\nattention of the unmodified model outside the window, %% of each patch query's weight "
              "(mean over images, heads and patch queries), by block:\n%-6s", "window");
  for (int b = 0; b < depth; ++b) std::printf(" %6d", b + 1);
  std::printf("\n");
  for (std::size_t w = 0; w < probe.windows.size(); ++w) {
    std::printf("%-6d", probe.windows[w]);
    for (double x : probe.outside[w]) std::printf(" %6.1f", 100 * x);
    std::printf("\n");
  }
}

nlohmann::json window_probe_json(const WindowProbe& probe) {
  nlohmann::json rows = nlohmann::json::array();
  for (const WindowProbeRow& row : probe.rows) {
    nlohmann::json j = scores_json(row.scores);
    j["window"] = row.window;
    j["layers"] = row.layers == 0 ? nlohmann::json("all") : nlohmann::json(row.layers);
    j["attention_work_share"] = row.key_share;
    rows.push_back(j);
  }
  nlohmann::json outside = nlohmann::json::array();
  for (std::size_t w = 0; w < probe.windows.size(); ++w)
    outside.push_back({{"window", probe.windows[w]}, {"outside_share_per_block", probe.outside[w]}});
  return {{"rows", rows}, {"attention_outside_window", outside}};
}

void write_window_plot(const WindowProbe& probe, bool labelled, const std::string& path,
                       const std::string& model_name) {
  std::vector<render::PlotSeries> series;
  std::vector<int> layer_counts;
  for (const WindowProbeRow& row : probe.rows)
    if (std::find(layer_counts.begin(), layer_counts.end(), row.layers) == layer_counts.end())
      layer_counts.push_back(row.layers);
  for (std::size_t i = 0; i < layer_counts.size(); ++i) {
    render::PlotSeries agreement{"agreement, window in " + layers_text(layer_counts[i]) + " blocks", {}, {},
                                 curve_colour(i), render::PlotSeries::Style::LineDots, {}, {}};
    render::PlotSeries accuracy{"top-1 accuracy, window in " + layers_text(layer_counts[i]) + " blocks", {}, {},
                                curve_colour(i), render::PlotSeries::Style::Dots, {}, {}};
    for (const WindowProbeRow& row : probe.rows) {
      if (row.layers != layer_counts[i]) continue;
      agreement.x.push_back(row.window);
      agreement.y.push_back(100 * row.scores.agreement.value);
      if (row.scores.top1) {
        accuracy.x.push_back(row.window);
        accuracy.y.push_back(100 * row.scores.top1->value);
      }
    }
    series.push_back(agreement);
    if (labelled) series.push_back(accuracy);
  }
  render::PlotOptions options;
  options.title = model_name + ": truncated attention (k x k window of patches)";
  options.x_label = "window k (patches)";
  options.y_label = labelled ? "% agreement with the full model (lines), % top-1 (dots)"
                             : "% top-1 agreement with the full model";
  render::write_png(path, render::plot(series, options));
}

void print_cnn_fields(const std::vector<LayerReach>& layers, const std::string& cnn_name, int patch_size) {
  std::printf("\n%s: theoretical receptive field per layer, in %d-pixel patches (a ViT block with a "
              "window of k sees k patches across):\n",
              cnn_name.c_str(), patch_size);
  for (const LayerReach& l : layers)
    std::printf("  %-16s depth %2d  %4d px = %5.1f patches\n", l.name.c_str(), l.depth, l.theoretical_size,
                double(l.theoretical_size) / patch_size);
}

nlohmann::json cnn_fields_json(const std::vector<LayerReach>& layers, int patch_size) {
  nlohmann::json out = nlohmann::json::array();
  for (const LayerReach& l : layers)
    out.push_back({{"layer", l.name}, {"depth", l.depth}, {"receptive_field_pixels", l.theoretical_size},
                   {"receptive_field_patches", double(l.theoretical_size) / patch_size}});
  return out;
}

void print_named_probe(const std::vector<NamedProbeRow>& rows, const char* what, bool labelled) {
  std::printf("%-18s %-22s %-22s %-22s %s\n", what, "top-1", "top-5", "agreement", "KL (nats)");
  for (const NamedProbeRow& row : rows)
    std::printf("%-18s %-22s %-22s %-22s %s\n", row.name.c_str(),
                labelled ? optional_text(row.scores.top1).c_str() : "—",
                labelled ? optional_text(row.scores.top5).c_str() : "—",
                proportion_text(row.scores.agreement).c_str(), mean_text(row.scores.kl).c_str());
}

nlohmann::json named_probe_json(const std::vector<NamedProbeRow>& rows, const char* parameter, int depth) {
  nlohmann::json out = nlohmann::json::array();
  for (const NamedProbeRow& row : rows) {
    nlohmann::json j = scores_json(row.scores);
    j[parameter] = row.name;
    if (!row.options.permutation.empty()) j["permutation"] = row.options.permutation;
    if (row.options.normalization == ScoreNormalization::ReluVisible) {  // blocks numbered from 1
      const BlockRange& r = row.options.normalization_blocks;
      j["first_block"] = r.begin + 1;
      j["last_block"] = r.end == 0 ? depth : r.end;
    }
    out.push_back(j);
  }
  return {{"rows", out}};
}

void print_head_probe(const std::vector<HeadProbeRow>& rows, bool labelled) {
  std::printf("%5s %4s  %-22s %-22s %s  %9s %8s\n", "block", "head", "top-1", "agreement", "KL (nats)",
              "distance", "entropy");
  for (const HeadProbeRow& row : rows)
    std::printf("%5d %4d  %-22s %-22s %s  %6.1f px %8.3f\n", row.block + 1, row.head + 1,
                labelled ? optional_text(row.scores.top1).c_str() : "—",
                proportion_text(row.scores.agreement).c_str(), mean_text(row.scores.kl).c_str(),
                row.distance_pixels, row.entropy);
}

nlohmann::json head_probe_json(const std::vector<HeadProbeRow>& rows) {
  nlohmann::json out = nlohmann::json::array();
  for (const HeadProbeRow& row : rows) {
    nlohmann::json j = scores_json(row.scores);
    j["block"] = row.block + 1;
    j["head"] = row.head + 1;
    j["mean_attention_distance_pixels"] = row.distance_pixels;
    j["attention_entropy_nats"] = row.entropy;
    out.push_back(j);
  }
  return {{"rows", out}};
}

void print_conv_probe(const ConvProbe& probe, bool labelled) {
  std::printf("%5s %4s  %-22s %-22s %-22s %12s  %s\n", "block", "head", "top-1", "agreement", "KL (nats)",
              "prefix share", "like a convolution");
  for (const ConvProbeRow& row : probe.rows) {
    float share = 0;
    for (const HeadKernel& kernel : probe.kernels)
      if (kernel.block == row.block && kernel.head == row.head) share = kernel.prefix_share;
    std::printf("%5d %4d  %-22s %-22s %-22s %12.3f  %s\n", row.block + 1, row.head + 1,
                labelled ? optional_text(row.scores.top1).c_str() : "—", proportion_text(row.scores.agreement).c_str(),
                mean_text(row.scores.kl).c_str(), share, row.convolution_like ? "yes" : "no");
  }
}

nlohmann::json conv_probe_json(const ConvProbe& probe) {
  nlohmann::json rows = nlohmann::json::array();
  for (const ConvProbeRow& row : probe.rows) {
    nlohmann::json j = scores_json(row.scores);
    j["block"] = row.block + 1;
    j["head"] = row.head + 1;
    j["convolution_like"] = row.convolution_like;
    rows.push_back(j);
  }
  nlohmann::json kernels = nlohmann::json::array();
  for (const HeadKernel& k : probe.kernels)
    kernels.push_back({{"block", k.block + 1}, {"head", k.head + 1}, {"prefix_share", k.prefix_share},
                       {"offsets", {2 * probe.grid_h - 1, 2 * probe.grid_w - 1}}, {"kernel", k.kernel}});
  return {{"rows", rows}, {"kernels", kernels}};
}

void write_kernel_images(const ConvProbe& probe, int heads, const std::string& path) {
  const int rows = 2 * probe.grid_h - 1, cols = 2 * probe.grid_w - 1;
  std::vector<cv::Mat> tiles;
  for (const HeadKernel& k : probe.kernels) {
    xt::xtensor<float, 2> map = xt::xtensor<float, 2>::from_shape({static_cast<std::size_t>(rows), static_cast<std::size_t>(cols)});
    std::copy(k.kernel.begin(), k.kernel.end(), map.begin());
    char caption[64];
    std::snprintf(caption, sizeof caption, "b%d h%d", k.block + 1, k.head + 1);
    cv::Mat tile;
    cv::resize(render::heat_image(map, cv::Size(cols, rows)), tile, cv::Size(4 * cols, 4 * rows), 0, 0, cv::INTER_NEAREST);
    tiles.push_back(render::captioned(tile, {caption}));
  }
  render::write_png(path, render::grid(tiles, heads));
}

}  // namespace vitscope::cli
