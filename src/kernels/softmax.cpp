// Row-wise softmax: scalar reference and the xsimd version.
#include "vitscope/kernels/softmax.hpp"

#include "kernels/reference.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>

#include "kernels/parallel.hpp"
#include "kernels/simd.hpp"

namespace vitscope::kernels {
namespace {

using simd::Batch;
using simd::kLanes;

// x[cols] ← softmax(x): exp(x - max) / Σ exp(x - max). Multiplying by the reciprocal of the sum,
// as PyTorch's vectorised CPU softmax does, costs at most one rounding more than dividing.
void softmax_row(float* x, int cols) {
  const int body = cols - cols % kLanes;
  constexpr float kMinusInf = -std::numeric_limits<float>::infinity();

  Batch vmax(kMinusInf);
  for (int j = 0; j < body; j += kLanes) vmax = xsimd::max(vmax, xsimd::load_unaligned(x + j));
  float max = simd::reduce_max(vmax);
  for (int j = body; j < cols; ++j) max = std::max(max, x[j]);

  // The tail goes through the same vector exp (padded with -inf, whose exp is 0), so every element
  // is computed the same way whatever its position.
  const Batch vmax_all(max);
  Batch vsum(0.0f);
  for (int j = 0; j < body; j += kLanes) {
    const Batch e = simd::exp(xsimd::load_unaligned(x + j) - vmax_all);
    e.store_unaligned(x + j);
    vsum += e;
  }
  alignas(simd::kAlignment) float tail[kLanes];
  if (body < cols) {
    std::fill(std::copy(x + body, x + cols, tail), tail + kLanes, kMinusInf);
    const Batch e = simd::exp(xsimd::load_aligned(tail) - vmax_all);
    e.store_aligned(tail);
    vsum += e;
  }
  const float inv_sum = 1.0f / simd::reduce_add(vsum);
  const Batch vinv_sum(inv_sum);

  for (int j = 0; j < body; j += kLanes)
    (xsimd::load_unaligned(x + j) * vinv_sum).store_unaligned(x + j);
  for (int j = body; j < cols; ++j) x[j] = tail[j - body] * inv_sum;
}

}  // namespace

void softmax_rows(float* x, int rows, int cols, int ld, ThreadPool* pool) {
  if (rows <= 0 || cols <= 0) return;
  // A row of attention probabilities (197 wide) is ~1 µs of work: hand rows to threads in blocks.
  const std::size_t min_rows = std::max<std::size_t>(1, 8192 / static_cast<std::size_t>(cols));
  parallel_ranges(pool, static_cast<std::size_t>(rows), min_rows,
                  [&](std::size_t r0, std::size_t r1) {
                    for (std::size_t r = r0; r < r1; ++r)
                      softmax_row(x + r * static_cast<std::size_t>(ld), cols);
                  });
}

// x[rows, cols] ← exp(x - max_row) / Σ_row exp(x - max_row)
void softmax_rows_ref(float* x, int rows, int cols, int ld) {
  for (int r = 0; r < rows; ++r) {
    float* row = x + static_cast<std::size_t>(r) * ld;
    float max = row[0];
    for (int j = 1; j < cols; ++j) max = std::max(max, row[j]);
    float sum = 0.0f;
    for (int j = 0; j < cols; ++j) {
      row[j] = std::exp(row[j] - max);
      sum += row[j];
    }
    for (int j = 0; j < cols; ++j) row[j] /= sum;
  }
}

}  // namespace vitscope::kernels
