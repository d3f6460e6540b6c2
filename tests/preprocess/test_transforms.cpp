// The torchvision steps around pil_resize: the resize target sizes, the centre crop's offsets
// (Python's round-half-even) and zero padding, ToTensor/Normalize, and configuration errors.
#include <cmath>

#include <catch2/catch.hpp>

#include "preprocess/preprocess_test_util.hpp"
#include "vitscope/core/error.hpp"
#include "vitscope/preprocess/preprocess.hpp"

using namespace vitscope;
using namespace vitscope::test;

namespace {

// An image whose pixel (y, x) is (y mod 256, x mod 256, (y + x) / 256): a crop reveals its offset.
RgbImage coordinate_image(int height, int width) {
  RgbImage image = RgbImage::from_shape({static_cast<std::size_t>(height), static_cast<std::size_t>(width), 3});
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      image(y, x, 0) = static_cast<std::uint8_t>(y % 256);
      image(y, x, 1) = static_cast<std::uint8_t>(x % 256);
      image(y, x, 2) = static_cast<std::uint8_t>((y + x) / 256);
    }
  }
  return image;
}

PreprocessConfig square(int size, double crop_pct, Interpolation interpolation = Interpolation::Bicubic) {
  PreprocessConfig config;
  config.input_height = config.input_width = size;
  config.crop_pct = crop_pct;
  config.interpolation = interpolation;
  return config;
}

}  // namespace

TEST_CASE("the shorter side is resized to floor(size / crop_pct), the longer by int()", "[preprocess]") {
  // 2000x1500 landscape at 224 / 0.875 = 256: 341x256 (int(256 · 2000 / 1500) = 341), then the crop
  // starts at left = round((341 - 224) / 2) = round(58.5) = 58 (half to even), top = 16.
  const RgbImage photo = random_image(1500, 2000, 3);
  const RgbImage resized = pil_resize(photo, 341, 256, Interpolation::Bicubic);
  const RgbImage cropped = resize_and_crop(photo, square(224, 0.875));
  REQUIRE(cropped.shape()[0] == 224);
  REQUIRE(cropped.shape()[1] == 224);
  bool same = true;
  for (int y = 0; y < 224 && same; ++y) {
    for (int x = 0; x < 224 && same; ++x) {
      for (int c = 0; c < 3; ++c) same = same && cropped(y, x, c) == resized(16 + y, 58 + x, c);
    }
  }
  CHECK(same);

  // Portrait: the same sizes transposed (1500 wide, 2000 tall -> 256x341).
  const RgbImage portrait = random_image(2000, 1500, 4);
  const RgbImage portrait_resized = pil_resize(portrait, 256, 341, Interpolation::Bilinear);
  const RgbImage portrait_cropped = resize_and_crop(portrait, square(224, 0.875, Interpolation::Bilinear));
  CHECK(portrait_cropped(0, 0, 0) == portrait_resized(58, 16, 0));
  CHECK(portrait_cropped(223, 223, 2) == portrait_resized(58 + 223, 16 + 223, 2));
}

TEST_CASE("the centre crop rounds half offsets to even, as Python's round()", "[preprocess]") {
  // Images already at the resize size (shorter side 64 with crop_pct 1) are only cropped.
  struct Case {
    int height, width, top, left;
  };
  for (const Case c : {Case{64, 65, 0, 0}, Case{64, 66, 0, 1}, Case{64, 67, 0, 2}, Case{64, 69, 0, 2},
                       Case{64, 71, 0, 4}, Case{65, 64, 0, 0}, Case{67, 64, 2, 0}, Case{64, 64, 0, 0}}) {
    INFO(c.width << "x" << c.height);
    const RgbImage out = resize_and_crop(coordinate_image(c.height, c.width), square(64, 1.0));
    REQUIRE(out.shape()[0] == 64);
    REQUIRE(out.shape()[1] == 64);
    CHECK(int{out(0, 0, 0)} == c.top);
    CHECK(int{out(0, 0, 1)} == c.left);
    CHECK(int{out(63, 63, 0)} == c.top + 63);
  }
}

TEST_CASE("a crop larger than the image pads with zeros, the smaller half before", "[preprocess]") {
  // crop_pct 1.25 on a 32 target: resize to 25, pad 3 before and 4 after on each axis.
  const RgbImage image = random_image(40, 40, 8);
  const RgbImage resized = pil_resize(image, 25, 25, Interpolation::Bicubic);
  const RgbImage out = resize_and_crop(image, square(32, 1.25));
  REQUIRE(out.shape()[0] == 32);
  int mismatches = 0;
  for (int y = 0; y < 32; ++y) {
    for (int x = 0; x < 32; ++x) {
      for (int c = 0; c < 3; ++c) {
        const bool inside = y >= 3 && y < 28 && x >= 3 && x < 28;
        const int expected = inside ? resized(y - 3, x - 3, c) : 0;
        mismatches += out(y, x, c) != expected;
      }
    }
  }
  CHECK(mismatches == 0);
}

