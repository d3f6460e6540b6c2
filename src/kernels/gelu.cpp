// Exact (erf) GELU: scalar reference and the xsimd version.
#include "vitscope/kernels/gelu.hpp"

#include "kernels/reference.hpp"

#include <algorithm>
#include <cmath>

#include "kernels/parallel.hpp"
#include "kernels/simd.hpp"

namespace vitscope::kernels {
namespace {

using simd::Batch;
using simd::kLanes;

void gelu_range(float* x, std::size_t n) {
  const std::size_t body = n - n % kLanes;
  for (std::size_t i = 0; i < body; i += kLanes)
    simd::gelu(xsimd::load_unaligned(x + i)).store_unaligned(x + i);
  if (body < n) {  // the tail through the same vector code, so every element is computed alike
    alignas(simd::kAlignment) float tail[kLanes] = {};
    std::copy(x + body, x + n, tail);
    simd::gelu(xsimd::load_aligned(tail)).store_aligned(tail);
    std::copy(tail, tail + (n - body), x + body);
  }
}

}  // namespace

void gelu(float* x, std::size_t n, ThreadPool* pool) {
  parallel_ranges(pool, n, 32768,
                  [&](std::size_t begin, std::size_t end) { gelu_range(x + begin, end - begin); });
}

// x ← 0.5 · x · (1 + erf(x / √2))
void gelu_ref(float* x, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i)
    x[i] = 0.5f * x[i] * (1.0f + std::erf(x[i] * 0.70710678118654752440f));
}

}  // namespace vitscope::kernels
