#pragma once
// The pictures of `vitscope compare`.
#include <string>

#include <opencv2/core.hpp>

#include "vitscope/maps/compare.hpp"

namespace vitscope::render {

// Row 1: the photo, the ViT's attention rollout over it, the CNN's CAM over it, each captioned with
// the model's top-1 label and probability. Row 2: the class-token attention of every head in the
// chosen ViT layer.
cv::Mat compare_panel(const Comparison& comparison, const std::string& vit_name,
                      const std::string& cnn_name, const RolloutOptions& rollout);

// How far each model sees by relative depth, in pixels on one axis: ViT mean attention distance
// per head (dots) and per layer (line); CNN theoretical and effective receptive field per layer.
cv::Mat receptive_field_plot(const Comparison& comparison, const std::string& vit_name,
                             const std::string& cnn_name);

}  // namespace vitscope::render
