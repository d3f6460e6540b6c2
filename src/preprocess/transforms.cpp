// torchvision's eval transforms on top of pil_resize: Resize, CenterCrop, ToTensor, Normalize,
// with the sizes timm's transforms_imagenet_eval derives from input size and crop_pct.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>

#include "vitscope/core/error.hpp"
#include "vitscope/preprocess/preprocess.hpp"

namespace vitscope {
namespace {

struct Size2 {
  int height;
  int width;
};

// torchvision's Resize(int): the shorter side becomes `size`, the longer int(size · long / short)
// (Python's int() truncates the float quotient).
Size2 shorter_side_resize(int height, int width, int size) {
  const bool portrait = width <= height;
  const int short_side = portrait ? width : height;
  const int long_side = portrait ? height : width;
  const int new_long = static_cast<int>(static_cast<double>(size) * long_side / short_side);
  return portrait ? Size2{new_long, size} : Size2{size, new_long};
}

// Python's round() on a half-integer d / 2: halves go to the even neighbour.
int round_half_even_half(int d) {
  const int floor_half = d >= 0 ? d / 2 : -((-d + 1) / 2);
  if (d % 2 == 0) return floor_half;
  return floor_half % 2 == 0 ? floor_half : floor_half + 1;
}

// torchvision's center_crop of a height x width image: zero padding (left/top get the smaller
// half) when the image is smaller than the crop, then a crop at int(round((size - crop) / 2)) of
// the padded image. Returns where the image's pixels land in the crop: `kept` in image coordinates,
// copied to (left, top) of the crop; empty when no pixel does.
struct CropPlacement {
  PixelRegion kept;
  int left = 0;
  int top = 0;
};

CropPlacement center_crop_placement(int height, int width, int crop_height, int crop_width) {
  const int pad_left = crop_width > width ? (crop_width - width) / 2 : 0;
  const int pad_top = crop_height > height ? (crop_height - height) / 2 : 0;
  const int pad_right = crop_width > width ? (crop_width - width + 1) / 2 : 0;
  const int pad_bottom = crop_height > height ? (crop_height - height + 1) / 2 : 0;
  const int top = round_half_even_half(height + pad_top + pad_bottom - crop_height);
  const int left = round_half_even_half(width + pad_left + pad_right - crop_width);
  // Crop pixel (y, x) is padded pixel (top + y, left + x), i.e. image pixel
  // (top + y - pad_top, left + x - pad_left) when that lies inside the image.
  const int x_begin = std::max(0, pad_left - left);
  const int x_end = std::min(crop_width, width + pad_left - left);
  const int y_begin = std::max(0, pad_top - top);
  const int y_end = std::min(crop_height, height + pad_top - top);
  CropPlacement placement;
  if (x_begin >= x_end || y_begin >= y_end) return placement;
  placement.kept = {left + x_begin - pad_left, top + y_begin - pad_top, x_end - x_begin, y_end - y_begin};
  placement.left = x_begin;
  placement.top = y_begin;
  return placement;
}

}  // namespace

const char* interpolation_name(Interpolation interpolation) {
  switch (interpolation) {
    case Interpolation::Bilinear: return "bilinear";
    case Interpolation::Bicubic: return "bicubic";
  }
  return "unknown";
}

Interpolation parse_interpolation(const std::string& name) {
  if (name == "bilinear") return Interpolation::Bilinear;
  if (name == "bicubic") return Interpolation::Bicubic;
  throw ConfigError("interpolation: unknown '" + name + "' (expected bilinear or bicubic)");
}

ResizeTarget resize_target(const PreprocessConfig& config, int height, int width) {
  // timm: math.floor(size / crop_pct); a square target resizes the shorter side, any other target
  // resizes both sides independently.
  if (config.input_height == config.input_width) {
    const int scale_size = static_cast<int>(std::floor(config.input_height / config.crop_pct));
    const Size2 size = shorter_side_resize(height, width, scale_size);
    return {size.width, size.height};
  }
  return {static_cast<int>(std::floor(config.input_width / config.crop_pct)),
          static_cast<int>(std::floor(config.input_height / config.crop_pct))};
}

DraftRequest draft_request_for(const PreprocessConfig& config) {
  return [config](int width, int height) {
    const ResizeTarget target = resize_target(config, height, width);
    return std::pair<int, int>{target.width, target.height};
  };
}

RgbImage resize_and_crop(const RgbImage& image, const PreprocessConfig& config) {
  if (config.input_height <= 0 || config.input_width <= 0 || !(config.crop_pct > 0.0)) {
    throw ConfigError("preprocess: input size and crop_pct must be positive");
  }
  const int height = static_cast<int>(image.shape()[0]);
  const int width = static_cast<int>(image.shape()[1]);
  if (height <= 0 || width <= 0) throw ConfigError("preprocess: the image is empty");

  const ResizeTarget resized = resize_target(config, height, width);
  const Size2 target{resized.height, resized.width};
  // Only the pixels the crop keeps are resampled (at the same size torchvision skips the resize,
  // and the region is merely copied).
  const CropPlacement placement =
      center_crop_placement(target.height, target.width, config.input_height, config.input_width);
  const PixelRegion& kept = placement.kept;
  const bool fills_crop = kept.width == config.input_width && kept.height == config.input_height;
  if (fills_crop) {
    return pil_resize_region(image, target.width, target.height, config.interpolation, kept);
  }
  RgbImage out = RgbImage::from_shape({static_cast<std::size_t>(config.input_height),
                                       static_cast<std::size_t>(config.input_width), 3});
  out.fill(0);
  if (kept.width == 0) return out;
  const RgbImage pixels =
      pil_resize_region(image, target.width, target.height, config.interpolation, kept);
  for (int y = 0; y < kept.height; ++y) {
    const std::uint8_t* src = pixels.data() + static_cast<std::size_t>(y) * kept.width * 3;
    std::uint8_t* dst = out.data() + (static_cast<std::size_t>(placement.top + y) * config.input_width +
                                      placement.left) * 3;
    std::copy(src, src + static_cast<std::size_t>(kept.width) * 3, dst);
  }
  return out;
}

xt::xtensor<float, 3> normalize_image(const RgbImage& image, const std::array<float, 3>& mean,
                                      const std::array<float, 3>& std) {
  const std::size_t height = image.shape()[0], width = image.shape()[1];
  xt::xtensor<float, 3> out = xt::xtensor<float, 3>::from_shape({3, height, width});
  const std::size_t plane = height * width;
  const std::uint8_t* in = image.data();
  float* o = out.data();
  for (int c = 0; c < 3; ++c) {
    // Float32 throughout, in torch's order: x / 255, then (x - mean) / std.
    float lut[256];
    for (int v = 0; v < 256; ++v) lut[v] = (static_cast<float>(v) / 255.0f - mean[c]) / std[c];
    float* dst = o + c * plane;
    for (std::size_t i = 0; i < plane; ++i) dst[i] = lut[in[i * 3 + c]];
  }
  return out;
}

xt::xtensor<float, 3> preprocess(const RgbImage& image, const PreprocessConfig& config) {
  return normalize_image(resize_and_crop(image, config), config.mean, config.std);
}

}  // namespace vitscope
