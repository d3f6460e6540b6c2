// PIL's precompute_coeffs and normalize_coeffs_8bpc. Every expression keeps PIL's order of
// operations so the double weights, and hence the rounded integers, are bit-identical.
//
// PIL is built without FMA; contracting a*b+c into one fused operation here would change the
// rounding of the filter weights, so the build compiles this file with -ffp-contract=off
// (CMakeLists.txt; a GCC pragma would not bind clang).

#include "preprocess/resample_coeffs.hpp"

#include <cmath>

#include "vitscope/core/error.hpp"

namespace vitscope::resample {
namespace {

struct Filter {
  double (*weight)(double x);
  double support;
};

double bilinear_filter(double x) {
  if (x < 0.0) x = -x;
  if (x < 1.0) return 1.0 - x;
  return 0.0;
}

// Keys' cubic convolution with a = -0.5.
double bicubic_filter(double x) {
  constexpr double a = -0.5;
  if (x < 0.0) x = -x;
  if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
  if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
  return 0.0;
}

Filter filter_for(Interpolation interpolation) {
  switch (interpolation) {
    case Interpolation::Bilinear: return {bilinear_filter, 1.0};
    case Interpolation::Bicubic: return {bicubic_filter, 2.0};
  }
  throw ConfigError("interpolation: unknown filter");
}

}  // namespace

AxisCoeffs axis_coeffs(int in_size, int out_size, Interpolation interpolation) {
  if (in_size <= 0 || out_size <= 0) {
    throw ConfigError("resize: sizes must be positive (" + std::to_string(in_size) + " -> " +
                      std::to_string(out_size) + ")");
  }
  const Filter filter = filter_for(interpolation);
  // PIL takes the box edges as floats: in1 - in0 is a float subtraction.
  const float in0 = 0.0f, in1 = static_cast<float>(in_size);
  const double scale = static_cast<double>(in1 - in0) / out_size;
  const double filterscale = scale < 1.0 ? 1.0 : scale;
  const double support = filter.support * filterscale;
  const int ksize = static_cast<int>(std::ceil(support)) * 2 + 1;

  AxisCoeffs out;
  out.out_size = out_size;
  out.ksize = ksize;
  out.first.resize(out_size);
  out.count.resize(out_size);
  out.k.assign(static_cast<std::size_t>(out_size) * ksize, 0);
  std::vector<double> weights(ksize);
  for (int xx = 0; xx < out_size; ++xx) {
    const double center = in0 + (xx + 0.5) * scale;
    const double ss = 1.0 / filterscale;
    int xmin = static_cast<int>(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    int xmax = static_cast<int>(center + support + 0.5);
    if (xmax > in_size) xmax = in_size;
    xmax -= xmin;
    double ww = 0.0;
    for (int x = 0; x < xmax; ++x) {
      const double w = filter.weight((x + xmin - center + 0.5) * ss);
      weights[x] = w;
      ww += w;
    }
    std::int32_t* k = &out.k[static_cast<std::size_t>(xx) * ksize];
    for (int x = 0; x < xmax; ++x) {
      const double normalised = ww != 0.0 ? weights[x] / ww : weights[x];
      // normalize_coeffs_8bpc: round half away from zero to fixed point.
      k[x] = normalised < 0
                 ? static_cast<std::int32_t>(-0.5 + normalised * (1 << kPrecisionBits))
                 : static_cast<std::int32_t>(0.5 + normalised * (1 << kPrecisionBits));
    }
    out.first[xx] = xmin;
    out.count[xx] = xmax;
  }
  return out;
}

AxisCoeffs slice(const AxisCoeffs& coeffs, int begin, int count) {
  AxisCoeffs out;
  out.out_size = count;
  out.ksize = coeffs.ksize;
  out.first.assign(coeffs.first.begin() + begin, coeffs.first.begin() + begin + count);
  out.count.assign(coeffs.count.begin() + begin, coeffs.count.begin() + begin + count);
  const auto k_begin = coeffs.k.begin() + static_cast<std::ptrdiff_t>(begin) * coeffs.ksize;
  out.k.assign(k_begin, k_begin + static_cast<std::ptrdiff_t>(count) * coeffs.ksize);
  return out;
}

}  // namespace vitscope::resample
