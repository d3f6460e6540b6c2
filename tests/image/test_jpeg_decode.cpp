// JPEG files decode through TurboJPEG (src/io/jpeg_decode.cpp); these tests hold it to OpenCV's
// decoder, which it replaced for JPEG: the same pixels for every JPEG fixture, every shared photo,
// all eight EXIF orientations, and CMYK files (which still go through OpenCV).
#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <turbojpeg.h>

#include "image/image_test_util.hpp"

using namespace vitscope;
using namespace vitscope::test;

namespace {

// OpenCV's decode (EXIF orientation applied, 3 channels), as RGB.
cv::Mat opencv_rgb(const Bytes& bytes) {
  const cv::Mat encoded(1, static_cast<int>(bytes.size()), CV_8UC1, const_cast<std::uint8_t*>(bytes.data()));
  const cv::Mat bgr = cv::imdecode(encoded, cv::IMREAD_COLOR);
  REQUIRE(!bgr.empty());
  cv::Mat rgb;
  cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
  return rgb;
}

// How many bytes of `image` differ from OpenCV's decode of the same file; -1 if the sizes differ.
long differing_bytes(const RgbImage& image, const cv::Mat& expected) {
  if (static_cast<int>(image.shape()[0]) != expected.rows ||
      static_cast<int>(image.shape()[1]) != expected.cols) {
    return -1;
  }
  const cv::Mat actual(expected.rows, expected.cols, CV_8UC3, const_cast<std::uint8_t*>(image.data()));
  cv::Mat diff;
  cv::compare(actual.reshape(1), expected.reshape(1), diff, cv::CMP_NE);
  return cv::countNonZero(diff);
}

std::vector<std::filesystem::path> shared_photos() {
  const std::filesystem::path dir = std::string(VITSCOPE_SHARED_DIR) + "/images/imagenet-100";
  if (!std::filesystem::is_directory(dir))
    FAIL("required folder " << dir.string() << " is missing: this test needs ../shared beside the repository");
  std::vector<std::filesystem::path> photos;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() == ".JPEG") photos.push_back(entry.path());
  }
  std::sort(photos.begin(), photos.end());
  return photos;
}

// The fixture's EXIF block, as PIL wrote it: big-endian ("MM"), IFD0 with the one entry
// Orientation (tag 0x0112, type SHORT, count 1) = 6. Returns the offset of the body's first byte.
std::size_t exif_body_offset(const Bytes& bytes) {
  const std::uint8_t body[] = {'M', 'M', 0, 42, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 6};
  const auto found = std::search(bytes.begin(), bytes.end(), std::begin(body), std::end(body));
  REQUIRE(found != bytes.end());
  return static_cast<std::size_t>(found - bytes.begin());
}

// The same EXIF body with orientation `value`, in either byte order.
void write_exif_body(Bytes& bytes, std::size_t at, bool little_endian, int value) {
  const auto v = static_cast<std::uint8_t>(value);
  const std::vector<std::uint8_t> big = {'M', 'M', 0, 42, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, v};
  const std::vector<std::uint8_t> little = {'I', 'I', 42, 0, 8, 0, 0, 0, 1, 0, 0x12, 0x01, 3, 0, 1, 0, 0, 0, v, 0};
  const auto& body = little_endian ? little : big;
  std::copy(body.begin(), body.end(), bytes.begin() + static_cast<std::ptrdiff_t>(at));
}

}  // namespace

TEST_CASE("JPEG fixtures decode to OpenCV's pixels", "[image][jpeg]") {
  for (const char* name : {"rgb.jpg", "gray.jpg", "orientation_3.jpg", "orientation_6.jpg", "orientation_8.jpg"}) {
    INFO(name);
    const Bytes bytes = read_bytes(image_fixture(name));
    CHECK(differing_bytes(decode_image(bytes.data(), bytes.size(), name), opencv_rgb(bytes)) == 0);
  }
}

