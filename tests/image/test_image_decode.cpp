// Decoding: every fixture written by PIL must decode to the pixels PIL decodes (lossless formats,
// and JPEG, where OpenCV and PIL share libjpeg), with gray, alpha, palette, 16-bit and EXIF
// orientation handled as PIL's convert("RGB") / ImageOps.exif_transpose do.
#include <cstdint>
#include <string>
#include <vector>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include "image/image_test_util.hpp"

using namespace vitscope;
using namespace vitscope::test;

namespace {

// Compares a decoded image with PIL's pixels; returns a description of the first difference.
std::string difference(const RgbImage& ours, const xt::xarray<std::uint8_t>& pil) {
  if (ours.dimension() != pil.dimension() || ours.shape()[0] != pil.shape()[0] ||
      ours.shape()[1] != pil.shape()[1] || ours.shape()[2] != pil.shape()[2]) {
    return "shape " + std::to_string(ours.shape()[1]) + "x" + std::to_string(ours.shape()[0]) +
           ", PIL " + std::to_string(pil.shape()[1]) + "x" + std::to_string(pil.shape()[0]);
  }
  std::size_t differing = 0, first = 0;
  int max_diff = 0;
  for (std::size_t i = 0; i < ours.size(); ++i) {
    const int d = std::abs(int{ours.data()[i]} - int{pil.data()[i]});
    if (d > 0 && differing++ == 0) first = i;
    max_diff = std::max(max_diff, d);
  }
  if (differing == 0) return "";
  return std::to_string(differing) + "/" + std::to_string(ours.size()) + " values differ, max " +
         std::to_string(max_diff) + ", first at flat index " + std::to_string(first) + " (ours " +
         std::to_string(ours.data()[first]) + ", PIL " + std::to_string(pil.data()[first]) + ")";
}

}  // namespace

TEST_CASE("fixtures decode to PIL's pixels", "[image]") {
  const std::vector<std::string> files = {
      "rgb.png", "rgb.bmp", "rgb.tiff", "rgb_lzw.tiff", "rgb_lossless.webp", "rgb.ppm", "rgb.jpg",
      "gray.png", "gray.pgm", "gray.jpg", "gray_alpha.png", "rgba.png", "rgba_lossless.webp",
      "palette.png", "palette_transparency.png", "gray16.png", "bilevel.pbm",
      "orientation_3.jpg", "orientation_6.jpg", "orientation_8.jpg", "orientation_6.png",
      "orientation_6.tiff"};
  for (const std::string& file : files) {
    INFO(file);
    const RgbImage ours = load_image(image_fixture(file));
    CHECK(difference(ours, expected_pixels().load_u8(file)) == "");
  }
}

TEST_CASE("EXIF orientation is applied: 6 and 8 swap width and height", "[image]") {
  const RgbImage upright = load_image(image_fixture("rgb.jpg"));
  const RgbImage turned = load_image(image_fixture("orientation_6.jpg"));
  REQUIRE(upright.shape()[0] == 11);
  REQUIRE(upright.shape()[1] == 19);
  CHECK(turned.shape()[0] == 19);
  CHECK(turned.shape()[1] == 11);
  // The header reports the stored (unrotated) size; the pixel count is what the limit checks.
  const Bytes bytes = read_bytes(image_fixture("orientation_6.jpg"));
  const auto header = read_image_header(bytes.data(), bytes.size());
  REQUIRE(header);
  CHECK(header->width == 19);
  CHECK(header->height == 11);
}

TEST_CASE("16-bit images are scaled to 8 bits as round(v / 257)", "[image]") {
  // A ramp through all of 0..65535, including the values next to each rounding boundary.
  const int width = 257, height = 9;
  cv::Mat color(height, width, CV_16UC3), gray(height, width, CV_16UC1);
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      const int base = (y * width + x) * 29 % 65536;
      color.at<cv::Vec3w>(y, x) = cv::Vec3w(static_cast<std::uint16_t>(base),
                                            static_cast<std::uint16_t>((base + 128) % 65536),
                                            static_cast<std::uint16_t>(65535 - base));
      gray.at<std::uint16_t>(y, x) = static_cast<std::uint16_t>((x * 257 + y * 64 + 128) % 65536);
    }
  }
  auto expect8 = [](int v) { return static_cast<int>(std::floor(v / 257.0 + 0.5)); };
  for (const std::string ext : {".png", ".tiff"}) {
    for (const cv::Mat* source : {&color, &gray}) {
      INFO(ext << (source == &color ? " colour" : " gray"));
      std::vector<std::uint8_t> encoded;
      REQUIRE(cv::imencode(ext, *source, encoded));
      const RgbImage ours = decode_image(encoded.data(), encoded.size(), "sixteen" + ext);
      REQUIRE(ours.shape()[0] == static_cast<std::size_t>(height));
      REQUIRE(ours.shape()[1] == static_cast<std::size_t>(width));
      int mismatches = 0;
      for (int y = 0; y < height; ++y) {
        for (int x = 0; x < width; ++x) {
          for (int c = 0; c < 3; ++c) {
            // OpenCV stores B, G, R; the loader returns R, G, B.
            const int v = source->channels() == 3 ? source->at<cv::Vec3w>(y, x)[2 - c]
                                                   : source->at<std::uint16_t>(y, x);
            if (ours(y, x, c) != expect8(v)) ++mismatches;
          }
        }
      }
      CHECK(mismatches == 0);
    }
  }
}

TEST_CASE("images OpenCV encodes round-trip through the loader", "[image]") {
  // Lossless encodings of a random BGR image: the loader must return exactly its pixels in RGB.
  cv::Mat bgr(23, 31, CV_8UC3);
  cv::randu(bgr, 0, 256);
  for (const std::string ext : {".png", ".bmp", ".tiff", ".ppm", ".webp"}) {
    INFO(ext);
    std::vector<int> params;
    if (ext == ".webp") params = {cv::IMWRITE_WEBP_QUALITY, 101};  // above 100: lossless
    std::vector<std::uint8_t> encoded;
    REQUIRE(cv::imencode(ext, bgr, encoded, params));
    const RgbImage ours = decode_image(encoded.data(), encoded.size(), "random" + ext);
    REQUIRE(ours.shape()[0] == 23);
    REQUIRE(ours.shape()[1] == 31);
    int mismatches = 0;
    for (int y = 0; y < 23; ++y) {
      for (int x = 0; x < 31; ++x) {
        for (int c = 0; c < 3; ++c) mismatches += ours(y, x, c) != bgr.at<cv::Vec3b>(y, x)[2 - c];
      }
    }
    CHECK(mismatches == 0);
  }
}
