// PIL's ImagingResample for 8-bit RGB (Pillow 9.4): a horizontal pass over only the rows the
// vertical pass will read, then a vertical pass; a pass runs only when the size changes along its
// axis, and the 8-bit rounding between the passes is kept. Every output pixel depends only on its
// own filter taps, so a region of the result can be computed alone, bit for bit the same.
#include <algorithm>
#include <string>

#include "preprocess/resample_coeffs.hpp"
#include "preprocess/resample_passes.hpp"
#include "vitscope/core/error.hpp"
#include "vitscope/preprocess/preprocess.hpp"

namespace vitscope {
namespace {

RgbImage rgb_image(int height, int width) {
  return RgbImage::from_shape({static_cast<std::size_t>(height), static_cast<std::size_t>(width), 3});
}

// rows [first_row, last_row), columns [left, left + width) of the image, copied.
RgbImage copy_region(const RgbImage& image, int first_row, int last_row, int left, int width) {
  const std::size_t in_row = image.shape()[1] * 3;
  RgbImage out = rgb_image(last_row - first_row, width);
  for (int y = first_row; y < last_row; ++y) {
    const std::uint8_t* src = image.data() + y * in_row + static_cast<std::size_t>(left) * 3;
    std::copy(src, src + static_cast<std::size_t>(width) * 3,
              out.data() + static_cast<std::size_t>(y - first_row) * width * 3);
  }
  return out;
}

}  // namespace

RgbImage pil_resize(const RgbImage& image, int width, int height, Interpolation interpolation) {
  return pil_resize_region(image, width, height, interpolation, {0, 0, width, height});
}

RgbImage pil_resize_region(const RgbImage& image, int width, int height, Interpolation interpolation,
                           const PixelRegion& region) {
  const int in_height = static_cast<int>(image.shape()[0]);
  const int in_width = static_cast<int>(image.shape()[1]);
  if (image.shape()[2] != 3) throw ConfigError("resize: the image must have 3 channels");
  if (width <= 0 || height <= 0 || in_width <= 0 || in_height <= 0) {
    throw ConfigError("resize: cannot resize " + std::to_string(in_width) + "x" +
                      std::to_string(in_height) + " to " + std::to_string(width) + "x" +
                      std::to_string(height));
  }
  if (region.left < 0 || region.top < 0 || region.width <= 0 || region.height <= 0 ||
      region.left + region.width > width || region.top + region.height > height) {
    throw ConfigError("resize: the region lies outside the " + std::to_string(width) + "x" +
                      std::to_string(height) + " result");
  }
  const bool resize_columns = width != in_width;
  const bool resize_rows = height != in_height;
  const bool whole = region.left == 0 && region.top == 0 && region.width == width &&
                     region.height == height;
  if (!resize_columns && !resize_rows) {  // PIL returns a copy
    return whole ? image : copy_region(image, region.top, region.top + region.height, region.left,
                                       region.width);
  }

  // The source rows [first_row, last_row) the vertical pass reads for the region's rows.
  resample::AxisCoeffs vertical;
  int first_row = region.top, last_row = region.top + region.height;
  if (resize_rows) {
    vertical = resample::slice(resample::axis_coeffs(in_height, height, interpolation), region.top,
                               region.height);
    first_row = vertical.first.front();
    last_row = vertical.first.back() + vertical.count.back();
  }

  // Those rows, resampled (or cut, when the width stays) to the region's columns.
  RgbImage columns;
  if (resize_columns) {
    const resample::AxisCoeffs horizontal = resample::slice(
        resample::axis_coeffs(in_width, width, interpolation), region.left, region.width);
    columns = rgb_image(last_row - first_row, region.width);
    resample::horizontal_pass(image.data() + static_cast<std::size_t>(first_row) * in_width * 3,
                              last_row - first_row, in_width, horizontal, columns.data());
  } else {
    columns = copy_region(image, first_row, last_row, region.left, region.width);
  }
  if (!resize_rows) return columns;

  RgbImage out = rgb_image(region.height, region.width);
  resample::vertical_pass(columns.data(), static_cast<std::size_t>(region.width) * 3, vertical,
                          first_row, out.data());
  return out;
}

}  // namespace vitscope
