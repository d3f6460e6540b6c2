// EXIF orientation of JPEG files (see exif_orientation.hpp).
#include "io/exif_orientation.hpp"

#include <opencv2/core.hpp>

#include "io/image_bytes.hpp"
#include "io/jpeg_markers.hpp"

namespace vitscope::exif {
namespace {

using image_bytes::Bytes;

constexpr std::uint16_t kOrientationTag = 0x0112;

// The orientation in a TIFF structure (the body of an "Exif\0\0" segment): IFD0's entries are
// 12 bytes each, tag (2), type (2), count (4), value (4); a SHORT value sits in the first 2.
int tiff_orientation(const Bytes& tiff) {
  bool little_endian = false;
  if (tiff.starts_with(0, "II*\0", 4)) {
    little_endian = true;
  } else if (!tiff.starts_with(0, "MM\0*", 4)) {
    return 1;
  }
  const auto ifd = tiff.u32(4, little_endian);
  if (!ifd) return 1;
  const auto entries = tiff.u16(*ifd, little_endian);
  if (!entries) return 1;
  for (std::size_t i = 0; i < *entries; ++i) {
    const std::size_t entry = *ifd + 2 + 12 * i;
    const auto tag = tiff.u16(entry, little_endian);
    if (!tag) return 1;
    if (*tag != kOrientationTag) continue;
    const auto value = tiff.u16(entry + 8, little_endian);
    return value && *value >= 1 && *value <= 8 ? *value : 1;
  }
  return 1;
}

cv::Mat view(RgbImage& image) {
  return cv::Mat(static_cast<int>(image.shape()[0]), static_cast<int>(image.shape()[1]), CV_8UC3,
                 image.data());
}

RgbImage flipped(RgbImage& image, int flip_code) {
  RgbImage out = RgbImage::from_shape(image.shape());
  cv::Mat out_view = view(out);
  cv::flip(view(image), out_view, flip_code);
  return out;
}

RgbImage transposed(RgbImage& image) {
  RgbImage out = RgbImage::from_shape({image.shape()[1], image.shape()[0], 3});
  cv::Mat out_view = view(out);
  cv::transpose(view(image), out_view);
  return out;
}

}  // namespace

int jpeg_orientation(const std::uint8_t* bytes, std::size_t size) {
  const Bytes b(bytes, size);
  std::size_t pos = 2;  // after SOI
  while (pos < b.size()) {
    pos = jpeg_markers::next_marker_code(b, pos);
    const auto marker = b.u8(pos);
    if (!marker) return 1;
    ++pos;
    if (jpeg_markers::is_standalone(*marker)) continue;
    if (*marker == 0xD9 || *marker == 0xDA) return 1;  // EOI, or the first scan: no more metadata
    const auto length = b.u16be(pos);
    if (!length || *length < 2 || !b.has(pos, *length)) return 1;
    // The segment's length counts its own 2 bytes; the body follows "Exif\0\0" inside it.
    if (*marker == 0xE1 && *length >= 2 + 6 && b.starts_with(pos + 2, "Exif\0\0", 6)) {
      const std::size_t body = pos + 2 + 6;
      return tiff_orientation(Bytes(b.data() + body, pos + *length - body));
    }
    pos += *length;
  }
  return 1;
}

int png_orientation(const std::uint8_t* bytes, std::size_t size) {
  const Bytes b(bytes, size);
  std::size_t pos = 8;  // after the signature: chunks of length, type, data, CRC
  while (b.has(pos, 12)) {
    const auto length = b.u32be(pos);
    if (!length || !b.has(pos + 8, static_cast<std::size_t>(*length) + 4)) return 1;
    if (b.starts_with(pos + 4, "eXIf", 4)) return tiff_orientation(Bytes(b.data() + pos + 8, *length));
    if (b.starts_with(pos + 4, "IDAT", 4) || b.starts_with(pos + 4, "IEND", 4)) return 1;  // eXIf comes before
    pos += 12 + static_cast<std::size_t>(*length);
  }
  return 1;
}

int tiff_file_orientation(const std::uint8_t* bytes, std::size_t size) { return tiff_orientation(Bytes(bytes, size)); }

RgbImage apply_orientation(RgbImage image, int orientation) {
  switch (orientation) {
    case 2: return flipped(image, 1);
    case 3: return flipped(image, -1);
    case 4: return flipped(image, 0);
    case 5: return transposed(image);
    case 6: { RgbImage t = transposed(image); return flipped(t, 1); }
    case 7: { RgbImage t = transposed(image); return flipped(t, -1); }
    case 8: { RgbImage t = transposed(image); return flipped(t, 0); }
    default: return image;
  }
}

}  // namespace vitscope::exif
