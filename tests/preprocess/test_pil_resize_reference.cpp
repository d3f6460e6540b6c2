// pil_resize (batched, vectorised) against a line-by-line transcription of PIL's scalar loops,
// on many random sizes: degenerate (1 pixel), extreme factors, one axis only, up and down.
#include <algorithm>
#include <cstdint>
#include <random>

#include <catch2/catch.hpp>

#include "preprocess/preprocess_test_util.hpp"
#include "preprocess/resample_coeffs.hpp"
#include "preprocess/resample_passes.hpp"
#include "vitscope/core/error.hpp"
#include "vitscope/preprocess/preprocess.hpp"

using namespace vitscope;
using namespace vitscope::test;

namespace {

std::uint8_t reference_clip8(std::int32_t v) {
  v >>= resample::kPrecisionBits;
  return static_cast<std::uint8_t>(std::clamp(v, 0, 255));
}

// ImagingResampleInner with ImagingResampleHorizontal_8bpc / ImagingResampleVertical_8bpc, as
// plain loops over (row, pixel, channel, tap).
RgbImage reference_resize(const RgbImage& in, int width, int height, Interpolation interpolation) {
  const int in_h = static_cast<int>(in.shape()[0]), in_w = static_cast<int>(in.shape()[1]);
  const std::int32_t half = 1 << (resample::kPrecisionBits - 1);
  const auto vert = resample::axis_coeffs(in_h, height, interpolation);
  const int ybox_first = vert.first[0];
  const int ybox_last = vert.first[height - 1] + vert.count[height - 1];

  RgbImage current = in;
  int shift = 0;
  if (width != in_w) {
    const auto horiz = resample::axis_coeffs(in_w, width, interpolation);
    RgbImage temp = RgbImage::from_shape({static_cast<std::size_t>(ybox_last - ybox_first),
                                          static_cast<std::size_t>(width), 3});
    for (int yy = 0; yy < ybox_last - ybox_first; ++yy) {
      for (int xx = 0; xx < width; ++xx) {
        for (int c = 0; c < 3; ++c) {
          std::int32_t ss = half;
          for (int x = 0; x < horiz.count[xx]; ++x) {
            ss += in(yy + ybox_first, x + horiz.first[xx], c) * horiz.k[xx * horiz.ksize + x];
          }
          temp(yy, xx, c) = reference_clip8(ss);
        }
      }
    }
    current = temp;
    shift = ybox_first;
  }
  if (height == in_h) return current;
  RgbImage out = RgbImage::from_shape({static_cast<std::size_t>(height), static_cast<std::size_t>(width), 3});
  for (int yy = 0; yy < height; ++yy) {
    for (int xx = 0; xx < width; ++xx) {
      for (int c = 0; c < 3; ++c) {
        std::int32_t ss = half;
        for (int y = 0; y < vert.count[yy]; ++y) {
          ss += current(y + vert.first[yy] - shift, xx, c) * vert.k[yy * vert.ksize + y];
        }
        out(yy, xx, c) = reference_clip8(ss);
      }
    }
  }
  return out;
}

}  // namespace

TEST_CASE("pil_resize equals the scalar transcription of PIL on random sizes", "[preprocess]") {
  struct Case {
    int in_w, in_h, out_w, out_h;
  };
  std::vector<Case> cases = {
      {1, 1, 1, 7},     {1, 1, 9, 1},     {1, 1, 13, 11},  {7, 5, 1, 1},    {301, 2, 3, 2},
      {2, 301, 2, 5},   {500, 3, 1, 1},   {3, 500, 3, 1},  {640, 480, 1, 1}, {5, 4, 640, 3},
      {641, 427, 224, 224}, {224, 225, 224, 224}, {225, 224, 224, 224}, {33, 17, 33, 18},
  };
  std::mt19937 rng(2024);
  std::uniform_int_distribution<int> side(1, 160);
  for (int i = 0; i < 60; ++i) cases.push_back({side(rng), side(rng), side(rng), side(rng)});

  std::uint32_t seed = 1;
  for (const Case& c : cases) {
    const RgbImage image = random_image(c.in_h, c.in_w, seed++);
    for (Interpolation interpolation : {Interpolation::Bicubic, Interpolation::Bilinear}) {
      const RgbImage ours = pil_resize(image, c.out_w, c.out_h, interpolation);
      const RgbImage expected = reference_resize(image, c.out_w, c.out_h, interpolation);
      REQUIRE(ours.shape() == expected.shape());
      const ImageDiff diff = compare_u8(ours, expected);
      INFO(c.in_w << "x" << c.in_h << " -> " << c.out_w << "x" << c.out_h << " "
                  << interpolation_name(interpolation) << ": " << diff.describe());
      CHECK(diff.identical == diff.values);
    }
  }
}

