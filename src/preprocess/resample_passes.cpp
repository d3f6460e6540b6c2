// Portable resampling passes (see resample_passes.hpp).
#include "preprocess/resample_passes.hpp"

#include <algorithm>
#include <vector>

namespace vitscope::resample {
namespace {

constexpr std::int32_t kHalf = 1 << (kPrecisionBits - 1);  // rounds the fixed-point sums

// PIL's clip8: drop the fraction bits (arithmetic shift), clamp to 0..255.
inline std::uint8_t clip8(std::int32_t sum) {
  const std::int32_t v = sum >> kPrecisionBits;
  return static_cast<std::uint8_t>(v < 0 ? 0 : v > 255 ? 255 : v);
}

// in[rows, cols, 3] → out[cols, rows, 3], in tiles small enough to stay in cache.
void transpose_pixels(const std::uint8_t* in, int rows, int cols, std::uint8_t* out) {
  constexpr int kTile = 32;
  const std::size_t in_stride = static_cast<std::size_t>(cols) * 3;
  for (int r0 = 0; r0 < rows; r0 += kTile) {
    const int r1 = std::min(rows, r0 + kTile);
    for (int c0 = 0; c0 < cols; c0 += kTile) {
      const int c1 = std::min(cols, c0 + kTile);
      for (int c = c0; c < c1; ++c) {
        const std::uint8_t* src = in + static_cast<std::size_t>(r0) * in_stride + c * 3;
        std::uint8_t* dst = out + (static_cast<std::size_t>(c) * rows + r0) * 3;
        for (int r = r0; r < r1; ++r, src += in_stride, dst += 3) {
          dst[0] = src[0];
          dst[1] = src[1];
          dst[2] = src[2];
        }
      }
    }
  }
}

}  // namespace

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

void horizontal_pass_portable(const std::uint8_t* in, int rows, int in_width,
                              const AxisCoeffs& coeffs, std::uint8_t* out) {
  // columns[in_width, rows, 3] → resampled columns[out_size, rows, 3] → out[rows, out_size, 3]
  std::vector<std::uint8_t> columns(static_cast<std::size_t>(rows) * in_width * 3);
  transpose_pixels(in, rows, in_width, columns.data());
  std::vector<std::uint8_t> resampled(static_cast<std::size_t>(rows) * coeffs.out_size * 3);
  vertical_pass(columns.data(), static_cast<std::size_t>(rows) * 3, coeffs, 0, resampled.data());
  transpose_pixels(resampled.data(), coeffs.out_size, rows, out);
}

void horizontal_pass(const std::uint8_t* in, int rows, int in_width, const AxisCoeffs& coeffs,
                     std::uint8_t* out) {
#if VITSCOPE_HAVE_AVX512_RESAMPLE
  horizontal_pass_avx512(in, rows, in_width, coeffs, out);
#else
  horizontal_pass_portable(in, rows, in_width, coeffs, out);
#endif
}

}  // namespace vitscope::resample
