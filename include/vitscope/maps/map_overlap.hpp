#pragma once
// Comparing two saliency maps of the same picture (e.g. a ViT's rollout and a CNN's CAM), whatever
// their resolutions.
#include <xtensor/xtensor.hpp>

namespace vitscope {

// map[h, w] resized to height × width with bilinear interpolation, pixel centres aligned
// (align_corners = false), edges clamped.
xt::xtensor<float, 2> resize_map(const xt::xtensor<float, 2>& map, int height, int width);

// The top `fraction` (e.g. 0.2) of each map's pixels, after resizing both to height × width, as
// masks; returns |A ∩ B| / |A ∪ B|. Ties at the threshold are all included.
double top_region_iou(const xt::xtensor<float, 2>& a, const xt::xtensor<float, 2>& b,
                      double fraction, int height, int width);

// Pearson correlation of the two maps after resizing both to height × width (0 when either is flat).
double map_correlation(const xt::xtensor<float, 2>& a, const xt::xtensor<float, 2>& b, int height,
                       int width);

}  // namespace vitscope
