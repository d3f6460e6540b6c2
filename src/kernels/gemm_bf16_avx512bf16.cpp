// AVX512-BF16 routines of the bf16 GEMM: fp32 → bf16-pair conversion of A, packing of B, and the
// vdpbf16ps micro-kernel. See gemm_bf16_layout.hpp for the layouts.
//
// CMake compiles this file with -mavx512bf16 (and F/BW/DQ/VL) whatever the target, and its
// functions run only after the runtime check, so the file must not define or instantiate any inline
// function or template that other files share (standard algorithms, xsimd, ...): the linker keeps
// one copy of those, possibly this file's, with AVX-512 instructions in it. Everything but the
// declared entry points is in an anonymous namespace, and only intrinsics are used.
//
// GCC 12 reports -Wmaybe-uninitialized inside its own AVX-512 intrinsics (the `__m512i __Y = __Y;`
// "undefined value" idiom of the unmasked forms); the warning is emitted after inlining, so it is
// silenced for the whole file, as in simd.hpp.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#include "kernels/gemm_bf16_layout.hpp"

#if !defined(__AVX512BF16__) || !defined(__AVX512BW__)
#error "gemm_bf16_avx512bf16.cpp must be compiled with -mavx512bf16 -mavx512bw (see CMakeLists.txt)"
#endif

