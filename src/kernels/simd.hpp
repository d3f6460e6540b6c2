#pragma once
// The one SIMD vocabulary of the kernels: xsimd's widest float batch for the architecture the
// library is compiled for (16 lanes with AVX-512, 8 with AVX2, 4 with SSE2), plus the few helpers
// the kernels share. Kernel code is written against kLanes, never a literal lane count.
//
// GCC 12 reports -Wmaybe-uninitialized inside its own AVX-512 intrinsics (the `__m512 __Y = __Y;`
// "undefined value" idiom) wherever xsimd's exp/erf get inlined. The warning is emitted after
// inlining, so a push/pop around the include cannot scope it; it is silenced for the kernel
// sources that include this header.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <xsimd/xsimd.hpp>

#include <algorithm>
#include <cstddef>
#include <vector>

namespace vitscope::kernels::simd {

using Batch = xsimd::batch<float>;
constexpr int kLanes = static_cast<int>(Batch::size);
constexpr std::size_t kAlignment = 64;  // a cache line; also enough for every batch width

// Grow-only scratch memory, aligned for batch loads.
using AlignedVector = std::vector<float, xsimd::aligned_allocator<float, kAlignment>>;

inline float reduce_add(const Batch& v) { return xsimd::hadd(v); }

inline float reduce_max(const Batch& v) {
  alignas(kAlignment) float lanes[kLanes];
  v.store_aligned(lanes);
  return *std::max_element(lanes, lanes + kLanes);
}

// Exact GELU, 0.5 · x · (1 + erf(x / √2)), in PyTorch's operation order (x · 0.5 first).
inline Batch gelu(const Batch& x) {
  const Batch half(0.5f), one(1.0f), inv_sqrt2(0.70710678118654752440f);
  return x * half * (one + xsimd::erf(x * inv_sqrt2));
}

}  // namespace vitscope::kernels::simd
