// Width and height from an image file's header, read without decoding: small parsers for each
// format's size fields, so oversized images can be refused before any pixel memory is allocated.
#include <cctype>
#include <cstdint>
#include <limits>
#include <optional>

#include "io/image_bytes.hpp"
#include "io/jpeg_markers.hpp"
#include "vitscope/io/image.hpp"

namespace vitscope {
namespace {

using image_bytes::Bytes;

struct Size {
  std::int64_t width;
  std::int64_t height;
};

std::optional<Size> positive(std::int64_t width, std::int64_t height) {
  if (width <= 0 || height <= 0) return std::nullopt;
  return Size{width, height};
}

bool is_start_of_frame(std::uint8_t marker) {
  // SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC), which share the range.
  return marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
}

// Walks the marker segments up to the first start-of-frame, which holds the frame size.
std::optional<Size> jpeg_size(const Bytes& b) {
  std::size_t pos = 2;  // after SOI
  while (pos < b.size()) {
    pos = jpeg_markers::next_marker_code(b, pos);
    const auto marker = b.u8(pos);
    if (!marker) return std::nullopt;
    ++pos;
    if (jpeg_markers::is_standalone(*marker)) continue;
    if (*marker == 0xD9 || *marker == 0xDA) return std::nullopt;  // EOI or scan before any frame
    const auto length = b.u16be(pos);
    if (!length || *length < 2) return std::nullopt;
    if (is_start_of_frame(*marker)) {
      const auto height = b.u16be(pos + 3), width = b.u16be(pos + 5);
      if (!height || !width) return std::nullopt;
      return positive(*width, *height);
    }
    pos += *length;
  }
  return std::nullopt;
}

std::optional<Size> png_size(const Bytes& b) {
  const auto length = b.u32be(8);
  if (!length || *length != 13 || !b.starts_with(12, "IHDR", 4)) return std::nullopt;
  const auto width = b.u32be(16), height = b.u32be(20);
  if (!width || !height || *width > 0x7FFFFFFFu || *height > 0x7FFFFFFFu) return std::nullopt;
  return positive(*width, *height);
}

std::optional<Size> bmp_size(const Bytes& b) {
  const auto dib_size = b.u32le(14);
  if (!dib_size) return std::nullopt;
  if (*dib_size == 12) {  // OS/2 BITMAPCOREHEADER: unsigned 16-bit sizes
    const auto width = b.u16le(18), height = b.u16le(20);
    if (!width || !height) return std::nullopt;
    return positive(*width, *height);
  }
  if (*dib_size < 16) return std::nullopt;
  const auto width = b.u32le(18), height = b.u32le(22);
  if (!width || !height) return std::nullopt;
  // Signed 32-bit fields; a negative height marks a top-down bitmap.
  const auto signed_width = static_cast<std::int32_t>(*width);
  const auto signed_height = static_cast<std::int32_t>(*height);
  if (signed_height == std::numeric_limits<std::int32_t>::min()) return std::nullopt;
  return positive(signed_width, signed_height < 0 ? -std::int64_t{signed_height} : signed_height);
}

std::optional<Size> webp_size(const Bytes& b) {
  if (b.starts_with(12, "VP8 ", 4)) {  // lossy: key frame header after a 3-byte frame tag
    if (!b.starts_with(23, "\x9D\x01\x2A", 3)) return std::nullopt;
    const auto width = b.u16le(26), height = b.u16le(28);
    if (!width || !height) return std::nullopt;
    return positive(*width & 0x3FFF, *height & 0x3FFF);
  }
  if (b.starts_with(12, "VP8L", 4)) {  // lossless: 0x2F, then 14-bit width-1 and height-1
    const auto signature = b.u8(20);
    const auto bits = b.u32le(21);
    if (!signature || *signature != 0x2F || !bits) return std::nullopt;
    return positive((*bits & 0x3FFF) + 1, ((*bits >> 14) & 0x3FFF) + 1);
  }
  if (b.starts_with(12, "VP8X", 4)) {  // extended: 24-bit canvas width-1 and height-1
    const auto width = b.u24le(24), height = b.u24le(27);
    if (!width || !height) return std::nullopt;
    return positive(std::int64_t{*width} + 1, std::int64_t{*height} + 1);
  }
  return std::nullopt;
}

// ImageWidth (256) and ImageLength (257) from the first IFD, classic TIFF or BigTIFF.
std::optional<Size> tiff_size(const Bytes& b) {
  const bool little = b.data()[0] == 'I';
  const auto version = b.u16(2, little);
  if (!version) return std::nullopt;
  const bool big = *version == 43;  // BigTIFF: 8-byte offsets and counts, 20-byte entries
  if (big && b.u16(4, little) != std::optional<std::uint16_t>(8)) return std::nullopt;
  const auto ifd = big ? b.u64(8, little) : b.uint(4, 4, little);
  if (!ifd) return std::nullopt;
  const auto count = b.uint(*ifd, big ? 8 : 2, little);
  if (!count) return std::nullopt;
  const std::size_t entry_size = big ? 20 : 12;
  const std::size_t first_entry = *ifd + (big ? 8 : 2);
  std::optional<std::uint64_t> width, height;
  for (std::uint64_t i = 0; i < *count; ++i) {
    const std::size_t entry = first_entry + i * entry_size;
    if (!b.has(entry, entry_size)) return std::nullopt;
    const auto tag = *b.u16(entry, little);
    if (tag != 256 && tag != 257) continue;
    const auto type = *b.u16(entry + 2, little);
    const std::size_t value = entry + (big ? 12 : 8);
    // SHORT or LONG, and LONG8 in BigTIFF.
    const std::size_t width_bytes = type == 3 ? 2 : type == 4 ? 4 : (type == 16 && big) ? 8 : 0;
    if (width_bytes == 0) return std::nullopt;
    (tag == 256 ? width : height) = *b.uint(value, width_bytes, little);
    if (width && height) {
      if (*width > 0x7FFFFFFFu || *height > 0x7FFFFFFFu) return std::nullopt;
      return positive(static_cast<std::int64_t>(*width), static_cast<std::int64_t>(*height));
    }
  }
  return std::nullopt;
}

std::optional<Size> gif_size(const Bytes& b) {
  const auto width = b.u16le(6), height = b.u16le(8);  // logical screen size
  if (!width || !height) return std::nullopt;
  return positive(*width, *height);
}

// "P<n>", then width and height as ASCII decimals separated by whitespace and "#" comments.
std::optional<Size> pnm_size(const Bytes& b) {
  std::size_t pos = 2;
  auto next_number = [&]() -> std::optional<std::int64_t> {
    while (pos < b.size()) {
      if (b.data()[pos] == '#') {
        while (pos < b.size() && b.data()[pos] != '\n' && b.data()[pos] != '\r') ++pos;
      } else if (std::isspace(b.data()[pos])) {
        ++pos;
      } else {
        break;
      }
    }
    std::int64_t value = 0;
    std::size_t digits = 0;
    while (pos < b.size() && std::isdigit(b.data()[pos])) {
      value = value * 10 + (b.data()[pos] - '0');
      if (++digits > 10) return std::nullopt;
      ++pos;
    }
    // A number cut off by the end of the data is incomplete.
    if (digits == 0 || pos >= b.size()) return std::nullopt;
    // OpenCV's reader consumes the byte that ends a number whatever it is, so "8#9" reads as 8
    // then 9, not as 8 and a comment; the size checked here must be the size OpenCV decodes.
    ++pos;
    return value;
  };
  const auto width = next_number();
  if (!width) return std::nullopt;
  const auto height = next_number();
  if (!height || *width > 0x7FFFFFFF || *height > 0x7FFFFFFF) return std::nullopt;
  return positive(*width, *height);
}

}  // namespace

std::optional<ImageHeader> read_image_header(const std::uint8_t* bytes, std::size_t size) {
  const ImageFormat format = sniff_image_format(bytes, size);
  const Bytes b(bytes, size);
  std::optional<Size> found;
  switch (format) {
    case ImageFormat::Jpeg: found = jpeg_size(b); break;
    case ImageFormat::Png: found = png_size(b); break;
    case ImageFormat::Bmp: found = bmp_size(b); break;
    case ImageFormat::Webp: found = webp_size(b); break;
    case ImageFormat::Tiff: found = tiff_size(b); break;
    case ImageFormat::Gif: found = gif_size(b); break;
    case ImageFormat::Pnm: found = pnm_size(b); break;
    case ImageFormat::Unknown: break;
  }
  if (!found) return std::nullopt;
  return ImageHeader{format, found->width, found->height};
}

}  // namespace vitscope
