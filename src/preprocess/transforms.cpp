// torchvision's eval transforms on top of pil_resize: Resize, CenterCrop, ToTensor, Normalize,
// with the sizes timm's transforms_imagenet_eval derives from input size and crop_pct.
#include <cmath>
#include <cstdint>
#include <string>

#include "vitscope/error.hpp"
#include "vitscope/preprocess.hpp"

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

// torchvision's center_crop: zero padding (left/top get the smaller half) when the image is smaller
// than the crop, then a crop at int(round((size - crop) / 2)).
RgbImage center_crop(const RgbImage& image, int crop_height, int crop_width) {
  int height = static_cast<int>(image.shape()[0]);
  int width = static_cast<int>(image.shape()[1]);
  int pad_top = 0, pad_left = 0;
  if (crop_width > width || crop_height > height) {
    pad_left = crop_width > width ? (crop_width - width) / 2 : 0;
    pad_top = crop_height > height ? (crop_height - height) / 2 : 0;
    const int pad_right = crop_width > width ? (crop_width - width + 1) / 2 : 0;
    const int pad_bottom = crop_height > height ? (crop_height - height + 1) / 2 : 0;
    width += pad_left + pad_right;
    height += pad_top + pad_bottom;
  }
  const int top = round_half_even_half(height - crop_height);
  const int left = round_half_even_half(width - crop_width);

  RgbImage out = RgbImage::from_shape(
      {static_cast<std::size_t>(crop_height), static_cast<std::size_t>(crop_width), 3});
  out.fill(0);
  // Output pixel (y, x) is padded-image pixel (top + y, left + x), i.e. source pixel
  // (top + y - pad_top, left + x - pad_left) when that lies inside the source.
  const int src_height = static_cast<int>(image.shape()[0]);
  const int src_width = static_cast<int>(image.shape()[1]);
  for (int y = 0; y < crop_height; ++y) {
    const int sy = top + y - pad_top;
    if (sy < 0 || sy >= src_height) continue;
    const int x_begin = std::max(0, pad_left - left);
    const int x_end = std::min(crop_width, src_width + pad_left - left);
    if (x_begin >= x_end) continue;
    const std::uint8_t* src = image.data() + (static_cast<std::size_t>(sy) * src_width +
                                              (left + x_begin - pad_left)) * 3;
    std::uint8_t* dst = out.data() + (static_cast<std::size_t>(y) * crop_width + x_begin) * 3;
    std::copy(src, src + static_cast<std::size_t>(x_end - x_begin) * 3, dst);
  }
  return out;
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

RgbImage resize_and_crop(const RgbImage& image, const PreprocessConfig& config) {
  if (config.input_height <= 0 || config.input_width <= 0 || !(config.crop_pct > 0.0)) {
    throw ConfigError("preprocess: input size and crop_pct must be positive");
  }
  const int height = static_cast<int>(image.shape()[0]);
  const int width = static_cast<int>(image.shape()[1]);
  if (height <= 0 || width <= 0) throw ConfigError("preprocess: the image is empty");

  // timm: math.floor(size / crop_pct); a square target resizes the shorter side, any other target
  // resizes both sides independently.
  Size2 target{};
  if (config.input_height == config.input_width) {
    const int scale_size = static_cast<int>(std::floor(config.input_height / config.crop_pct));
    target = shorter_side_resize(height, width, scale_size);
  } else {
    target = {static_cast<int>(std::floor(config.input_height / config.crop_pct)),
              static_cast<int>(std::floor(config.input_width / config.crop_pct))};
  }
  // At the same size torchvision skips the resize; pil_resize returns the image unchanged then.
  const RgbImage resized = pil_resize(image, target.width, target.height, config.interpolation);
  return center_crop(resized, config.input_height, config.input_width);
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