TEST_CASE("every horizontal pass built equals the scalar transcription", "[preprocess]") {
  // The portable pass always, the AVX-512 pass when the build targets it; widths that leave
  // partial groups of pixels and partial batches of taps, and rows wider than the padding.
  std::mt19937 rng(77);
  std::uniform_int_distribution<int> side(1, 300);
  std::uint32_t seed = 100;
  for (int trial = 0; trial < 80; ++trial) {
    const int rows = 1 + trial % 5, in_width = side(rng), out_width = side(rng);
    const auto interpolation = trial % 2 ? Interpolation::Bicubic : Interpolation::Bilinear;
    const RgbImage image = random_image(rows, in_width, seed++);
    const auto coeffs = resample::axis_coeffs(in_width, out_width, interpolation);
    // With the height unchanged, the reference runs the horizontal pass alone.
    const RgbImage expected = reference_resize(image, out_width, rows, interpolation);
    RgbImage portable = RgbImage::from_shape({static_cast<std::size_t>(rows), static_cast<std::size_t>(out_width), 3});
    resample::horizontal_pass_portable(image.data(), rows, in_width, coeffs, portable.data());
    INFO(in_width << " -> " << out_width << " x " << rows << " rows, " << interpolation_name(interpolation));
    CHECK(compare_u8(portable, expected).identical == expected.size());
#if VITSCOPE_HAVE_AVX512_RESAMPLE
    RgbImage avx512 = RgbImage::from_shape({static_cast<std::size_t>(rows), static_cast<std::size_t>(out_width), 3});
    resample::horizontal_pass_avx512(image.data(), rows, in_width, coeffs, avx512.data());
    CHECK(compare_u8(avx512, expected).identical == expected.size());
#endif
  }
  WARN("horizontal passes checked: portable" << (VITSCOPE_HAVE_AVX512_RESAMPLE ? ", AVX-512" : ""));
}

TEST_CASE("pil_resize keeps a constant image constant and copies at the same size", "[preprocess]") {
  RgbImage flat = RgbImage::from_shape({37, 53, 3});
  for (std::size_t i = 0; i < flat.size(); ++i) flat.data()[i] = static_cast<std::uint8_t>(i % 3 == 0 ? 200 : i % 3 == 1 ? 17 : 255);
  for (Interpolation interpolation : {Interpolation::Bicubic, Interpolation::Bilinear}) {
    const RgbImage down = pil_resize(flat, 11, 9, interpolation);
    const RgbImage up = pil_resize(flat, 120, 77, interpolation);
    for (const RgbImage* out : {&down, &up}) {
      for (std::size_t i = 0; i < out->size(); ++i) REQUIRE(out->data()[i] == flat.data()[i % 3]);
    }
  }
  const RgbImage image = random_image(20, 30, 5);
  const RgbImage same = pil_resize(image, 30, 20, Interpolation::Bicubic);
  CHECK(compare_u8(same, image).identical == image.size());
}

TEST_CASE("pil_resize refuses empty sizes", "[preprocess]") {
  const RgbImage image = random_image(4, 4, 1);
  CHECK_THROWS_AS(pil_resize(image, 0, 4, Interpolation::Bicubic), ConfigError);
  CHECK_THROWS_AS(pil_resize(image, 4, -1, Interpolation::Bilinear), ConfigError);
}

TEST_CASE("pil_resize_region equals the same region of the scalar transcription", "[preprocess]") {
  // Random regions of random resizes, with the width or the height (or both) unchanged in some:
  // then only the other pass runs, or none, and the region is cut from the source.
  std::mt19937 rng(404);
  std::uniform_int_distribution<int> side(1, 120);
  std::uint32_t seed = 500;
  for (int trial = 0; trial < 80; ++trial) {
    const int in_w = side(rng), in_h = side(rng);
    const int out_w = trial % 4 == 1 ? in_w : side(rng);
    const int out_h = trial % 4 == 2 ? in_h : trial % 8 == 3 ? in_h : side(rng);
    const int width = std::uniform_int_distribution<int>(1, out_w)(rng);
    const int height = std::uniform_int_distribution<int>(1, out_h)(rng);
    const int left = std::uniform_int_distribution<int>(0, out_w - width)(rng);
    const int top = std::uniform_int_distribution<int>(0, out_h - height)(rng);
    const auto interpolation = trial % 2 ? Interpolation::Bicubic : Interpolation::Bilinear;
    const RgbImage image = random_image(in_h, in_w, seed++);
    const RgbImage whole = reference_resize(image, out_w, out_h, interpolation);
    const RgbImage region = pil_resize_region(image, out_w, out_h, interpolation, {left, top, width, height});
    INFO(in_w << "x" << in_h << " -> " << out_w << "x" << out_h << ", region " << width << "x"
              << height << " at (" << left << ", " << top << "), " << interpolation_name(interpolation));
    REQUIRE(region.shape()[0] == static_cast<std::size_t>(height));
    REQUIRE(region.shape()[1] == static_cast<std::size_t>(width));
    int mismatches = 0;
    for (int y = 0; y < height; ++y) {
      for (int x = 0; x < width; ++x) {
        for (int c = 0; c < 3; ++c) mismatches += region(y, x, c) != whole(top + y, left + x, c);
      }
    }
    CHECK(mismatches == 0);
  }
}

TEST_CASE("pil_resize_region refuses regions outside the result", "[preprocess]") {
  const RgbImage image = random_image(10, 12, 2);
  CHECK_THROWS_AS(pil_resize_region(image, 8, 6, Interpolation::Bicubic, {1, 0, 8, 6}), ConfigError);
  CHECK_THROWS_AS(pil_resize_region(image, 8, 6, Interpolation::Bicubic, {0, -1, 8, 6}), ConfigError);
  CHECK_THROWS_AS(pil_resize_region(image, 8, 6, Interpolation::Bicubic, {0, 0, 0, 6}), ConfigError);
  CHECK(pil_resize_region(image, 8, 6, Interpolation::Bicubic, {7, 5, 1, 1}).size() == 3);
}
