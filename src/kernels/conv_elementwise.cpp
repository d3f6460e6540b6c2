// The element-wise steps around the convolutions: activation clamps, residual additions, and the
// clamps' derivative for back-propagation.
#include <algorithm>
#include <cstddef>

#include "kernels/parallel.hpp"
#include "kernels/simd.hpp"
#include "vitscope/kernels/conv.hpp"

namespace vitscope::kernels {
namespace {

using simd::Batch;
using simd::kLanes;

// Below this many elements per thread the hand-off costs more than the work.
constexpr std::size_t kMinPerTask = 1 << 15;

}  // namespace

void clamp_inplace(float* x, std::size_t n, Clamp clamp, ThreadPool* pool) {
  parallel_ranges(pool, n, kMinPerTask, [&](std::size_t begin, std::size_t end) {
    const Batch lo(clamp.lo), hi(clamp.hi);
    std::size_t i = begin;
    for (; i + kLanes <= end; i += kLanes)
      xsimd::min(xsimd::max(xsimd::load_unaligned(x + i), lo), hi).store_unaligned(x + i);
    for (; i < end; ++i) x[i] = std::min(std::max(x[i], clamp.lo), clamp.hi);
  });
}

void add_clamp(const float* a, const float* b, std::size_t n, Clamp clamp, float* out,
               ThreadPool* pool) {
  parallel_ranges(pool, n, kMinPerTask, [&](std::size_t begin, std::size_t end) {
    const Batch lo(clamp.lo), hi(clamp.hi);
    std::size_t i = begin;
    for (; i + kLanes <= end; i += kLanes)
      xsimd::min(xsimd::max(xsimd::load_unaligned(a + i) + xsimd::load_unaligned(b + i), lo), hi)
          .store_unaligned(out + i);
    for (; i < end; ++i) out[i] = std::min(std::max(a[i] + b[i], clamp.lo), clamp.hi);
  });
}

void clamp_backward_inplace(const float* y, std::size_t n, Clamp clamp, float* grad) {
  if (clamp.is_none()) return;
  for (std::size_t i = 0; i < n; ++i)
    if (!(y[i] > clamp.lo && y[i] < clamp.hi)) grad[i] = 0.0f;
}

}  // namespace vitscope::kernels
