#pragma once
// RGB pixels in int32 batches, for the horizontal resampling pass. A batch holds kPixelsPerBatch
// pixels as R, G, B, 0 lanes (16 lanes = 4 pixels with AVX-512, 8 = 2 with AVX2, 4 = 1 with SSE).
//
// Each helper exists twice: a portable version on xsimd batches through small arrays, and an
// AVX-512BW version (byte shuffles, 128-bit lane shuffles) used when the build targets it.
// Both compute the same integers; test_rgb_batch checks them against each other.
//
// GCC 12 reports -Wmaybe-uninitialized inside its own AVX-512 intrinsics (the `__Y = __Y`
// "undefined value" idiom) after inlining xsimd; the warning is silenced for files including this.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <xsimd/xsimd.hpp>

#include <algorithm>
#include <cstdint>
#include <cstring>

#if defined(__AVX512F__) && defined(__AVX512BW__)
#include <immintrin.h>
#define VITSCOPE_RGB_BATCH_AVX512 1
#else
#define VITSCOPE_RGB_BATCH_AVX512 0
#endif

namespace vitscope::rgb_batch {

using IntBatch = xsimd::batch<std::int32_t>;
constexpr int kLanes = static_cast<int>(IntBatch::size);
constexpr int kPixelsPerBatch = kLanes / 4;
static_assert(kLanes % 4 == 0, "a batch holds whole pixels of 4 lanes");

// load_pixels may read this many bytes from its pointer (more than the 3 · kPixelsPerBatch it uses).
constexpr int kLoadBytes = std::max(16, 3 * kPixelsPerBatch);

namespace portable {

// kPixelsPerBatch RGB pixels (3 bytes each) → R, G, B, 0 lanes.
inline IntBatch load_pixels(const std::uint8_t* rgb) {
  alignas(64) std::int32_t lanes[kLanes] = {};
  for (int p = 0; p < kPixelsPerBatch; ++p) {
    for (int c = 0; c < 3; ++c) lanes[4 * p + c] = rgb[3 * p + c];
  }
  return IntBatch::load_aligned(lanes);
}

// Batch p of `acc` holds kPixelsPerBatch partial sums (4-lane groups) of pixel p; the result holds
// each pixel's total in its group p: out[4p + c] = Σ_g acc[p][4g + c].
inline IntBatch sum_groups(const IntBatch* acc) {
  alignas(64) std::int32_t lanes[kPixelsPerBatch][kLanes];
  for (int p = 0; p < kPixelsPerBatch; ++p) acc[p].store_aligned(lanes[p]);
  alignas(64) std::int32_t totals[kLanes];
  for (int p = 0; p < kPixelsPerBatch; ++p) {
    for (int c = 0; c < 4; ++c) {
      std::int32_t sum = 0;
      for (int g = 0; g < kPixelsPerBatch; ++g) sum += lanes[p][4 * g + c];
      totals[4 * p + c] = sum;
    }
  }
  return IntBatch::load_aligned(totals);
}

// The R, G, B lanes (already in 0..255) of the first `pixels` pixels → 3 bytes each.
inline void store_pixels(const IntBatch& values, int pixels, std::uint8_t* rgb) {
  alignas(64) std::int32_t lanes[kLanes];
  values.store_aligned(lanes);
  for (int p = 0; p < pixels; ++p) {
    for (int c = 0; c < 3; ++c) rgb[3 * p + c] = static_cast<std::uint8_t>(lanes[4 * p + c]);
  }
}

}  // namespace portable

#if VITSCOPE_RGB_BATCH_AVX512
namespace avx512 {

static_assert(kPixelsPerBatch == 4, "AVX-512 batches hold 4 pixels");

inline IntBatch load_pixels(const std::uint8_t* rgb) {
  const __m128i spread = _mm_setr_epi8(0, 1, 2, -1, 3, 4, 5, -1, 6, 7, 8, -1, 9, 10, 11, -1);
  const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(rgb));
  return _mm512_cvtepu8_epi32(_mm_shuffle_epi8(bytes, spread));
}

// A 4x4 transpose-and-add of 128-bit groups: two rounds of shuffle_i32x4 and add.
inline IntBatch sum_groups(const IntBatch* acc) {
  const __m512i a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3];
  // s01 = [a0.g0 + a0.g2, a0.g1 + a0.g3, a1.g0 + a1.g2, a1.g1 + a1.g3], likewise s23.
  const __m512i s01 = _mm512_add_epi32(_mm512_shuffle_i32x4(a0, a1, 0x44), _mm512_shuffle_i32x4(a0, a1, 0xEE));
  const __m512i s23 = _mm512_add_epi32(_mm512_shuffle_i32x4(a2, a3, 0x44), _mm512_shuffle_i32x4(a2, a3, 0xEE));
  // [s01.g0 + s01.g1, s01.g2 + s01.g3, s23.g0 + s23.g1, s23.g2 + s23.g3]
  return _mm512_add_epi32(_mm512_shuffle_i32x4(s01, s23, 0x88), _mm512_shuffle_i32x4(s01, s23, 0xDD));
}

inline void store_pixels(const IntBatch& values, int pixels, std::uint8_t* rgb) {
  const __m128i drop_padding = _mm_setr_epi8(0, 1, 2, 4, 5, 6, 8, 9, 10, 12, 13, 14, -1, -1, -1, -1);
  alignas(16) std::uint8_t bytes[16];
  _mm_store_si128(reinterpret_cast<__m128i*>(bytes),
                  _mm_shuffle_epi8(_mm512_cvtepi32_epi8(values), drop_padding));
  std::memcpy(rgb, bytes, static_cast<std::size_t>(3 * pixels));
}

}  // namespace avx512
namespace native = avx512;
#else
namespace native = portable;
#endif

}  // namespace vitscope::rgb_batch
