// PIL's ImagingResample for 8-bit RGB: a horizontal pass over only the rows the vertical pass
// will read, then a vertical pass; a pass runs only when the size changes along its axis. Sums are
// exact 32-bit integers, so the loops below may add in any order and still equal PIL's results.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "preprocess/resample_coeffs.hpp"
#include "preprocess/rgb_batch.hpp"
#include "vitscope/error.hpp"
#include "vitscope/preprocess.hpp"

namespace vitscope {
namespace {

using resample::AxisCoeffs;
using resample::kPrecisionBits;
using rgb_batch::IntBatch;
using rgb_batch::kLanes;
using rgb_batch::kPixelsPerBatch;
using AlignedInts = std::vector<std::int32_t, xsimd::aligned_allocator<std::int32_t, 64>>;

constexpr std::int32_t kHalf = 1 << (kPrecisionBits - 1);  // rounds the fixed-point sums

// PIL's clip8: drop the fraction bits (arithmetic shift), clamp to 0..255.
inline std::uint8_t clip8(std::int32_t sum) {
  const std::int32_t v = sum >> kPrecisionBits;
  return static_cast<std::uint8_t>(v < 0 ? 0 : v > 255 ? 255 : v);
}
inline IntBatch clip8(const IntBatch& sum) {
  return xsimd::min(xsimd::max(sum >> kPrecisionBits, IntBatch(0)), IntBatch(255));
}

// Horizontal pass, one row at a time:
//   out[x, c] = clip8(Σ_tap in[first[x] + tap, c] · k[x, tap])
// A batch holds kPixelsPerBatch consecutive taps of one output pixel as R, G, B, 0 lanes, so the
// weights are stored to match: each tap's weight repeated for R, G, B, and 0 for the padding lane
// and past the pixel's last tap. kPixelsPerBatch output pixels are finished together, which lets
// the final reduction, rounding and clamping run on whole batches.
class HorizontalPass {
 public:
  HorizontalPass(const AxisCoeffs& coeffs, int in_width) : coeffs_(coeffs), in_width_(in_width) {
    int max_count = 0;
    for (int c : coeffs.count) max_count = std::max(max_count, c);
    max_batches_ = (max_count + kPixelsPerBatch - 1) / kPixelsPerBatch;
    weights_.assign(static_cast<std::size_t>(coeffs.out_size) * max_batches_ * kLanes, 0);
    for (int xx = 0; xx < coeffs.out_size; ++xx) {
      const std::int32_t* k = &coeffs.k[static_cast<std::size_t>(xx) * coeffs.ksize];
      std::int32_t* w = &weights_[static_cast<std::size_t>(xx) * max_batches_ * kLanes];
      for (int tap = 0; tap < coeffs.count[xx]; ++tap) {
        for (int c = 0; c < 3; ++c) w[tap * 4 + c] = k[tap];
      }
    }
    // A pixel's last batch reads up to a batch of taps past its count, and each load may read a
    // few bytes more: the row is copied into a zero-padded buffer.
    row_.assign(static_cast<std::size_t>(in_width + max_batches_ * kPixelsPerBatch) * 3 +
                    rgb_batch::kLoadBytes, 0);
  }

  void run_row(const std::uint8_t* in_row, std::uint8_t* out_row) {
    std::memcpy(row_.data(), in_row, static_cast<std::size_t>(in_width_) * 3);
    const int out_size = coeffs_.out_size;
    for (int x0 = 0; x0 < out_size; x0 += kPixelsPerBatch) {
      const int pixels = std::min(kPixelsPerBatch, out_size - x0);
      IntBatch acc[kPixelsPerBatch];
      for (int p = 0; p < kPixelsPerBatch; ++p) acc[p] = IntBatch(0);
      for (int p = 0; p < pixels; ++p) {
        const int xx = x0 + p;
        const std::uint8_t* src = row_.data() + 3 * coeffs_.first[xx];
        const std::int32_t* w = &weights_[static_cast<std::size_t>(xx) * max_batches_ * kLanes];
        const int batches = (coeffs_.count[xx] + kPixelsPerBatch - 1) / kPixelsPerBatch;
        IntBatch sum(0);
        for (int b = 0; b < batches; ++b, src += 3 * kPixelsPerBatch, w += kLanes) {
          sum += rgb_batch::native::load_pixels(src) * IntBatch::load_aligned(w);
        }
        acc[p] = sum;
      }
      const IntBatch sums = rgb_batch::native::sum_groups(acc) + IntBatch(kHalf);
      rgb_batch::native::store_pixels(clip8(sums), pixels, out_row + 3 * x0);
    }
  }

 private:
  const AxisCoeffs& coeffs_;
  int in_width_;
  int max_batches_ = 0;
  AlignedInts weights_;            // [out_size, max_batches, kLanes]
  std::vector<std::uint8_t> row_;  // the current source row, zero padded
};

// Vertical pass over rows of `row_values` bytes (width · 3), reading input rows from
// first[y] - row_shift on (the horizontal pass may have produced only a band of the rows):
//   out[y, v] = clip8(Σ_tap in[first[y] - row_shift + tap, v] · k[y, tap])
// The inner loop runs along a row with one weight, which the compiler vectorises.
void vertical_pass(const std::uint8_t* in, std::size_t row_values, const AxisCoeffs& coeffs,
                   int row_shift, std::uint8_t* out) {
  std::vector<std::int32_t> acc(row_values);
  for (int yy = 0; yy < coeffs.out_size; ++yy) {
    const std::int32_t* k = &coeffs.k[static_cast<std::size_t>(yy) * coeffs.ksize];
    const std::uint8_t* rows =
        in + static_cast<std::size_t>(coeffs.first[yy] - row_shift) * row_values;
    std::fill(acc.begin(), acc.end(), kHalf);
    for (int tap = 0; tap < coeffs.count[yy]; ++tap) {
      const std::uint8_t* row = rows + static_cast<std::size_t>(tap) * row_values;
      const std::int32_t weight = k[tap];
      std::int32_t* a = acc.data();
      for (std::size_t v = 0; v < row_values; ++v) a[v] += static_cast<std::int32_t>(row[v]) * weight;
    }
    std::uint8_t* out_row = out + static_cast<std::size_t>(yy) * row_values;
    for (std::size_t v = 0; v < row_values; ++v) out_row[v] = clip8(acc[v]);
  }
}

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

  const bool need_horizontal = width != in_width;
  const bool need_vertical = height != in_height;
  const AxisCoeffs vertical = resample::axis_coeffs(in_height, height, interpolation);

  // Only rows [first_row, last_row) of the source feed the vertical pass, so only they are
  // resampled horizontally.
  const int first_row = vertical.first.front();
  const int last_row = vertical.first.back() + vertical.count.back();

  RgbImage horizontal_out;
  const RgbImage* source = &image;
  int row_shift = 0;
  if (need_horizontal) {
    const AxisCoeffs horizontal = resample::axis_coeffs(in_width, width, interpolation);
    HorizontalPass pass(horizontal, in_width);
    horizontal_out = rgb_image(last_row - first_row, width);
    for (int y = first_row; y < last_row; ++y) {
      pass.run_row(image.data() + static_cast<std::size_t>(y) * in_width * 3,
                   horizontal_out.data() + static_cast<std::size_t>(y - first_row) * width * 3);
    }
    source = &horizontal_out;
    row_shift = first_row;
  }
  if (!need_vertical) return horizontal_out;

  RgbImage out = rgb_image(height, width);
  vertical_pass(source->data(), static_cast<std::size_t>(width) * 3, vertical, row_shift, out.data());
  return out;
}

}  // namespace vitscope
