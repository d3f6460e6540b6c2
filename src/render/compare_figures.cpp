#include "vitscope/render/compare_figures.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include <opencv2/imgproc.hpp>
#include <xtensor/xview.hpp>

#include "vitscope/render/render.hpp"

namespace vitscope::render {
namespace {

constexpr int kMainTile = 336;  // the 224-pixel crops shown at 1.5x
constexpr int kHeadTile = 168;

std::string top1_caption(const std::vector<Prediction>& top) {
  char buf[256];
  if (top.empty()) return "no prediction";
  std::snprintf(buf, sizeof buf, "top-1: %s %.1f%%", top.front().label.c_str(), 100 * top.front().probability);
  return buf;
}

cv::Mat scaled(const cv::Mat& image, int side) {
  cv::Mat out;
  cv::resize(image, out, cv::Size(side, side * image.rows / std::max(1, image.cols)), 0, 0, cv::INTER_AREA);
  return out;
}

std::string method_caption(ExplanationMethod method, const RolloutOptions& rollout, const std::string& cam_label) {
  char buf[160];
  switch (method) {
    case ExplanationMethod::Rollout:
      std::snprintf(buf, sizeof buf, "attention rollout (%s of heads, discard %.2g)", head_fusion_name(rollout.fusion),
                    rollout.discard_ratio);
      return buf;
    case ExplanationMethod::RawAttention:
      return "class-token attention, last block";
    case ExplanationMethod::GradientRollout:
      return "gradient-weighted rollout (Chefer)";
    case ExplanationMethod::InputGradient:
      return "input x gradient";
    case ExplanationMethod::Cam:
      return "class activation map of '" + cam_label + "'";
    case ExplanationMethod::GradCam:
      return "Grad-CAM of '" + cam_label + "'";
    case ExplanationMethod::Random:
      return "baseline: random map";
    case ExplanationMethod::Gaussian:
      return "baseline: centred Gaussian";
  }
  return "";
}

}  // namespace

cv::Mat compare_panel(const Comparison& c, const std::string& vit_name, const std::string& cnn_name,
                      const RolloutOptions& rollout) {
  const cv::Mat photo = scaled(to_bgr(c.vit_view), kMainTile);
  const cv::Mat cnn_photo = scaled(to_bgr(c.cnn_view), kMainTile);
  std::vector<cv::Mat> top_row = {
      captioned(photo, {"input, as the ViT sees it",
                        std::to_string(c.vit_view.shape(1)) + "x" + std::to_string(c.vit_view.shape(0)) + " crop",
                        ""}),
  };
  for (const ExplanationMap& m : c.vit_maps)
    top_row.push_back(captioned(overlay(photo, m.map), {"ViT " + vit_name, top1_caption(c.vit_top),
                                                        method_caption(m.method, rollout, c.cam_label)}));
  for (const ExplanationMap& m : c.cnn_maps)
    top_row.push_back(captioned(overlay(cnn_photo, m.map), {"CNN " + cnn_name, top1_caption(c.cnn_top),
                                                            method_caption(m.method, rollout, c.cam_label)}));
  std::vector<cv::Mat> heads;
  const cv::Mat small = scaled(to_bgr(c.vit_view), kHeadTile);
  for (std::size_t h = 0; h < c.head_attention.shape(0); ++h) {
    xt::xtensor<float, 2> map = xt::view(c.head_attention, h, xt::all(), xt::all());
    heads.push_back(captioned(overlay(small, map, 0.6),
                              {"layer " + std::to_string(c.vit_layer + 1) + ", head " + std::to_string(h + 1),
                               "class-token attention"}));
  }
  const cv::Mat top = grid(top_row, std::min<int>(static_cast<int>(top_row.size()), 5));
  const int per_row = std::max(1, top.cols / (kHeadTile + 8));
  const cv::Mat bottom = grid(heads, per_row);
  cv::Mat panel(top.rows + bottom.rows, std::max(top.cols, bottom.cols), CV_8UC3, cv::Scalar(255, 255, 255));
  top.copyTo(panel(cv::Rect(0, 0, top.cols, top.rows)));
  bottom.copyTo(panel(cv::Rect(0, top.rows, bottom.cols, bottom.rows)));
  return panel;
}

namespace {

PlotSeries series_of(const std::string& label, const std::vector<double>& x, const CurveStat& curve, cv::Scalar color,
                     PlotSeries::Style style, bool intervals) {
  PlotSeries s{label, {}, {}, color, style, {}, {}};
  for (std::size_t i = 0; i < x.size() && i < curve.mean.size(); ++i) {
    if (!std::isfinite(curve.mean[i])) continue;
    s.x.push_back(x[i]);
    s.y.push_back(curve.mean[i]);
    if (intervals) {
      s.low.push_back(curve.low[i]);
      s.high.push_back(curve.high[i]);
    }
  }
  return s;
}

}  // namespace

cv::Mat receptive_field_plot(const ReachCurves& r, const std::string& vit_name, const std::string& cnn_name,
                             const std::string& input_size) {
  const bool intervals = r.images > 1;
  const std::string over = intervals ? " (mean, 95% interval over " + std::to_string(r.images) + " images)" : "";
  const std::string vit = "ViT " + vit_name, cnn = "CNN " + cnn_name;
  const cv::Scalar vit_dark(180, 90, 20), vit_light(230, 160, 90), cnn_dark(40, 140, 40), cnn_light(60, 60, 220);
  using Style = PlotSeries::Style;

  std::vector<PlotSeries> cumulative = {
      series_of(vit + ": ERF side (95% of |gradient|), centre patch token", r.vit_depth, r.vit_erf_size, vit_dark,
                Style::LineDots, intervals),
      series_of(vit + ": ERF mean distance, centre patch token", r.vit_depth, r.vit_erf_distance, vit_light,
                Style::LineDots, intervals),
      series_of(cnn + ": ERF side (95% of |gradient|), centre unit", r.cnn_depth, r.cnn_erf_size, cnn_dark,
                Style::LineDots, intervals),
      series_of(cnn + ": ERF mean distance, centre unit", r.cnn_depth, r.cnn_erf_distance, cv::Scalar(120, 200, 120),
                Style::LineDots, intervals),
      series_of(cnn + ": theoretical receptive field side", r.cnn_depth, r.cnn_theoretical, cnn_light, Style::Line,
                false),
  };
  std::vector<PlotSeries> one_hop;
  if (!intervals) {
    PlotSeries heads{vit + ": mean attention distance, per head", {}, {}, vit_light, Style::Dots, {}, {}};
    for (std::size_t l = 0; l < r.vit_head_distance.size(); ++l)
      for (double d : r.vit_head_distance[l]) {
        heads.x.push_back(r.vit_depth[l]);
        heads.y.push_back(d);
      }
    one_hop.push_back(heads);
  }
  one_hop.push_back(series_of(vit + ": mean attention distance, mean of heads", r.vit_depth, r.vit_attention_distance,
                              vit_dark, Style::LineDots, intervals));
  one_hop.push_back(series_of(cnn + ": kernel reach as a mean distance (uniform taps)", r.cnn_hop_depth, r.cnn_one_hop,
                              cnn_dark, Style::Dots, false));
  const cv::Mat left = plot(cumulative, {"Cumulative: how far a token / unit has seen after this depth" + std::string(intervals ? "" : ""),
                                         "relative depth (block / blocks; convolutions / longest chain)",
                                         "input pixels (" + input_size + " input)", {900, 620}});
  const cv::Mat right = plot(one_hop, {"One hop: how far one block / layer reaches" + over,
                                       "relative depth (block / blocks; convolutions / longest chain)",
                                       "mean distance, input pixels", {900, 620}});
  cv::Mat both;
  cv::hconcat(left, right, both);
  if (!intervals) return both;
  cv::Mat titled(both.rows + 30, both.cols, CV_8UC3, cv::Scalar(255, 255, 255));
  both.copyTo(titled(cv::Rect(0, 30, both.cols, both.rows)));
  cv::putText(titled, "Receptive fields" + over, {16, 22}, cv::FONT_HERSHEY_SIMPLEX, 0.6, cv::Scalar(30, 30, 30), 1,
              cv::LINE_AA);
  return titled;
}

}  // namespace vitscope::render
