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
#if defined(__AVX512F__)
#include <immintrin.h>
#endif

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
#if defined(__AVX512F__)
  static_assert(kLanes == 16, "a zmm of floats");
  // A tree of shuffles and max (halves, quarters, pairs, neighbours), not 16 dependent compares.
  __m512 m = _mm512_max_ps(v, _mm512_shuffle_f32x4(v, v, 0x4e));
  m = _mm512_max_ps(m, _mm512_shuffle_f32x4(m, m, 0xb1));
  m = _mm512_max_ps(m, _mm512_permute_ps(m, 0x4e));
  m = _mm512_max_ps(m, _mm512_permute_ps(m, 0xb1));
  return _mm512_cvtss_f32(m);
#else
  alignas(kAlignment) float lanes[kLanes];
  v.store_aligned(lanes);
  return *std::max_element(lanes, lanes + kLanes);
#endif
}

// e^x, within 2 ulp of the exact value where that is a normal float (x ≥ −87.3), 0 for −∞ and far
// below, +∞ far above, NaN for NaN. With AVX-512 the denormals in between are kept (0 from −103.9
// on, +∞ from 88.8 on); xsimd::exp, elsewhere, flushes from −88.4 and overflows from 88.4. With AVX-512:
// x = n·ln 2 + r, |r| ≤ ln 2 / 2, e^r by a degree-7 Taylor polynomial (its error, r⁸/8!, is below
// 2⁻²⁶ there) and 2ⁿ applied by vscalefps: 14 instructions, against about 20 for xsimd::exp's
// range checks and exponent assembly. Elsewhere xsimd::exp.
inline Batch exp(const Batch& x) {
#if defined(__AVX512F__)
  // Clamped so that n stays finite; max/min return their second operand, x, when it is NaN.
  const __m512 v = _mm512_min_ps(_mm512_set1_ps(89.0f), _mm512_max_ps(_mm512_set1_ps(-104.5f), x));
  const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(v, _mm512_set1_ps(1.44269504088896341f)),
                                        _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  // r = x − n·ln 2 with ln 2 in two parts (Cody–Waite): n·ln2_hi is exact for |n| < 2⁹.
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693145751953125f), v);
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(1.428606765330187045e-06f), r);
  __m512 p = _mm512_set1_ps(1.0f / 5040);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 720));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 120));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 24));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 6));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.5f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
  // At the lower clamp, p · 2ⁿ is below half the smallest denormal and rounds to 0.
  return _mm512_scalef_ps(p, n);
#else
  return xsimd::exp(x);
#endif
}

// erf(x) as one rational function, x·P(x²)/Q(x²) on [-4, 4] (|erf| rounds to 1 in fp32 beyond):
// 12 FMAs, a division and two clamps, against xsimd::erf's several branches with an exp each. Fitted by
// iteratively reweighted least squares on [-4, 4]; evaluated in fp32 its absolute error is at most
// 3.6e-7 (the fp32 rounding of P/Q, ~5 ulp of 1), measured against double erf on a 1e-5 grid of
// [-6, 6] by tests/kernels/test_gelu.cpp. PyTorch's own vectorised erf is within 5.4e-7.
inline Batch erf_rational(const Batch& x_in) {
  const Batch x = xsimd::min(xsimd::max(x_in, Batch(-4.0f)), Batch(4.0f));
  const Batch x2 = x * x;
  Batch p = xsimd::fma(x2, Batch(-1.39700589e-08f), Batch(4.84182374e-06f));
  p = xsimd::fma(x2, p, Batch(3.84847663e-04f));
  p = xsimd::fma(x2, p, Batch(3.83946369e-03f));
  p = xsimd::fma(x2, p, Batch(5.43628372e-02f));
  p = xsimd::fma(x2, p, Batch(1.84541285e-01f));
  p = xsimd::fma(x2, p, Batch(1.12837923e+00f));
  Batch q = xsimd::fma(x2, Batch(6.45906548e-05f), Batch(1.31246529e-03f));
  q = xsimd::fma(x2, q, Batch(1.54609317e-02f));
  q = xsimd::fma(x2, q, Batch(1.13803037e-01f));
  q = xsimd::fma(x2, q, Batch(4.96879041e-01f));
  q = xsimd::fma(x2, q, Batch(1.0f));
  // Clamped to [-1, 1] so that 1 + erf is exactly 0 far left, as GELU's tail needs.
  return xsimd::min(xsimd::max(x * p / q, Batch(-1.0f)), Batch(1.0f));
}

// GELU, 0.5 · x · (1 + erf(x / √2)), in PyTorch's operation order (x · 0.5 first), with the
// rational erf above: the GELU of fc1's epilogue is the costliest elementwise step of a ViT, and
// xsimd::erf made it ~15% of fc1's time.
inline Batch gelu(const Batch& x) {
  const Batch half(0.5f), one(1.0f), inv_sqrt2(0.70710678118654752440f);
  return x * half * (one + erf_rational(x * inv_sqrt2));
}

}  // namespace vitscope::kernels::simd