namespace vitscope::kernels::gemm_bf16_detail::avx512bf16 {
namespace {

int min_int(int a, int b) { return a < b ? a : b; }

// The first `count` of 16 lanes (none when count <= 0).
__mmask16 first_lanes(int count) {
  if (count <= 0) return 0;
  if (count >= 16) return 0xffff;
  return static_cast<__mmask16>((1u << count) - 1u);
}

// 16 floats from p, lanes past `count` zero; p is not touched when count <= 0.
__m512 load_floats(const float* p, int count) {
  if (count >= 16) return _mm512_loadu_ps(p);
  if (count <= 0) return _mm512_setzero_ps();
  return _mm512_maskz_loadu_ps(first_lanes(count), p);
}

// 32 consecutive K elements (lo = elements 0..15, hi = 16..31) as 16 bf16 pairs, in order.
// vcvtne2ps2bf16 rounds to nearest even, keeps NaN, and flushes denormals to zero.
__m512i to_pairs(__m512 lo, __m512 hi) {
  return reinterpret_cast<__m512i>(_mm512_cvtne2ps_pbh(hi, lo));
}

// The next 32 K elements from src, of which `left` (> 0) remain, as 16 pairs (zero past the end).
__m512i load_pairs(const float* src, int left) {
  if (left >= 32) return to_pairs(_mm512_loadu_ps(src), _mm512_loadu_ps(src + 16));
  return to_pairs(load_floats(src, left),
                  left > 16 ? load_floats(src + 16, left - 16) : _mm512_setzero_ps());
}

// Pairs (lo[j], hi[j]) for j < 16: two K rows of 16 columns each, interleaved column by column.
__m512i interleave_to_pairs(__m512 lo, __m512 hi) {
  // Word 2j of the result is word j of the conversion (lo[j]), word 2j+1 is word 16+j (hi[j]).
  alignas(64) static const std::uint16_t kInterleave[32] = {
      0, 16, 1, 17, 2,  18, 3,  19, 4,  20, 5,  21, 6,  22, 7,  23,
      8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31};
  const __m512i words = to_pairs(lo, hi);
  return _mm512_permutexvar_epi16(_mm512_load_si512(kInterleave), words);
}

// In-place transpose of a 16 × 16 matrix of 32-bit words, one row per register.
void transpose_16x16(__m512i r[16]) {
  __m512i t[16];
  // Within each 128-bit lane L: t[4i+0..3] interleave rows 4i..4i+3 pairwise.
  for (int i = 0; i < 8; ++i) {
    t[2 * i] = _mm512_unpacklo_epi32(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm512_unpackhi_epi32(r[2 * i], r[2 * i + 1]);
  }
  // r[4i+c], lane L: rows 4i..4i+3 of column 4L+c.
  for (int i = 0; i < 4; ++i) {
    r[4 * i + 0] = _mm512_unpacklo_epi64(t[4 * i], t[4 * i + 2]);
    r[4 * i + 1] = _mm512_unpackhi_epi64(t[4 * i], t[4 * i + 2]);
    r[4 * i + 2] = _mm512_unpacklo_epi64(t[4 * i + 1], t[4 * i + 3]);
    r[4 * i + 3] = _mm512_unpackhi_epi64(t[4 * i + 1], t[4 * i + 3]);
  }
  // t[c]: rows 0-3 and 4-7 of columns c and 8+c; t[4+c] the same of 4+c and 12+c; t[8+c] and
  // t[12+c] likewise for rows 8-15.
  for (int c = 0; c < 4; ++c) {
    t[c] = _mm512_shuffle_i32x4(r[c], r[4 + c], 0x88);
    t[4 + c] = _mm512_shuffle_i32x4(r[c], r[4 + c], 0xdd);
    t[8 + c] = _mm512_shuffle_i32x4(r[8 + c], r[12 + c], 0x88);
    t[12 + c] = _mm512_shuffle_i32x4(r[8 + c], r[12 + c], 0xdd);
  }
  for (int c = 0; c < 4; ++c) {
    r[c] = _mm512_shuffle_i32x4(t[c], t[8 + c], 0x88);
    r[8 + c] = _mm512_shuffle_i32x4(t[c], t[8 + c], 0xdd);
    r[4 + c] = _mm512_shuffle_i32x4(t[4 + c], t[12 + c], 0x88);
    r[12 + c] = _mm512_shuffle_i32x4(t[4 + c], t[12 + c], 0xdd);
  }
}

// sums[kMR][0 : 16·NV) (=|+=) Σ_p a[r·lda2 + p] ⊙ b[p][0 : 16·NV) over kc2 pair steps: the first NV
// vectors of a kNR-wide panel (fewer than kNV for the last panel of an N that is not a multiple of
// kNR, e.g. the 197 keys of attention).
template <int NV>
void micro_kernel(int kc2, const std::uint32_t* a, std::ptrdiff_t lda2, const std::uint32_t* b,
                  float* sums, bool accumulate) {
  __m512 acc[kMR][NV];
#pragma GCC unroll 8
  for (int r = 0; r < kMR; ++r) {
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) {
      acc[r][v] = accumulate ? _mm512_loadu_ps(sums + r * kNR + v * kZmmFloats)
                             : _mm512_setzero_ps();
    }
  }
  const std::uint32_t* rows[kMR];
#pragma GCC unroll 8
  for (int r = 0; r < kMR; ++r) rows[r] = a + r * lda2;

  for (int p = 0; p < kc2; ++p) {
    __m512bh bv[NV];
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) {
      bv[v] = reinterpret_cast<__m512bh>(_mm512_loadu_si512(b + v * kZmmFloats));
    }
#pragma GCC unroll 8
    for (int r = 0; r < kMR; ++r) {
      const __m512bh av =
          reinterpret_cast<__m512bh>(_mm512_set1_epi32(static_cast<int>(rows[r][p])));
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) acc[r][v] = _mm512_dpbf16_ps(acc[r][v], av, bv[v]);
    }
    b += kNR;
  }

#pragma GCC unroll 8
  for (int r = 0; r < kMR; ++r) {
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) _mm512_storeu_ps(sums + r * kNR + v * kZmmFloats, acc[r][v]);
  }
}

template <int NV>
void dot_panels_of_width(int kc2, const std::uint32_t* a, std::ptrdiff_t lda2, int panels,
                         const std::uint32_t* b, float* sums, bool accumulate) {
  for (int ip = 0; ip < panels; ++ip) {
    micro_kernel<NV>(kc2, a + ip * kMR * lda2, lda2, b, sums + ip * kMR * kNR, accumulate);
  }
}

