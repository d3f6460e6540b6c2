// LayerNorm over rows: scalar reference and the xsimd version. Both are two-pass (mean first, then
// the variance of the centred values), which stays accurate for rows with a large common offset
// where the one-pass E[x²] - E[x]² cancels.
#include "vitscope/kernels/layernorm.hpp"

#include "kernels/reference.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>

#include "kernels/parallel.hpp"
#include "kernels/simd.hpp"

namespace vitscope::kernels {
namespace {

using simd::Batch;
using simd::kLanes;

// Pass 1 estimates the mean; pass 2 sums the centred values d and d², and corrects both with Σd
// (the corrected two-pass algorithm): the mean error left by summing large offsets in fp32 is
// removed instead of being carried into every output.
void layernorm_row(const float* x, float* out, int cols, const float* gamma, const float* beta,
                   float eps) {
  const int body = cols - cols % kLanes;
  const float n = static_cast<float>(cols);

  Batch vsum(0.0f);
  for (int j = 0; j < body; j += kLanes) vsum += xsimd::load_unaligned(x + j);
  float sum = simd::reduce_add(vsum);
  for (int j = body; j < cols; ++j) sum += x[j];
  const float mean0 = sum / n;

  const Batch vmean0(mean0);
  Batch vd(0.0f), vsq(0.0f);
  for (int j = 0; j < body; j += kLanes) {
    const Batch d = xsimd::load_unaligned(x + j) - vmean0;
    vd += d;
    vsq = xsimd::fma(d, d, vsq);
  }
  float sum_d = simd::reduce_add(vd), sum_sq = simd::reduce_add(vsq);
  for (int j = body; j < cols; ++j) {
    const float d = x[j] - mean0;
    sum_d += d;
    sum_sq += d * d;
  }
  const float mean = mean0 + sum_d / n;
  const float var = std::max(0.0f, (sum_sq - sum_d * sum_d / n) / n);
  const float rstd = 1.0f / std::sqrt(var + eps);

  // x and out may alias: each element is read before it is written.
  const Batch vmean(mean), vrstd(rstd);
  for (int j = 0; j < body; j += kLanes) {
    const Batch y = (xsimd::load_unaligned(x + j) - vmean) * vrstd;
    xsimd::fma(y, xsimd::load_unaligned(gamma + j), xsimd::load_unaligned(beta + j))
        .store_unaligned(out + j);
  }
  for (int j = body; j < cols; ++j) out[j] = (x[j] - mean) * rstd * gamma[j] + beta[j];
}

}  // namespace

void layernorm(const float* x, int ldx, float* out, int ldo, int rows, int cols, const float* gamma,
               const float* beta, float eps, ThreadPool* pool) {
  if (rows <= 0 || cols <= 0) return;
  const std::size_t min_rows = std::max<std::size_t>(1, 16384 / static_cast<std::size_t>(cols));
  parallel_ranges(
      pool, static_cast<std::size_t>(rows), min_rows, [&](std::size_t r0, std::size_t r1) {
        for (std::size_t r = r0; r < r1; ++r) {
          layernorm_row(x + r * static_cast<std::size_t>(ldx),
                        out + r * static_cast<std::size_t>(ldo), cols, gamma, beta, eps);
        }
      });
}

// out = (x - mean) / sqrt(var + eps) · gamma + beta, mean and (biased) var over each row. The sums
// run in double so that the reference stays exact for rows with a large offset.
void layernorm_ref(const float* x, int ldx, float* out, int ldo, int rows, int cols,
                   const float* gamma, const float* beta, float eps) {
  for (int r = 0; r < rows; ++r) {
    const float* xr = x + static_cast<std::size_t>(r) * ldx;
    float* yr = out + static_cast<std::size_t>(r) * ldo;
    double mean = 0.0;
    for (int j = 0; j < cols; ++j) mean += xr[j];
    mean /= cols;
    double var = 0.0;
    for (int j = 0; j < cols; ++j) var += (xr[j] - mean) * (xr[j] - mean);
    var /= cols;
    const double inv_std = 1.0 / std::sqrt(var + eps);
    for (int j = 0; j < cols; ++j)
      yr[j] = static_cast<float>((xr[j] - mean) * inv_std * gamma[j] + beta[j]);
  }
}

}  // namespace vitscope::kernels
