#include "cli/faithfulness_report.hpp"

#include <cstdio>
#include <iostream>

#include <opencv2/core.hpp>

#include "vitscope/render/render.hpp"

using nlohmann::json;

namespace vitscope::cli {
namespace {

std::string interval(const MeanInterval& m, const char* format) {
  char buf[96];
  const std::string f = std::string(format) + " [" + format + ", " + format + "]";
  std::snprintf(buf, sizeof buf, f.c_str(), m.mean, m.low, m.high);
  return buf;
}

const char* beats(const FaithfulnessSummary& r) {
  if (r.method == ExplanationMethod::Random || !r.has_random) return "-";
  if (r.beats_random_positive && r.beats_random_negative) return "both";
  if (r.beats_random_positive) return "positive only";
  if (r.beats_random_negative) return "negative only";
  return "neither";
}

json interval_json(const MeanInterval& m) { return {m.low, m.high}; }

json difference_json(const MeanInterval& m) { return {{"mean", m.mean}, {"interval", interval_json(m)}}; }

}  // namespace

void print_faithfulness_table(const std::vector<FaithfulnessSummary>& rows) {
  std::printf("%-4s %-17s %-22s %-22s %-22s %-22s %-22s %s\n", "", "method", "positive AUC (low)",
              "negative AUC (high)", "deletion AUC (low)", "insertion AUC (high)", "negative - reference",
              "beats random");
  for (const FaithfulnessSummary& r : rows) {
    const std::string diff = r.reference_method.empty() || explanation_method_info(r.method).name == r.reference_method
                                 ? "-"
                                 : interval(r.negative_vs_reference, "%+.1f") + " vs " + r.reference_method;
    std::printf("%-4s %-17s %-22s %-22s %-22s %-22s %-22s %s\n", r.family.c_str(), explanation_method_info(r.method).name,
                interval(r.positive_auc, "%.1f").c_str(), interval(r.negative_auc, "%.1f").c_str(),
                interval(r.deletion_auc, "%.3f").c_str(), interval(r.insertion_auc, "%.3f").c_str(), diff.c_str(), beats(r));
  }
  std::fflush(stdout);
}

json faithfulness_json(const std::vector<FaithfulnessSummary>& rows, const PerturbationProtocol& protocol) {
  json results = json::array();
  for (const FaithfulnessSummary& r : rows) {
    json o = {{"model", r.model},
              {"family", r.family},
              {"method", explanation_method_info(r.method).name},
              {"images", r.images},
              {"positive_auc", r.positive_auc.mean},
              {"positive_auc_interval", interval_json(r.positive_auc)},
              {"negative_auc", r.negative_auc.mean},
              {"negative_auc_interval", interval_json(r.negative_auc)},
              {"deletion_auc", r.deletion_auc.mean},
              {"deletion_auc_interval", interval_json(r.deletion_auc)},
              {"insertion_auc", r.insertion_auc.mean},
              {"insertion_auc_interval", interval_json(r.insertion_auc)},
              {"beats_random_positive", r.has_random ? json(r.beats_random_positive) : json(nullptr)},
              {"beats_random_negative", r.has_random ? json(r.beats_random_negative) : json(nullptr)},
              {"curves", {{"positive", r.positive}, {"negative", r.negative}, {"deletion", r.deletion},
                          {"insertion", r.insertion}}}};
    if (!r.reference_method.empty())
      o["versus_reference"] = {{"method", r.reference_method},
                               {"positive_auc", difference_json(r.positive_vs_reference)},
                               {"negative_auc", difference_json(r.negative_vs_reference)},
                               {"deletion_auc", difference_json(r.deletion_vs_reference)},
                               {"insertion_auc", difference_json(r.insertion_vs_reference)}};
    if (r.has_random && r.method != ExplanationMethod::Random)
      o["versus_random"] = {{"positive_auc", difference_json(r.positive_vs_random)},
                            {"negative_auc", difference_json(r.negative_vs_random)}};
    std::vector<double> x;
    for (std::size_t k = 0; k < r.deletion.size(); ++k) x.push_back(static_cast<double>(k) / static_cast<double>(r.deletion.size() - 1));
    o["curves"]["deletion_insertion_x"] = x;
    results.push_back(o);
  }
  return {{"protocol",
           {{"patch_size", protocol.patch_size},
            {"fractions", protocol.fractions},
            {"patches_per_step", protocol.patches_per_step},
            {"blur", {{"size", protocol.blur_size}, {"sigma", protocol.blur_sigma}}},
            {"intervals", "95% percentile bootstrap over images, 2000 resamples; differences paired by image"}}},
          {"results", results}};
}

void write_faithfulness_plot(const std::string& path, const std::vector<FaithfulnessSummary>& rows,
                             const PerturbationProtocol& protocol) {
  static const cv::Scalar colours[] = {{180, 90, 20}, {40, 140, 40}, {60, 60, 220}, {200, 120, 200},
                                       {30, 170, 230}, {120, 120, 120}, {150, 60, 60}, {0, 0, 0}};
  struct Panel {
    const char* title;
    std::vector<double> FaithfulnessSummary::*curve;
    const char* y;
  };
  const Panel panels[] = {
      {"Positive perturbation: most relevant patches removed first (lower is better)", &FaithfulnessSummary::positive,
       "share of images whose top-1 is unchanged"},
      {"Negative perturbation: least relevant removed first (higher is better)", &FaithfulnessSummary::negative,
       "share of images whose top-1 is unchanged"},
      {"Deletion (RISE): most relevant zeroed first (lower is better)", &FaithfulnessSummary::deletion,
       "mean probability of the top-1 class"},
      {"Insertion (RISE): most relevant restored first (higher is better)", &FaithfulnessSummary::insertion,
       "mean probability of the top-1 class"},
  };
  std::vector<cv::Mat> tiles;
  for (const Panel& p : panels) {
    std::vector<render::PlotSeries> series;
    for (std::size_t i = 0; i < rows.size(); ++i) {
      const FaithfulnessSummary& r = rows[i];
      const std::vector<double>& y = r.*(p.curve);
      std::vector<double> x;
      if (p.curve == &FaithfulnessSummary::positive || p.curve == &FaithfulnessSummary::negative)
        x = protocol.fractions;
      else
        for (std::size_t k = 0; k < y.size(); ++k) x.push_back(static_cast<double>(k) / static_cast<double>(y.size() - 1));
      const bool vit = r.family == "ViT";
      series.push_back({r.family + " " + explanation_method_info(r.method).name, x, y,
                        colours[static_cast<int>(r.method) % 8],
                        vit ? render::PlotSeries::Style::LineDots : render::PlotSeries::Style::Line, {}, {}});
    }
    tiles.push_back(render::plot(series, {p.title, "share of the 16x16 patches removed / restored", p.y, {900, 620}}));
  }
  render::write_png(path, render::grid(tiles, 2, 0));
}

}  // namespace vitscope::cli
