#pragma once
// The epilogue of every GEMM micro-tile, one row at a time: scale, bias, GELU, store or accumulate.
#include <algorithm>
#include <cstddef>

#include "kernels/gemm_driver.hpp"
#include "kernels/simd.hpp"

namespace vitscope::kernels::gemm_detail {

// The N bias values of the output panel starting at column j, of which cols are real: bias + j,
// or, for a last panel narrower than N, a copy zero-padded into tail. Null when bias is.
template <int N>
inline const float* panel_bias(const float* bias, int j, int cols, float (&tail)[N]) {
  if (!bias || cols == N) return bias ? bias + j : nullptr;
  std::fill(std::copy(bias + j, bias + j + cols, tail), tail + N, 0.0f);
  return tail;
}

// o[0, cols) (=|+=) act(alpha · x + bias) for one row of NV · kLanes sums x (overwritten); bias
// holds NV · kLanes values (zero past cols) or is null. cols <= NV · kLanes.
template <int NV>
inline void finish_row(simd::Batch (&x)[NV], const float* bias, float* o, int cols,
                       const Epilogue& e) {
  using simd::Batch;
  using simd::kLanes;
#pragma GCC unroll 4
  for (int v = 0; v < NV; ++v) {
    if (e.alpha != 1.0f) x[v] *= Batch(e.alpha);
    if (bias) x[v] += xsimd::load_unaligned(bias + v * kLanes);
    if (e.gelu) x[v] = simd::gelu(x[v]);
  }
  if (cols == NV * kLanes) {
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) {
      if (e.accumulate) x[v] += xsimd::load_unaligned(o + v * kLanes);
      x[v].store_unaligned(o + v * kLanes);
    }
  } else {
    alignas(simd::kAlignment) float row[NV * kLanes];
    for (int v = 0; v < NV; ++v) x[v].store_aligned(row + v * kLanes);
    for (int c = 0; c < cols; ++c) o[c] = e.accumulate ? o[c] + row[c] : row[c];
  }
}

}  // namespace vitscope::kernels::gemm_detail
