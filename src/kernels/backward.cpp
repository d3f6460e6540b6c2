// Backward passes of LayerNorm, GELU and softmax (see backward.hpp). Sums are kept in double:
// a gradient check against float64 autograd is only as good as its reductions.
#include "vitscope/kernels/backward.hpp"

#include <cmath>

namespace vitscope::kernels {

void layernorm_backward(const float* dy, const float* xhat, const float* rstd, const float* gamma,
                        int rows, int cols, float* dx, bool accumulate) {
  for (int r = 0; r < rows; ++r) {
    const float* dyr = dy + static_cast<long>(r) * cols;
    const float* xr = xhat + static_cast<long>(r) * cols;
    float* out = dx + static_cast<long>(r) * cols;
    double sum_g = 0, sum_gx = 0;
    for (int c = 0; c < cols; ++c) {
      const double g = static_cast<double>(dyr[c]) * gamma[c];
      sum_g += g;
      sum_gx += g * xr[c];
    }
    const double mean_g = sum_g / cols, mean_gx = sum_gx / cols;
    for (int c = 0; c < cols; ++c) {
      const double g = static_cast<double>(dyr[c]) * gamma[c];
      const float value = static_cast<float>(rstd[r] * (g - mean_g - xr[c] * mean_gx));
      out[c] = accumulate ? out[c] + value : value;
    }
  }
}

void gelu_backward(const float* x, float* dy, int n) {
  const double inv_sqrt2 = 1.0 / std::sqrt(2.0), inv_sqrt_2pi = 1.0 / std::sqrt(2.0 * M_PI);
  for (int i = 0; i < n; ++i) {
    const double v = x[i];
    const double cdf = 0.5 * (1.0 + std::erf(v * inv_sqrt2));
    const double pdf = inv_sqrt_2pi * std::exp(-0.5 * v * v);
    dy[i] = static_cast<float>(dy[i] * (cdf + v * pdf));
  }
}

void softmax_backward(const float* p, float* dp, int rows, int cols) {
  for (int r = 0; r < rows; ++r) {
    const float* pr = p + static_cast<long>(r) * cols;
    float* dr = dp + static_cast<long>(r) * cols;
    double dot = 0;
    for (int c = 0; c < cols; ++c) dot += static_cast<double>(dr[c]) * pr[c];
    for (int c = 0; c < cols; ++c) dr[c] = static_cast<float>(pr[c] * (dr[c] - dot));
  }
}

}  // namespace vitscope::kernels
