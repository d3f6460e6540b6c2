// The horizontal resampling pass with AVX-512 (see resample_passes.hpp); compiled only when the
// build targets AVX-512F and AVX-512BW.
//
// GCC 12 reports -Wmaybe-uninitialized inside its own AVX-512 intrinsics (the `__Y = __Y`
// "undefined value" idiom); the warning comes after inlining, so it is silenced for this file.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include "preprocess/resample_passes.hpp"

#if VITSCOPE_HAVE_AVX512_RESAMPLE

#include <immintrin.h>

#include <algorithm>
#include <cstring>
#include <vector>

namespace vitscope::resample {
namespace {

constexpr int kLanes = 16;         // int32 lanes of a __m512i
constexpr int kTapsPerBatch = 4;   // a batch holds 4 pixels as R, G, B, 0 lanes
constexpr int kPixelsPerGroup = 4; // output pixels finished together

// 4 RGB pixels (12 bytes; 16 are read) → R, G, B, 0 int32 lanes.
inline __m512i load_pixels(const std::uint8_t* rgb) {
  const __m128i spread = _mm_setr_epi8(0, 1, 2, -1, 3, 4, 5, -1, 6, 7, 8, -1, 9, 10, 11, -1);
  return _mm512_cvtepu8_epi32(
      _mm_shuffle_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(rgb)), spread));
}

// acc[p] holds four partial RGB0 sums (128-bit groups) of pixel p; the result holds pixel p's
// total in group p. A 4x4 transpose-and-add of 128-bit groups.
inline __m512i sum_groups(const __m512i acc[kPixelsPerGroup]) {
  // s01 = [a0.g0 + a0.g2, a0.g1 + a0.g3, a1.g0 + a1.g2, a1.g1 + a1.g3], likewise s23.
  const __m512i s01 = _mm512_add_epi32(_mm512_shuffle_i32x4(acc[0], acc[1], 0x44),
                                       _mm512_shuffle_i32x4(acc[0], acc[1], 0xEE));
  const __m512i s23 = _mm512_add_epi32(_mm512_shuffle_i32x4(acc[2], acc[3], 0x44),
                                       _mm512_shuffle_i32x4(acc[2], acc[3], 0xEE));
  // [s01.g0 + s01.g1, s01.g2 + s01.g3, s23.g0 + s23.g1, s23.g2 + s23.g3]
  return _mm512_add_epi32(_mm512_shuffle_i32x4(s01, s23, 0x88), _mm512_shuffle_i32x4(s01, s23, 0xDD));
}

// PIL's clip8 on every lane, then the R, G, B bytes of the first `pixels` pixels.
inline void store_pixels(__m512i sums, int pixels, std::uint8_t* rgb) {
  const __m512i shifted = _mm512_srai_epi32(sums, kPrecisionBits);
  const __m512i clamped = _mm512_min_epi32(_mm512_max_epi32(shifted, _mm512_setzero_si512()),
                                           _mm512_set1_epi32(255));
  const __m128i drop_padding = _mm_setr_epi8(0, 1, 2, 4, 5, 6, 8, 9, 10, 12, 13, 14, -1, -1, -1, -1);
  alignas(16) std::uint8_t bytes[16];
  _mm_store_si128(reinterpret_cast<__m128i*>(bytes),
                  _mm_shuffle_epi8(_mm512_cvtepi32_epi8(clamped), drop_padding));
  std::memcpy(rgb, bytes, static_cast<std::size_t>(3 * pixels));
}

}  // namespace

// Weights are laid out to match the batches: each tap's weight repeated for R, G, B, with 0 for
// the padding lane and past the pixel's last tap (so a partial last batch adds nothing).
void horizontal_pass_avx512(const std::uint8_t* in, int rows, int in_width,
                            const AxisCoeffs& coeffs, std::uint8_t* out) {
  const int out_size = coeffs.out_size;
  int max_count = 0;
  for (int c : coeffs.count) max_count = std::max(max_count, c);
  const int max_batches = (max_count + kTapsPerBatch - 1) / kTapsPerBatch;
  const std::size_t pixel_stride = static_cast<std::size_t>(max_batches) * kLanes;

  std::vector<std::int32_t> weights(static_cast<std::size_t>(out_size) * pixel_stride, 0);
  for (int xx = 0; xx < out_size; ++xx) {
    const std::int32_t* k = &coeffs.k[static_cast<std::size_t>(xx) * coeffs.ksize];
    std::int32_t* w = weights.data() + xx * pixel_stride;
    for (int tap = 0; tap < coeffs.count[xx]; ++tap) {
      for (int c = 0; c < 3; ++c) w[tap * 4 + c] = k[tap];
    }
  }

  // A pixel's last batch reads up to a batch of taps past its count, and each load 4 bytes more:
  // every row is copied into a zero-padded buffer.
  std::vector<std::uint8_t> row((static_cast<std::size_t>(in_width) + max_batches * kTapsPerBatch) * 3 + 16, 0);
  const __m512i half = _mm512_set1_epi32(1 << (kPrecisionBits - 1));
  for (int r = 0; r < rows; ++r) {
    std::memcpy(row.data(), in + static_cast<std::size_t>(r) * in_width * 3, static_cast<std::size_t>(in_width) * 3);
    std::uint8_t* out_row = out + static_cast<std::size_t>(r) * out_size * 3;
    for (int x0 = 0; x0 < out_size; x0 += kPixelsPerGroup) {
      const int pixels = std::min(kPixelsPerGroup, out_size - x0);
      __m512i acc[kPixelsPerGroup] = {_mm512_setzero_si512(), _mm512_setzero_si512(),
                                      _mm512_setzero_si512(), _mm512_setzero_si512()};
      for (int p = 0; p < pixels; ++p) {
        const int xx = x0 + p;
        const std::uint8_t* src = row.data() + 3 * coeffs.first[xx];
        const std::int32_t* w = weights.data() + xx * pixel_stride;
        const int batches = (coeffs.count[xx] + kTapsPerBatch - 1) / kTapsPerBatch;
        __m512i sum = _mm512_setzero_si512();
        for (int b = 0; b < batches; ++b, src += 3 * kTapsPerBatch, w += kLanes) {
          sum = _mm512_add_epi32(sum, _mm512_mullo_epi32(load_pixels(src), _mm512_loadu_si512(w)));
        }
        acc[p] = sum;
      }
      store_pixels(_mm512_add_epi32(sum_groups(acc), half), pixels, out_row + 3 * x0);
    }
  }
}

}  // namespace vitscope::resample

#endif  // VITSCOPE_HAVE_AVX512_RESAMPLE
