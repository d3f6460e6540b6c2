#pragma once
// Evaluation preprocessing exactly as timm / torchvision do it with PIL:
//   Resize(floor(size / crop_pct)) → CenterCrop(size) → ToTensor → Normalize(mean, std).
// The resampling is a port of PIL's ImagingResample (separable, antialiased: the filter support is
// scaled by the downscale factor, fixed-point coefficients, 8-bit rounding between the passes), so the
// resized pixels equal PIL's.
#include <array>

#include <xtensor/xtensor.hpp>

#include "vitscope/io/image.hpp"

namespace vitscope {

enum class Interpolation { Bilinear, Bicubic };
const char* interpolation_name(Interpolation interpolation);
Interpolation parse_interpolation(const std::string& name);  // "bilinear" | "bicubic"; ConfigError

struct PreprocessConfig {
  int input_height = 224;
  int input_width = 224;
  double crop_pct = 0.875;
  Interpolation interpolation = Interpolation::Bicubic;
  std::array<float, 3> mean{0.485f, 0.456f, 0.406f};
  std::array<float, 3> std{0.229f, 0.224f, 0.225f};
};

// PIL's Image.resize((width, height), BILINEAR|BICUBIC) on an 8-bit RGB image.
RgbImage pil_resize(const RgbImage& image, int width, int height, Interpolation interpolation);

// A rectangle of pixels: columns [left, left + width), rows [top, top + height).
struct PixelRegion {
  int left = 0;
  int top = 0;
  int width = 0;
  int height = 0;
};

// The region of pil_resize(image, width, height, interpolation), computing only what it needs
// (a centre crop resamples only the pixels it keeps); the same bytes as cropping the whole result.
// The region must lie inside the width x height result (ConfigError otherwise).
RgbImage pil_resize_region(const RgbImage& image, int width, int height, Interpolation interpolation,
                           const PixelRegion& region);

// The size the resize step makes of a height x width image (before the centre crop).
struct ResizeTarget {
  int width = 0;
  int height = 0;
};
ResizeTarget resize_target(const PreprocessConfig& config, int height, int width);

// What --decode draft asks of a JPEG decoder for this preprocessing: the resize target of the
// image's stored size (ImageLoadOptions::draft_request).
DraftRequest draft_request_for(const PreprocessConfig& config);

// The 8-bit stages: resize (shorter side to floor(size / crop_pct) for a square input; both sides to
// floor(h / crop_pct), floor(w / crop_pct) otherwise, as timm does), then centre crop (zero padding
// when the image is smaller than the crop, as torchvision does).
RgbImage resize_and_crop(const RgbImage& image, const PreprocessConfig& config);

// The whole transform: [3, input_height, input_width] float32, normalised.
xt::xtensor<float, 3> preprocess(const RgbImage& image, const PreprocessConfig& config);

// ToTensor + Normalize on an already cropped 8-bit image.
xt::xtensor<float, 3> normalize_image(const RgbImage& image, const std::array<float, 3>& mean,
                                      const std::array<float, 3>& std);

}  // namespace vitscope
