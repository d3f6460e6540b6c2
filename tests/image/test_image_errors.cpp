// Inputs that are not usable images: each must give one ImageError line "<path>: <problem>",
// nothing else on stderr, and never a crash. Oversized images are refused from the header alone.
#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "image/header_bytes.hpp"
#include "image/image_test_util.hpp"
#include "image/stderr_capture.hpp"

using namespace vitscope;
using namespace vitscope::test;

namespace {

Bytes head(const Bytes& bytes, std::size_t n) {
  return Bytes(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(std::min(n, bytes.size())));
}

std::string load_error(const std::string& path, const ImageLoadOptions& options = {}) {
  return image_error_of([&] { load_image(path, options); });
}

}  // namespace

TEST_CASE("unusable files give one-line messages naming the file", "[image][errors]") {
  ScratchDir dir;
  const Bytes jpeg = read_bytes(image_fixture("rgb.jpg"));
  const Bytes png = read_bytes(image_fixture("rgb.png"));
  std::mt19937 rng(99);
  Bytes noise(4096);
  for (auto& b : noise) b = static_cast<std::uint8_t>(rng());
  noise[0] = 0x00;  // not by chance a magic number

  struct Case {
    std::string path;
    std::string message;  // after "<path>: "
  };
  const std::vector<Case> cases = {
      {dir.write("empty.png", Bytes{}), "empty file (0 bytes)"},
      {dir.write("notes.jpg", "shopping list: milk, eggs\n"), "not an image (unrecognised content)"},
      {dir.write("noise.bin", noise), "not an image (unrecognised content)"},
      {dir.write("half.jpg", head(jpeg, jpeg.size() * 2 / 3)), "cannot decode JPEG data (file is truncated)"},
      {dir.write("no_eoi.jpg", head(jpeg, jpeg.size() - 2)), "cannot decode JPEG data (file is truncated)"},
      {dir.write("header_only.jpg", head(jpeg, 200)), "cannot decode JPEG data (file is truncated)"},
      {dir.write("stub.jpg", head(jpeg, 40)), "cannot read the JPEG header (truncated or corrupt)"},
      {dir.write("half.png", head(png, png.size() / 2)), "cannot decode PNG data (file is truncated)"},
      {dir.write("stub.png", head(png, 20)), "cannot read the PNG header (truncated or corrupt)"},
      {dir.path(), "is a directory"},
      {dir.file("missing.png"), "cannot open: No such file or directory"},
      {image_fixture("palette.gif"), "GIF images are not supported (OpenCV 4.6.0 has no GIF decoder)"},
      {image_fixture("animated.webp"), "animated WebP images are not supported"},
  };
  StderrCapture capture(dir.file("stderr.txt"));
  for (const Case& c : cases) {
    INFO(c.path);
    const std::string message = load_error(c.path);
    CHECK(message == c.path + ": " + c.message);
    CHECK(message.find('\n') == std::string::npos);
  }
  CHECK(capture.text() == "");
}

TEST_CASE("truncated files of every format are refused, silently", "[image][errors]") {
  ScratchDir dir;
  struct Case {
    std::string file;
    std::vector<double> kept;  // fractions of the file kept
    std::string problem;       // how the message continues after "<path>: "
  };
  // PIL's LZW TIFF stores its one strip right after the file header and the directory after it:
  // a short cut loses the directory, so even the size is unknown.
  const std::vector<Case> cases = {
      {"rgb.png", {0.5, 0.9}, "cannot decode PNG data (file is truncated)"},
      {"rgb.bmp", {0.5, 0.9}, "cannot decode BMP data (file is truncated)"},
      {"rgb.tiff", {0.5, 0.9}, "cannot decode TIFF data (file is truncated)"},
      {"rgb_lzw.tiff", {0.1, 0.15}, "cannot read the TIFF header (truncated or corrupt)"},
      {"rgb.ppm", {0.5, 0.9}, "cannot decode PNM data (file is truncated)"},
      {"gray.pgm", {0.5, 0.9}, "cannot decode PNM data (file is truncated)"},
      {"rgb.jpg", {0.5, 0.9}, "cannot decode JPEG data (file is truncated)"},
      {"rgb_lossless.webp", {0.5, 0.9}, "cannot decode WebP data (truncated or corrupt)"}};
  StderrCapture capture(dir.file("stderr.txt"));
  for (const Case& c : cases) {
    const Bytes bytes = read_bytes(image_fixture(c.file));
    for (const double kept : c.kept) {
      const std::string path = dir.write(std::to_string(kept) + "_" + c.file,
                                         head(bytes, static_cast<std::size_t>(bytes.size() * kept)));
      CHECK(load_error(path) == path + ": " + c.problem);
    }
  }
  CHECK(capture.text() == "");
}

