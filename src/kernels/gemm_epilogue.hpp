#pragma once
// The epilogue of every GEMM micro-tile, one row at a time: scale, bias, GELU, store or accumulate.
#include <algorithm>
#include <cstddef>

#include "kernels/gemm_driver.hpp"
#include "kernels/simd.hpp"
#include "vitscope/kernels/gemm.hpp"

namespace vitscope::kernels::gemm_detail {

// The N bias values of the output panel starting at column j, of which cols are real: bias + j,
// or, for a last panel narrower than N, a copy zero-padded into tail. Null when bias is.
template <int N>
inline const float* panel_bias(const float* bias, int j, int cols, float (&tail)[N]) {
  if (!bias || cols == N) return bias ? bias + j : nullptr;
  std::fill(std::copy(bias + j, bias + j + cols, tail), tail + N, 0.0f);
  return tail;
}

// The epilogue of the public linear() entry points.
inline Epilogue epilogue_of(const LinearEpilogue& e) {
  Epilogue out;
  out.bias = e.bias;
  out.gelu = e.gelu;
  out.residual = e.residual;
  out.accumulate = e.accumulate;
  out.lo = e.lo;
  out.hi = e.hi;
  return out;
}

// The residual rows of the output tile at (i, j), or null.
inline const float* residual_tile(const Epilogue& e, int i, int j, int ldo) {
  return e.residual ? e.residual + static_cast<std::ptrdiff_t>(i) * ldo + j : nullptr;
}

// o[0, cols) = clamp(act(alpha · x + bias) (+ residual) (+ o)) for one row of NV · kLanes sums x
// (overwritten); bias holds NV · kLanes values (zero past cols) or is null; residual is the row's
// residual (cols values) or null. cols <= NV · kLanes.
template <int NV>
inline void finish_row(simd::Batch (&x)[NV], const float* bias, const float* residual, float* o,
                       int cols, const Epilogue& e) {
  using simd::Batch;
  using simd::kLanes;
#pragma GCC unroll 4
  for (int v = 0; v < NV; ++v) {
    if (e.alpha != 1.0f) x[v] *= Batch(e.alpha);
    if (bias) x[v] += xsimd::load_unaligned(bias + v * kLanes);
    if (e.gelu) x[v] = simd::gelu(x[v]);
  }
  const bool clamped = e.clamped();
  if (cols == NV * kLanes) {
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) {
      if (residual) x[v] += xsimd::load_unaligned(residual + v * kLanes);
      if (e.accumulate) x[v] += xsimd::load_unaligned(o + v * kLanes);
      if (clamped) x[v] = xsimd::min(xsimd::max(x[v], Batch(e.lo)), Batch(e.hi));
      x[v].store_unaligned(o + v * kLanes);
    }
  } else {
    alignas(simd::kAlignment) float row[NV * kLanes];
    for (int v = 0; v < NV; ++v) x[v].store_aligned(row + v * kLanes);
    for (int c = 0; c < cols; ++c) {
      float y = row[c];
      if (residual) y += residual[c];
      if (e.accumulate) y += o[c];
      o[c] = clamped ? std::min(std::max(y, e.lo), e.hi) : y;
    }
  }
}

}  // namespace vitscope::kernels::gemm_detail