TEST_CASE("a crop that pads one axis and cuts the other keeps the right pixels", "[preprocess]") {
  // A 100x40 image with crop_pct 1.25 on a 32 target: resized to 62x25, the rows padded 3 before
  // and 4 after, the columns cut from left = round((62 - 32) / 2) = 15. Portrait likewise.
  for (const bool portrait : {false, true}) {
    INFO((portrait ? "portrait" : "landscape"));
    const RgbImage image = portrait ? random_image(100, 40, 9) : random_image(40, 100, 9);
    const RgbImage resized = portrait ? pil_resize(image, 25, 62, Interpolation::Bicubic)
                                      : pil_resize(image, 62, 25, Interpolation::Bicubic);
    const RgbImage out = resize_and_crop(image, square(32, 1.25));
    REQUIRE(out.shape()[0] == 32);
    REQUIRE(out.shape()[1] == 32);
    int mismatches = 0;
    for (int y = 0; y < 32; ++y) {
      for (int x = 0; x < 32; ++x) {
        const int padded = portrait ? x : y, cut = portrait ? y : x;
        const bool inside = padded >= 3 && padded < 28;
        for (int c = 0; c < 3; ++c) {
          const int expected = !inside ? 0
                               : portrait ? resized(cut + 15, padded - 3, c)
                                          : resized(padded - 3, cut + 15, c);
          mismatches += out(y, x, c) != expected;
        }
      }
    }
    CHECK(mismatches == 0);
  }
}

TEST_CASE("a non-square input resizes both sides independently", "[preprocess]") {
  PreprocessConfig config;
  config.input_height = 48;
  config.input_width = 80;
  config.crop_pct = 0.875;  // resize to floor(48 / 0.875) x floor(80 / 0.875) = 54 x 91
  const RgbImage image = random_image(300, 200, 9);
  const RgbImage resized = pil_resize(image, 91, 54, Interpolation::Bicubic);
  const RgbImage out = resize_and_crop(image, config);
  REQUIRE(out.shape()[0] == 48);
  REQUIRE(out.shape()[1] == 80);
  // top = round(6 / 2) = 3, left = round(11 / 2) = round(5.5) = 6.
  CHECK(out(0, 0, 0) == resized(3, 6, 0));
  CHECK(out(47, 79, 1) == resized(50, 85, 1));
}

TEST_CASE("normalize_image is ToTensor then Normalize in float32, channels first", "[preprocess]") {
  const RgbImage image = random_image(5, 7, 10);
  const std::array<float, 3> mean{0.485f, 0.456f, 0.406f}, std{0.229f, 0.224f, 0.225f};
  const auto out = normalize_image(image, mean, std);
  REQUIRE(out.shape()[0] == 3);
  REQUIRE(out.shape()[1] == 5);
  REQUIRE(out.shape()[2] == 7);
  for (int c = 0; c < 3; ++c) {
    for (int y = 0; y < 5; ++y) {
      for (int x = 0; x < 7; ++x) {
        const float scaled = static_cast<float>(image(y, x, c)) / 255.0f;
        CHECK(out(c, y, x) == (scaled - mean[c]) / std[c]);
      }
    }
  }
  const auto full = preprocess(image, square(4, 1.0));
  CHECK(full.shape()[0] == 3);
  CHECK(full.shape()[1] == 4);
}

TEST_CASE("interpolation names and configuration errors", "[preprocess]") {
  CHECK(parse_interpolation("bicubic") == Interpolation::Bicubic);
  CHECK(parse_interpolation("bilinear") == Interpolation::Bilinear);
  CHECK(std::string(interpolation_name(Interpolation::Bilinear)) == "bilinear");
  try {
    parse_interpolation("lanczos");
    FAIL("no error");
  } catch (const ConfigError& e) {
    CHECK(std::string(e.what()) == "interpolation: unknown 'lanczos' (expected bilinear or bicubic)");
  }
  const RgbImage image = random_image(8, 8, 1);
  CHECK_THROWS_AS(resize_and_crop(image, square(0, 0.875)), ConfigError);
  CHECK_THROWS_AS(resize_and_crop(image, square(8, 0.0)), ConfigError);
}