TEST_CASE("a PNG with a damaged chunk is refused by its CRC", "[image][errors]") {
  ScratchDir dir;
  Bytes png = read_bytes(image_fixture("rgb.png"));
  png[png.size() - 40] ^= 0x5A;  // inside IDAT
  const std::string path = dir.write("damaged.png", png);
  StderrCapture capture(dir.file("stderr.txt"));
  CHECK(load_error(path) == path + ": cannot decode PNG data (CRC mismatch in IDAT chunk)");
  CHECK(capture.text() == "");
}

TEST_CASE("oversized images are refused from the header, before decoding", "[image][errors]") {
  ScratchDir dir;
  // Headers only: no pixel data follows, so any decoding attempt would fail differently.
  const std::string png = dir.write("huge.png", png_header(20000, 20000));
  CHECK(load_error(png) ==
        png + ": image is 20000x20000 (400.0 megapixels), over the 100 megapixel limit");
  const std::string jpeg = dir.write("huge.jpg", jpeg_header(65000, 40000));
  CHECK(load_error(jpeg) ==
        jpeg + ": image is 65000x40000 (2600.0 megapixels), over the 100 megapixel limit");
  const std::string bmp = dir.write("huge.bmp", bmp_header(12000, -9000));
  CHECK(load_error(bmp) == bmp + ": image is 12000x9000 (108.0 megapixels), over the 100 megapixel limit");
  const std::string webp = dir.write("huge.webp", webp_vp8x_header(16384, 16384));
  CHECK(load_error(webp) == webp + ": image is 16384x16384 (268.4 megapixels), over the 100 megapixel limit");
  const std::string tiff = dir.write("huge.tiff", bigtiff_header(1u << 20, 1u << 20));
  CHECK(load_error(tiff) ==
        tiff + ": image is 1048576x1048576 (1099511.6 megapixels), over the 100 megapixel limit");
  const std::string pnm = dir.write("huge.ppm", text_bytes("P6 30000 30000 255\n"));
  CHECK(load_error(pnm) == pnm + ": image is 30000x30000 (900.0 megapixels), over the 100 megapixel limit");

  // The limit is an option; at the limit exactly the image is accepted.
  ImageLoadOptions small;
  small.max_pixels = 19 * 11 - 1;
  const std::string fixture = image_fixture("rgb.png");
  CHECK(load_error(fixture, small) ==
        fixture + ": image is 19x11 (0.0 megapixels), over the 0.000208 megapixel limit");
  small.max_pixels = 19 * 11;
  CHECK(load_image(fixture, small).shape()[0] == 11);
}

TEST_CASE("decode_image names the buffer as given", "[image][errors]") {
  const Bytes text = text_bytes("GIF? no.");
  CHECK(image_error_of([&] { decode_image(text.data(), text.size(), "upload #3"); }) ==
        "upload #3: not an image (unrecognised content)");
  CHECK(image_error_of([&] { decode_image(nullptr, 0, "upload #4"); }) == "upload #4: empty file (0 bytes)");
}

TEST_CASE("damaged copies of the fixtures never crash the loader", "[image][errors]") {
  // Bit flips, cuts, and runs of random bytes at random places: each copy either decodes or gives
  // an ImageError; anything else (another exception, a crash, a sanitizer report) fails.
  const std::vector<std::string> files = {"rgb.png", "rgb.bmp", "rgb.tiff", "rgb_lzw.tiff",
                                          "rgb_lossless.webp", "rgb.ppm", "rgb.jpg", "gray.jpg",
                                          "palette.png", "orientation_6.jpg", "gray16.png"};
  ScratchDir dir;
  std::mt19937 rng(1234);
  int decoded = 0, refused = 0;
  // Nothing may reach stderr: libjpeg's warnings about corrupt entropy-coded data ("Corrupt JPEG
  // data: ...") among them, which OpenCV's decoder used to print.
  StderrCapture capture(dir.file("stderr.txt"));
  for (const std::string& file : files) {
    const Bytes original = read_bytes(image_fixture(file));
    for (int trial = 0; trial < 60; ++trial) {
      Bytes bytes = original;
      const int kind = trial % 3;
      if (kind == 0) {  // flip a few bits
        for (int i = 0; i < 4; ++i) bytes[rng() % bytes.size()] ^= static_cast<std::uint8_t>(1u << (rng() % 8));
      } else if (kind == 1) {  // cut
        bytes.resize(rng() % bytes.size());
      } else {  // overwrite a run with random bytes
        const std::size_t at = rng() % bytes.size();
        for (std::size_t i = at; i < std::min(bytes.size(), at + 1 + rng() % 64); ++i) {
          bytes[i] = static_cast<std::uint8_t>(rng());
        }
      }
      INFO(file << " damage " << kind << " trial " << trial);
      try {
        const RgbImage image = decode_image(bytes.data(), bytes.size(), file);
        CHECK(image.shape()[2] == 3);
        ++decoded;
      } catch (const ImageError& e) {
        CHECK(std::string(e.what()).rfind(file + ": ", 0) == 0);
        ++refused;
      }
    }
  }
  const std::string printed = capture.text();
  WARN("damaged copies: " << decoded << " decoded, " << refused << " refused");
  CHECK(printed.empty());
}