TEST_CASE("the shared ImageNet photos decode to OpenCV's pixels", "[image][jpeg]") {
  const auto photos = shared_photos();
  REQUIRE(photos.size() == 100);
  for (const auto& photo : photos) {
    INFO(photo.string());
    const Bytes bytes = read_bytes(photo.string());
    CHECK(differing_bytes(decode_image(bytes.data(), bytes.size(), photo.string()), opencv_rgb(bytes)) == 0);
  }
}

TEST_CASE("all eight EXIF orientations are applied as OpenCV applies them", "[image][jpeg]") {
  Bytes bytes = read_bytes(image_fixture("orientation_6.jpg"));
  const std::size_t at = exif_body_offset(bytes);
  write_exif_body(bytes, at, false, 1);
  const RgbImage upright = decode_image(bytes.data(), bytes.size(), "orientation_1.jpg");
  for (const bool little_endian : {false, true}) {
    for (int orientation = 0; orientation <= 9; ++orientation) {  // 0 and 9 are invalid: ignored
      INFO((little_endian ? "II" : "MM") << " orientation " << orientation);
      write_exif_body(bytes, at, little_endian, orientation);
      const RgbImage image = decode_image(bytes.data(), bytes.size(), "oriented.jpg");
      CHECK(differing_bytes(image, opencv_rgb(bytes)) == 0);
      const bool swaps = orientation >= 5 && orientation <= 8;
      CHECK(image.shape()[0] == (swaps ? upright.shape()[1] : upright.shape()[0]));
    }
  }
}

TEST_CASE("CMYK JPEG files decode to OpenCV's pixels", "[image][jpeg]") {
  // A 37x23 CMYK gradient compressed by TurboJPEG (OpenCV cannot write CMYK JPEG files).
  const int width = 37, height = 23;
  std::vector<std::uint8_t> cmyk(static_cast<std::size_t>(width) * height * 4);
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      std::uint8_t* p = &cmyk[(static_cast<std::size_t>(y) * width + x) * 4];
      p[0] = static_cast<std::uint8_t>(x * 7);
      p[1] = static_cast<std::uint8_t>(y * 11);
      p[2] = static_cast<std::uint8_t>((x + y) * 5);
      p[3] = static_cast<std::uint8_t>(x * y);
    }
  }
  tjhandle compressor = tjInitCompress();
  REQUIRE(compressor != nullptr);
  unsigned char* jpeg = nullptr;
  unsigned long jpeg_size = 0;
  const int status = tjCompress2(compressor, cmyk.data(), width, 0, height, TJPF_CMYK, &jpeg,
                                 &jpeg_size, TJSAMP_444, 95, 0);
  const Bytes bytes(jpeg, jpeg + (status == 0 ? jpeg_size : 0));
  tjFree(jpeg);
  tjDestroy(compressor);
  REQUIRE(status == 0);

  const RgbImage image = decode_image(bytes.data(), bytes.size(), "cmyk.jpg");
  CHECK(differing_bytes(image, opencv_rgb(bytes)) == 0);
  CHECK(image.shape()[1] == static_cast<std::size_t>(width));
}

TEST_CASE("an APP1 segment too short for its \"Exif\" signature is skipped", "[image][jpeg]") {
  // Found by fuzzing: a 4-byte APP1 segment followed by the rest of "Exif\0\0" and a TIFF header
  // whose IFD offset points 1 MiB away. Measured from the segment's end, the EXIF body's size
  // went negative (wrapped) and the IFD was read far outside the file. libjpeg skips the stray
  // bytes after the segment with a warning; the image decodes as without the segment.
  const Bytes original = read_bytes(image_fixture("rgb.jpg"));
  const std::uint8_t segment[] = {0xFF, 0xE1, 0x00, 0x04, 'E', 'x', 'i', 'f', 0, 0,
                                  'M', 'M', 0, 42, 0x00, 0x10, 0x00, 0x00};
  Bytes bytes(original.begin(), original.begin() + 2);  // SOI
  bytes.insert(bytes.end(), std::begin(segment), std::end(segment));
  bytes.insert(bytes.end(), original.begin() + 2, original.end());
  const RgbImage image = decode_image(bytes.data(), bytes.size(), "short-exif.jpg");
  CHECK(differing_bytes(image, opencv_rgb(original)) == 0);
}
