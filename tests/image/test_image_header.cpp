// Format sniffing and the header parsers: sizes of every fixture, hand-made headers of each format
// and variant (byte orders, BigTIFF, the three WebP chunks, OS/2 BMP, PNM comments), malformed
// headers, and every prefix of every fixture (nothing may read past the end).
#include <string>
#include <vector>

#include "image/header_bytes.hpp"
#include "image/image_test_util.hpp"

using namespace vitscope;
using namespace vitscope::test;

namespace {

struct Expected {
  ImageFormat format;
  std::int64_t width, height;
};

void check_header(const Bytes& bytes, const Expected& expected) {
  const auto header = read_image_header(bytes.data(), bytes.size());
  REQUIRE(header);
  CHECK(header->format == expected.format);
  CHECK(header->width == expected.width);
  CHECK(header->height == expected.height);
}

}  // namespace

TEST_CASE("the header of every fixture gives its format and size", "[image][header]") {
  const std::vector<std::pair<std::string, ImageFormat>> files = {
      {"rgb.png", ImageFormat::Png},   {"rgb.bmp", ImageFormat::Bmp},
      {"rgb.tiff", ImageFormat::Tiff}, {"rgb_lzw.tiff", ImageFormat::Tiff},
      {"rgb_lossless.webp", ImageFormat::Webp}, {"rgba_lossless.webp", ImageFormat::Webp},
      {"rgb.ppm", ImageFormat::Pnm},   {"gray.pgm", ImageFormat::Pnm},
      {"rgb.jpg", ImageFormat::Jpeg},  {"gray.jpg", ImageFormat::Jpeg},
      {"gray16.png", ImageFormat::Png}, {"palette.gif", ImageFormat::Gif},
      {"orientation_8.jpg", ImageFormat::Jpeg}};
  for (const auto& [file, format] : files) {
    INFO(file);
    const Bytes bytes = read_bytes(image_fixture(file));
    CHECK(sniff_image_format(bytes.data(), bytes.size()) == format);
    check_header(bytes, {format, 19, 11});
  }
}

TEST_CASE("hand-made headers of each format and variant", "[image][header]") {
  check_header(png_header(20000, 20000), {ImageFormat::Png, 20000, 20000});
  check_header(jpeg_header(4032, 3024), {ImageFormat::Jpeg, 4032, 3024});
  check_header(jpeg_header(65535, 1, 0xC2), {ImageFormat::Jpeg, 65535, 1});  // progressive
  check_header(bmp_header(640, 480), {ImageFormat::Bmp, 640, 480});
  check_header(bmp_header(640, -480), {ImageFormat::Bmp, 640, 480});  // top-down
  check_header(bmp_core_header(300, 200), {ImageFormat::Bmp, 300, 200});
  check_header(webp_vp8x_header(16383 * 2, 5), {ImageFormat::Webp, 32766, 5});
  check_header(webp_vp8l_header(16384, 77), {ImageFormat::Webp, 16384, 77});
  check_header(webp_vp8_header(1023, 767), {ImageFormat::Webp, 1023, 767});
  check_header(tiff_header(1234, 70000, true), {ImageFormat::Tiff, 1234, 70000});
  check_header(tiff_header(1234, 70000, false), {ImageFormat::Tiff, 1234, 70000});
  check_header(bigtiff_header(100000, 3), {ImageFormat::Tiff, 100000, 3});
  check_header(gif_header(800, 600), {ImageFormat::Gif, 800, 600});
  check_header(text_bytes("P6\n# made by hand\n 640 # width\n\t480\n255\n"), {ImageFormat::Pnm, 640, 480});
  check_header(text_bytes("P1 3 2 0 1 0 1 0 1"), {ImageFormat::Pnm, 3, 2});
}

