#pragma once
// The pictures of `vitscope compare`.
#include <string>

#include <opencv2/core.hpp>

#include "vitscope/maps/compare.hpp"

namespace vitscope::render {

// Row 1: the photo, then each of the ViT's and the CNN's explanation maps over it, captioned with the
// model, its top-1 label and probability, and the method. Row 2: the class-token attention of every
// head in the chosen ViT layer.
cv::Mat compare_panel(const Comparison& comparison, const std::string& vit_name,
                      const std::string& cnn_name, const RolloutOptions& rollout);

// How far each model sees by relative depth, like with like in two panels (input pixels):
// cumulative (effective receptive field of the centre patch token / centre unit: side of the square
// holding 95% of the gradient, and its gradient-weighted mean distance; the CNN's theoretical
// field) and one hop (the ViT's mean attention distance per block, and per head for one image;
// the CNN layer's kernel reach as a mean distance). Means over images carry 95% error bars.
cv::Mat receptive_field_plot(const ReachCurves& curves, const std::string& vit_name, const std::string& cnn_name,
                             const std::string& input_size);

}  // namespace vitscope::render
