#pragma once
// The two 1-D passes of PIL's resampling on 8-bit RGB rows (see pil_resize.cpp for how they are
// combined). Each output value is PIL's clip8(2^21 + Σ_tap in · k): exact 32-bit integer sums, so
// every implementation below returns identical bytes whatever order it adds in.
#include <cstddef>
#include <cstdint>

#include "preprocess/resample_coeffs.hpp"

namespace vitscope::resample {

// out[r, x, c] = clip8(Σ_tap in[r, first[x] + tap, c] · k[x, tap]) for `rows` rows of `in_width`
// pixels; out has coeffs.out_size pixels per row. Dispatches to the fastest version built.
void horizontal_pass(const std::uint8_t* in, int rows, int in_width, const AxisCoeffs& coeffs,
                     std::uint8_t* out);

// Portable version: transposes the rows so that the pass runs as a vertical pass, whose inner
// loop (one weight times a whole row) the compiler vectorises for any instruction set.
void horizontal_pass_portable(const std::uint8_t* in, int rows, int in_width,
                              const AxisCoeffs& coeffs, std::uint8_t* out);

#if defined(__AVX512F__) && defined(__AVX512BW__)
#define VITSCOPE_HAVE_AVX512_RESAMPLE 1
// AVX-512 version: four taps of one pixel per 16-lane batch, four pixels reduced together.
void horizontal_pass_avx512(const std::uint8_t* in, int rows, int in_width,
                            const AxisCoeffs& coeffs, std::uint8_t* out);
#else
#define VITSCOPE_HAVE_AVX512_RESAMPLE 0
#endif

// out[y, v] = clip8(Σ_tap in[first[y] - row_shift + tap, v] · k[y, tap]) over rows of
// `row_values` bytes; the input holds rows from `row_shift` on.
void vertical_pass(const std::uint8_t* in, std::size_t row_values, const AxisCoeffs& coeffs,
                   int row_shift, std::uint8_t* out);

}  // namespace vitscope::resample
