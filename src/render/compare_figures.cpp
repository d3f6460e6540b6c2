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

}  // namespace

cv::Mat compare_panel(const Comparison& c, const std::string& vit_name, const std::string& cnn_name,
                      const RolloutOptions& rollout) {
  const cv::Mat photo = scaled(to_bgr(c.vit_view), kMainTile);
  const cv::Mat cnn_photo = scaled(to_bgr(c.cnn_view), kMainTile);
  char rollout_caption[128];
  std::snprintf(rollout_caption, sizeof rollout_caption, "attention rollout (%s of heads, discard %.2g)",
                head_fusion_name(rollout.fusion), rollout.discard_ratio);
  std::vector<cv::Mat> top_row = {
      captioned(photo, {"input, as the ViT sees it",
                        std::to_string(c.vit_view.shape(1)) + "x" + std::to_string(c.vit_view.shape(0)) + " crop",
                        ""}),
      captioned(overlay(photo, c.rollout), {"ViT " + vit_name, top1_caption(c.vit_top), rollout_caption}),
      captioned(overlay(cnn_photo, c.cam),
                {"CNN " + cnn_name, top1_caption(c.cnn_top), "class activation map of '" + c.cam_label + "'"}),
  };
  std::vector<cv::Mat> heads;
  const cv::Mat small = scaled(to_bgr(c.vit_view), kHeadTile);
  for (std::size_t h = 0; h < c.head_attention.shape(0); ++h) {
    xt::xtensor<float, 2> map = xt::view(c.head_attention, h, xt::all(), xt::all());
    heads.push_back(captioned(overlay(small, map, 0.6),
                              {"layer " + std::to_string(c.vit_layer + 1) + ", head " + std::to_string(h + 1),
                               "class-token attention"}));
  }
  const cv::Mat top = grid(top_row, 3);
  const int per_row = std::max(1, top.cols / (kHeadTile + 8));
  const cv::Mat bottom = grid(heads, per_row);
  cv::Mat panel(top.rows + bottom.rows, std::max(top.cols, bottom.cols), CV_8UC3, cv::Scalar(255, 255, 255));
  top.copyTo(panel(cv::Rect(0, 0, top.cols, top.rows)));
  bottom.copyTo(panel(cv::Rect(0, top.rows, bottom.cols, bottom.rows)));
  return panel;
}

cv::Mat receptive_field_plot(const Comparison& c, const std::string& vit_name, const std::string& cnn_name) {
  const std::size_t layers = c.attention_distance.shape(0), heads = c.attention_distance.shape(1);
  PlotSeries per_head{"ViT " + vit_name + ": mean attention distance, per head", {}, {},
                      cv::Scalar(230, 160, 90), PlotSeries::Style::Dots};
  PlotSeries per_layer{"ViT " + vit_name + ": mean attention distance, layer mean", {}, {},
                       cv::Scalar(180, 90, 20), PlotSeries::Style::LineDots};
  for (std::size_t l = 0; l < layers; ++l) {
    const double x = static_cast<double>(l + 1) / static_cast<double>(layers);
    double mean = 0;
    for (std::size_t h = 0; h < heads; ++h) {
      per_head.x.push_back(x);
      per_head.y.push_back(c.attention_distance(l, h));
      mean += c.attention_distance(l, h) / static_cast<double>(heads);
    }
    per_layer.x.push_back(x);
    per_layer.y.push_back(mean);
  }
  int max_depth = 1;
  for (const LayerReach& r : c.cnn_reach) max_depth = std::max(max_depth, r.depth);
  PlotSeries theoretical{"CNN " + cnn_name + ": theoretical receptive field", {}, {},
                         cv::Scalar(60, 60, 220), PlotSeries::Style::LineDots};
  PlotSeries effective{"CNN " + cnn_name + ": effective receptive field (95% of gradient)", {}, {},
                       cv::Scalar(60, 170, 60), PlotSeries::Style::LineDots};
  for (const LayerReach& r : c.cnn_reach) {
    if (r.op == CnnOp::Input) continue;
    const double x = static_cast<double>(r.depth) / max_depth;
    theoretical.x.push_back(x);
    theoretical.y.push_back(r.theoretical_size);
    if (std::isfinite(r.effective_size)) {
      effective.x.push_back(x);
      effective.y.push_back(r.effective_size);
    }
  }
  std::vector<PlotSeries> series = {per_head, per_layer, theoretical};
  if (!effective.x.empty()) series.push_back(effective);
  const std::string size = std::to_string(c.vit_view.shape(1)) + "x" + std::to_string(c.vit_view.shape(0));
  return plot(series, {"How far each model sees, by depth", "relative depth (layer / number of layers)",
                       "pixels (input " + size + ")", {960, 640}});
}

}  // namespace vitscope::render
