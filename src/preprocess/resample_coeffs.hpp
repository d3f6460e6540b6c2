#pragma once
// Filter coefficients of PIL's separable resampling (Pillow 9.4, libImaging/Resample.c), computed
// with the same double arithmetic and rounding, then converted to PIL's fixed-point integers.
#include <cstdint>
#include <vector>

#include "vitscope/preprocess/preprocess.hpp"

namespace vitscope::resample {

// 8-bit results; two extra bits because the filters have negative lobes (sums outside [0, 1]).
constexpr int kPrecisionBits = 32 - 8 - 2;

// Coefficients along one axis, resampling in_size samples to out_size.
struct AxisCoeffs {
  int out_size = 0;
  int ksize = 0;                  // coefficient slots per output sample (PIL's ksize)
  std::vector<int> first;         // [out_size] first input sample used (PIL's xmin)
  std::vector<int> count;         // [out_size] number of input samples used (PIL's xmax)
  std::vector<std::int32_t> k;    // [out_size, ksize] fixed point, 1 << kPrecisionBits == 1.0
};

// PIL's precompute_coeffs followed by normalize_coeffs_8bpc, for the box [0, in_size).
AxisCoeffs axis_coeffs(int in_size, int out_size, Interpolation interpolation);

// Output samples [begin, begin + count) of `coeffs` alone, for computing part of a resized image.
AxisCoeffs slice(const AxisCoeffs& coeffs, int begin, int count);

}  // namespace vitscope::resample