static_assert(kNV == 4, "dot_panels dispatches on 1 to 4 vectors");

}  // namespace

void convert_a(const float* a, std::ptrdiff_t lda, int rows, int k, std::uint32_t* dst,
               std::ptrdiff_t ld_dst) {
  const int k2 = (k + 1) / 2;
  for (int r = 0; r < rows; ++r) {
    const float* src = a + r * lda;
    std::uint32_t* out = dst + r * ld_dst;
    int q = 0;  // K element
    for (; q + 32 <= k; q += 32) _mm512_storeu_si512(out + q / 2, load_pairs(src + q, 32));
    if (q < k) {
      _mm512_mask_storeu_epi32(out + q / 2, first_lanes(k2 - q / 2), load_pairs(src + q, k - q));
    }
  }
}

void pack_b_nk(const float* b, std::ptrdiff_t ldb, int n, int k, std::uint32_t* dst) {
  const int k2 = (k + 1) / 2;
  for (int j0 = 0; j0 < n; j0 += kNR) {
    std::uint32_t* panel = dst + static_cast<std::ptrdiff_t>(j0) * k2;
    for (int v = 0; v < kNV; ++v) {
      const int j = j0 + v * kZmmFloats;
      const int cols = min_int(kZmmFloats, n - j);  // rows of b in this group of 16
      // 16 pairs of 16 rows of b at a time, transposed into 16 pair steps of the panel.
      for (int p0 = 0; p0 < k2; p0 += 16) {
        __m512i r[16];
        const int q = 2 * p0;
        for (int i = 0; i < 16; ++i) {
          r[i] = i < cols ? load_pairs(b + (j + i) * ldb + q, k - q) : _mm512_setzero_si512();
        }
        transpose_16x16(r);
        const int steps = min_int(16, k2 - p0);
        for (int s = 0; s < steps; ++s) {
          _mm512_storeu_si512(panel + (p0 + s) * kNR + v * kZmmFloats, r[s]);
        }
      }
    }
  }
}

void pack_b_kn(const float* b, std::ptrdiff_t ldb, int k, int n, std::uint32_t* dst) {
  const int k2 = (k + 1) / 2;
  for (int j0 = 0; j0 < n; j0 += kNR) {
    std::uint32_t* out = dst + static_cast<std::ptrdiff_t>(j0) * k2;
    for (int p = 0; p < k2; ++p, out += kNR) {
      const float* even = b + 2 * p * ldb;
      const float* odd = 2 * p + 1 < k ? even + ldb : nullptr;
      for (int v = 0; v < kNV; ++v) {
        const int j = j0 + v * kZmmFloats, cols = n - j;
        const __m512 lo = load_floats(cols > 0 ? even + j : nullptr, cols);
        const __m512 hi =
            odd ? load_floats(cols > 0 ? odd + j : nullptr, cols) : _mm512_setzero_ps();
        _mm512_storeu_si512(out + v * kZmmFloats, interleave_to_pairs(lo, hi));
      }
    }
  }
}

void dot_panels(int kc2, const std::uint32_t* a, std::ptrdiff_t lda2, int panels,
                const std::uint32_t* b, int cols, float* sums, bool accumulate) {
  switch ((cols + kZmmFloats - 1) / kZmmFloats) {
    case 1: return dot_panels_of_width<1>(kc2, a, lda2, panels, b, sums, accumulate);
    case 2: return dot_panels_of_width<2>(kc2, a, lda2, panels, b, sums, accumulate);
    case 3: return dot_panels_of_width<3>(kc2, a, lda2, panels, b, sums, accumulate);
    default: return dot_panels_of_width<4>(kc2, a, lda2, panels, b, sums, accumulate);
  }
}

}  // namespace vitscope::kernels::gemm_bf16_detail::avx512bf16
