#pragma once
// Probing a trained ViT with forward variants (VitForwardOptions) on a set of images: how each
// variant's predictions differ from the unmodified model's, and from the labels when there are
// any. Every figure over images comes with a 95% interval.
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <xtensor/xtensor.hpp>

#include "vitscope/maps/vit_maps.hpp"
#include "vitscope/models/session.hpp"
#include "vitscope/models/vit.hpp"

namespace vitscope {

// A share of n images with its 95% Wilson score interval.
struct Proportion {
  double value = 0, low = 0, high = 0;
  int count = 0, n = 0;
};
Proportion wilson_interval(int count, int n);

// A mean over n images with its 95% interval (mean ± 1.96 standard errors).
struct MeanInterval {
  double mean = 0, low = 0, high = 0;
  int n = 0;
};
MeanInterval mean_interval(const std::vector<double>& values);

// Preprocessed images, and their class indices when labelled.
struct ProbeImages {
  std::vector<std::string> paths;
  xt::xtensor<float, 4> images;  // [N, 3, H, W]
  std::vector<int> labels;       // [N], or empty
};

struct ProbeScores {
  std::optional<Proportion> top1, top5;  // accuracy, with labels
  Proportion agreement;                  // top-1 equal to the unmodified model's
  MeanInterval kl;                       // KL(p_unmodified ‖ p_variant) per image, nats
  std::vector<int> predictions;          // top-1 class per image
  std::vector<double> kl_per_image;      // KL(p_unmodified ‖ p_variant) per image, nats
};

class VitProbe {
 public:
  // Runs the unmodified model on every image, `chunk` images per forward pass, and keeps its
  // class probabilities.
  VitProbe(const VitModel& model, Session& session, const ProbeImages& images, int chunk = 10);

  const ProbeImages& images() const { return images_; }
  const VitModel& model() const { return model_; }
  TokenLayout layout() const;
  const ProbeScores& unmodified() const { return unmodified_; }

  // The variant on every image, scored against the unmodified model and the labels.
  ProbeScores score(const VitForwardOptions& variant);

  // Runs the unmodified model again recording its attention, and calls visit(attention, first)
  // for each chunk of images (first: the chunk's first image index).
  void visit_attention(const std::function<void(const AttentionMaps& attention, int first)>& visit);

 private:
  xt::xtensor<float, 2> run(const VitForwardOptions& options, int first, int count);

  const VitModel& model_;
  Session& session_;
  const ProbeImages& images_;
  int chunk_;
  xt::xtensor<double, 2> probabilities_;  // [N, classes], unmodified
  ProbeScores unmodified_;
};

// Mean number of keys a query sees under a k×k window (0: every token), over all queries of the
// layout (prefix queries see every token): the share of q·kᵀ and p·v work left is this / tokens.
double window_keys_per_query(const TokenLayout& layout, int window);

// Per block, the attention weight that patch queries put on keys a k×k window hides, summed over
// the batch's images, heads and patch queries (divide by images · heads · patches for the mean).
std::vector<double> attention_outside_window(const AttentionMaps& attention, const TokenLayout& layout,
                                             int window);

// Per block and head, the entropy of the attention rows of the patch queries (nats), summed over
// the batch's images and patch queries: [blocks, heads].
xt::xtensor<double, 2> attention_entropy_sum(const AttentionMaps& attention, const TokenLayout& layout);

}  // namespace vitscope