TEST_CASE("malformed headers give no size", "[image][header]") {
  auto none = [](const Bytes& bytes) { return !read_image_header(bytes.data(), bytes.size()); };
  Bytes png = png_header(10, 10);
  png[11] = 12;  // IHDR length must be 13
  CHECK(none(png));
  CHECK(none(png_header(0, 10)));
  CHECK(none(png_header(10, 0x80000000u)));
  CHECK(none(Bytes{0xFF, 0xD8, 0xFF, 0xDA, 0x00, 0x02}));  // scan before any frame
  CHECK(none(Bytes{0xFF, 0xD8, 0xFF, 0xD9}));              // SOI, EOI
  CHECK(none(jpeg_header(0, 10)));
  CHECK(none(bmp_header(0, 10)));
  CHECK(none(bmp_header(-5, 10)));
  Bytes bmp = bmp_header(5, 5);
  bmp[14] = 8;  // a DIB header too small to hold the size
  CHECK(none(bmp));
  CHECK(none(riff_webp("VP8 ", Bytes{0x50, 0x01, 0x00, 0x9D, 0x01, 0x2B, 1, 0, 1, 0})));  // bad start code
  CHECK(none(riff_webp("VP8L", Bytes{0x2E, 0, 0, 0, 0})));  // bad signature
  CHECK(none(riff_webp("ALPH", Bytes{0, 0, 0, 0})));
  Bytes tiff = tiff_header(5, 5, true);
  tiff[4] = 200;  // IFD offset past the end
  CHECK(none(tiff));
  CHECK(none(text_bytes("P6\n-3 4\n255\n")));
  CHECK(none(text_bytes("P6\n3")));
  CHECK(none(text_bytes("P5 99999999999 2 255 ")));
}

TEST_CASE("every prefix of every fixture parses or is refused without reading past the end",
          "[image][header]") {
  // Run under AddressSanitizer, a read past a prefix is reported as an error; each prefix is
  // copied to its own exactly-sized buffer so there is nothing readable after it.
  for (const std::string file : {"rgb.png", "rgb.bmp", "rgb.tiff", "rgb_lossless.webp", "rgb.ppm",
                                 "rgb.jpg", "palette.gif", "rgba_lossless.webp"}) {
    const Bytes bytes = read_bytes(image_fixture(file));
    const auto full = read_image_header(bytes.data(), bytes.size());
    REQUIRE(full);
    for (std::size_t n = 0; n < std::min<std::size_t>(bytes.size(), 600); ++n) {
      const Bytes prefix(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(n));
      const auto header = read_image_header(prefix.data(), prefix.size());
      if (header) {  // once the size fields are in, the answer is the full file's
        CHECK(header->width == full->width);
        CHECK(header->height == full->height);
      }
    }
  }
}

TEST_CASE("sniffing looks at content, not names", "[image][header]") {
  auto sniff = [](const Bytes& b) { return sniff_image_format(b.data(), b.size()); };
  CHECK(sniff(text_bytes("hello, world\n")) == ImageFormat::Unknown);
  CHECK(sniff(text_bytes("P7\nWIDTH 2\n")) == ImageFormat::Unknown);  // PAM is not supported
  CHECK(sniff(text_bytes("Pixel")) == ImageFormat::Unknown);
  CHECK(sniff(Bytes{'R', 'I', 'F', 'F', 4, 0, 0, 0, 'W', 'A', 'V', 'E'}) == ImageFormat::Unknown);
  CHECK(sniff(Bytes{0xFF, 0xD8}) == ImageFormat::Unknown);  // too short to tell
  CHECK(sniff(Bytes{}) == ImageFormat::Unknown);
  CHECK(sniff(Bytes{0xFF, 0xD8, 0xFF, 0xE1}) == ImageFormat::Jpeg);
  CHECK(sniff(Bytes{'M', 'M', 0, '+'}) == ImageFormat::Tiff);
  CHECK(sniff(text_bytes("GIF87a")) == ImageFormat::Gif);
  CHECK(std::string(image_format_name(ImageFormat::Webp)) == "WebP");
  CHECK(std::string(image_format_name(ImageFormat::Unknown)) == "unknown");
}

TEST_CASE("image extensions are recognised in any case", "[image][header]") {
  for (const std::string name : {"a.jpg", "b.JPEG", "dir/c.Jpe", "d.png", "e.bmp", "f.dib", "g.WebP",
                                 "h.tif", "i.TIFF", "j.gif", "k.pbm", "l.pgm", "m.ppm", "n.pnm",
                                 "/x.y/photo.jfif"}) {
    CHECK(has_image_extension(name));
  }
  for (const std::string name : {"a.txt", "jpg", "png.d/readme", "photo.jpg.bak", "x.", ".jpgx", ""}) {
    CHECK_FALSE(has_image_extension(name));
  }
}
