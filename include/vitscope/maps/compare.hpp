#pragma once
// One photo through a ViT and a CNN side by side: what each predicts, where each looks (the
// explanation maps asked for, per-head attention) and how far each sees by depth, measured alike
// for both: cumulative (effective receptive field of the centre patch token / centre unit after
// each block / layer) and one hop (a head's mean attention distance; a layer's kernel reach).
#include <string>
#include <vector>

#include <xtensor/xtensor.hpp>

#include "vitscope/models/cnn.hpp"
#include "vitscope/maps/cnn_maps.hpp"
#include "vitscope/maps/explanations.hpp"
#include "vitscope/maps/mass_spread.hpp"
#include "vitscope/io/image.hpp"
#include "vitscope/models/predictions.hpp"
#include "vitscope/models/vit.hpp"
#include "vitscope/maps/vit_maps.hpp"

namespace vitscope {

struct CompareOptions {
  RolloutOptions rollout;
  int vit_layer = -1;        // layer whose per-head class-token attention is shown; -1: the last
  int explained_class = -1;  // class the class-specific maps explain in both models; -1: each one's top-1
  int topk = 5;
  double top_fraction = 0.2; // the share of pixels compared by the IoU
  bool effective_fields = true;  // both models' ERF per block / layer (one backward pass each)
  // The maps drawn (the rollout and the CAM are computed whatever is drawn: the overlap compares them).
  std::vector<ExplanationMethod> methods = {ExplanationMethod::Rollout, ExplanationMethod::GradientRollout,
                                            ExplanationMethod::Cam, ExplanationMethod::GradCam};
  ExplanationOptions explanation;  // Grad-CAM's layer, the random map's seed
};

// A block of the ViT: how far it reaches in one hop and how far its tokens have seen.
struct VitBlockReach {
  int block = 0;                       // 0-based
  double mean_attention_distance = 0;  // pixels, mean over heads (one hop)
  std::vector<double> per_head;        // pixels
  MassSpread erf;                      // centre patch token after the block (cumulative); NaN if not computed
};

struct ExplanationMap {
  ExplanationMethod method;
  xt::xtensor<float, 2> map;  // patch grid (ViT, baselines) or the CNN layer's resolution
};

struct Comparison {
  RgbImage vit_view;  // the photo as the ViT sees it (resized and cropped); maps live in this frame
  RgbImage cnn_view;  // the photo as the CNN sees it
  std::vector<Prediction> vit_top, cnn_top;
  xt::xtensor<float, 2> rollout;          // [grid_h, grid_w], max 1
  int vit_layer = 0;
  xt::xtensor<float, 3> head_attention;   // [heads, grid_h, grid_w] of vit_layer
  xt::xtensor<double, 2> attention_distance;  // [layers, heads], pixels
  std::vector<VitBlockReach> vit_reach;   // every block
  int vit_erf_token = 0;                  // the centre patch token
  MassSpread vit_class_erf;               // the class token after the last block (NaN without one)
  int vit_class = 0;                      // the class the ViT's gradient maps explain
  std::vector<ExplanationMap> vit_maps, cnn_maps;  // options.methods that apply to each, in order
  int cam_class = 0;
  std::string cam_label;
  xt::xtensor<float, 2> cam;              // [h, w] of the CNN's last feature map
  std::vector<LayerReach> cnn_reach;      // every CNN layer: theoretical (and effective) field
  double top_region_iou = 0;              // of rollout and CAM
  double map_correlation = 0;
  bool same_frame = true;  // both models resize and crop the photo alike, so the maps align
};

// backprop (of vit; null: no ViT gradients, so neither the ViT's effective receptive fields nor
// its gradient maps) gives the ViT's gradients.
Comparison compare_models(const VitModel& vit, const VitBackprop* backprop, const CnnModel& cnn, Session& session,
                          const RgbImage& photo, const std::vector<std::string>& labels,
                          const CompareOptions& options);

// ---- how far each model sees, as curves over relative depth -----------------------------------

// A curve's values, with a 95% interval per point when it is a mean over images.
struct CurveStat {
  std::vector<double> mean, low, high;  // low / high equal mean for one image
};

// What the two panels of the receptive-field plot draw, in input pixels. x: relative depth, block
// / blocks for the ViT, convolutions so far / the CNN's longest chain for the CNN.
struct ReachCurves {
  int images = 1;
  std::vector<double> vit_depth;
  CurveStat vit_erf_size, vit_erf_distance;          // cumulative: centre patch token after each block
  CurveStat vit_attention_distance;                  // one hop: mean over heads
  std::vector<std::vector<double>> vit_head_distance;  // [block][head], one image only
  std::vector<double> cnn_depth;                     // every layer but the image
  std::vector<std::string> cnn_layers;
  CurveStat cnn_erf_size, cnn_erf_distance, cnn_theoretical;  // cumulative: centre unit
  std::vector<double> cnn_hop_depth;                 // layers with a spatial window (convolutions, pooling)
  std::vector<std::string> cnn_hop_layers;
  CurveStat cnn_one_hop;                             // one hop: kernel reach as a mean distance
};
ReachCurves reach_curves(const Comparison& comparison);
// Per point, the mean over images with mean ± 1.96 standard errors (NaN points left out of a
// point's mean); the images must share the models and input size.
ReachCurves summarize_reach(const std::vector<ReachCurves>& images);

}  // namespace vitscope
