#pragma once
// One photo through a ViT and a CNN side by side: what each predicts, where each looks (attention
// rollout and per-head attention; class activation map) and how far each sees by depth (mean
// attention distance; theoretical and effective receptive fields).
#include <string>
#include <vector>

#include <xtensor/xtensor.hpp>

#include "vitscope/models/cnn.hpp"
#include "vitscope/maps/cnn_maps.hpp"
#include "vitscope/io/image.hpp"
#include "vitscope/models/predictions.hpp"
#include "vitscope/models/vit.hpp"
#include "vitscope/maps/vit_maps.hpp"

namespace vitscope {

struct CompareOptions {
  RolloutOptions rollout;
  int vit_layer = -1;        // layer whose per-head class-token attention is shown; -1: the last
  int cnn_class = -1;        // class of the CAM; -1: the CNN's top-1
  int topk = 5;
  double top_fraction = 0.2; // the share of pixels compared by the IoU
  bool effective_fields = true;  // compute the CNN's ERF per layer (one backward pass each)
};

struct Comparison {
  RgbImage vit_view;  // the photo as the ViT sees it (resized and cropped); maps live in this frame
  RgbImage cnn_view;  // the photo as the CNN sees it
  std::vector<Prediction> vit_top, cnn_top;
  xt::xtensor<float, 2> rollout;          // [grid_h, grid_w], max 1
  int vit_layer = 0;
  xt::xtensor<float, 3> head_attention;   // [heads, grid_h, grid_w] of vit_layer
  xt::xtensor<double, 2> attention_distance;  // [layers, heads], pixels
  int cam_class = 0;
  std::string cam_label;
  xt::xtensor<float, 2> cam;              // [h, w] of the CNN's last feature map
  std::vector<LayerReach> cnn_reach;      // every CNN layer: theoretical (and effective) field
  double top_region_iou = 0;              // of rollout and CAM
  double map_correlation = 0;
  bool same_frame = true;  // both models resize and crop the photo alike, so the maps align
};

Comparison compare_models(const VitModel& vit, const CnnModel& cnn, Session& session,
                          const RgbImage& photo,
                          const std::vector<std::string>& labels, const CompareOptions& options);

}  // namespace vitscope
