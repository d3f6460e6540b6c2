// PIL's ImagingResample for 8-bit RGB (Pillow 9.4): a horizontal pass over only the rows the
// vertical pass will read, then a vertical pass; a pass runs only when the size changes along its
// axis, and the 8-bit rounding between the passes is kept.
#include <string>

#include "preprocess/resample_coeffs.hpp"
#include "preprocess/resample_passes.hpp"
#include "vitscope/error.hpp"
#include "vitscope/preprocess.hpp"

namespace vitscope {
namespace {

RgbImage rgb_image(int height, int width) {
  return RgbImage::from_shape({static_cast<std::size_t>(height), static_cast<std::size_t>(width), 3});
}

}  // namespace

RgbImage pil_resize(const RgbImage& image, int width, int height, Interpolation interpolation) {
  const int in_height = static_cast<int>(image.shape()[0]);
  const int in_width = static_cast<int>(image.shape()[1]);
  if (image.shape()[2] != 3) throw ConfigError("resize: the image must have 3 channels");
  if (width <= 0 || height <= 0 || in_width <= 0 || in_height <= 0) {
    throw ConfigError("resize: cannot resize " + std::to_string(in_width) + "x" +
                      std::to_string(in_height) + " to " + std::to_string(width) + "x" +
                      std::to_string(height));
  }
  if (width == in_width && height == in_height) return image;  // PIL returns a copy

  const resample::AxisCoeffs vertical = resample::axis_coeffs(in_height, height, interpolation);
  // Only rows [first_row, last_row) of the source feed the vertical pass, so only they are
  // resampled horizontally.
  const int first_row = vertical.first.front();
  const int last_row = vertical.first.back() + vertical.count.back();

  RgbImage horizontal_out;
  const RgbImage* source = &image;
  int row_shift = 0;
  if (width != in_width) {
    const resample::AxisCoeffs horizontal = resample::axis_coeffs(in_width, width, interpolation);
    horizontal_out = rgb_image(last_row - first_row, width);
    resample::horizontal_pass(image.data() + static_cast<std::size_t>(first_row) * in_width * 3,
                              last_row - first_row, in_width, horizontal, horizontal_out.data());
    source = &horizontal_out;
    row_shift = first_row;
  }
  if (height == in_height) return horizontal_out;

  RgbImage out = rgb_image(height, width);
  resample::vertical_pass(source->data(), static_cast<std::size_t>(width) * 3, vertical, row_shift,
                          out.data());
  return out;
}

}  // namespace vitscope
