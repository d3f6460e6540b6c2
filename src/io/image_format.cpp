// Recognising image formats by content (magic bytes) and by file name.
#include <algorithm>
#include <array>
#include <cctype>
#include <string>

#include "io/image_bytes.hpp"
#include "vitscope/io/image.hpp"

namespace vitscope {

const char* image_format_name(ImageFormat format) {
  switch (format) {
    case ImageFormat::Jpeg: return "JPEG";
    case ImageFormat::Png: return "PNG";
    case ImageFormat::Bmp: return "BMP";
    case ImageFormat::Webp: return "WebP";
    case ImageFormat::Tiff: return "TIFF";
    case ImageFormat::Gif: return "GIF";
    case ImageFormat::Pnm: return "PNM";
    case ImageFormat::Unknown: break;
  }
  return "unknown";
}

ImageFormat sniff_image_format(const std::uint8_t* bytes, std::size_t size) {
  const image_bytes::Bytes b(bytes, size);
  if (b.starts_with(0, "\xFF\xD8\xFF", 3)) return ImageFormat::Jpeg;
  if (b.starts_with(0, "\x89PNG\r\n\x1A\n", 8)) return ImageFormat::Png;
  if (b.starts_with(0, "RIFF", 4) && b.starts_with(8, "WEBP", 4)) return ImageFormat::Webp;
  // Classic TIFF (42) and BigTIFF (43), in both byte orders.
  if (b.starts_with(0, "II*\0", 4) || b.starts_with(0, "MM\0*", 4) ||
      b.starts_with(0, "II+\0", 4) || b.starts_with(0, "MM\0+", 4)) {
    return ImageFormat::Tiff;
  }
  if (b.starts_with(0, "GIF87a", 6) || b.starts_with(0, "GIF89a", 6)) return ImageFormat::Gif;
  if (b.starts_with(0, "BM", 2)) return ImageFormat::Bmp;
  // Netpbm: "P1".."P6" followed by whitespace.
  if (size >= 3 && bytes[0] == 'P' && bytes[1] >= '1' && bytes[1] <= '6' &&
      std::isspace(bytes[2])) {
    return ImageFormat::Pnm;
  }
  return ImageFormat::Unknown;
}

bool has_image_extension(const std::string& path) {
  static constexpr std::array<const char*, 15> kExtensions = {
      "jpg", "jpeg", "jpe", "png", "bmp", "dib", "webp", "tif",
      "tiff", "gif", "pbm", "pgm", "ppm", "pnm", "jfif"};
  const auto slash = path.find_last_of('/');
  const auto dot = path.find_last_of('.');
  if (dot == std::string::npos || (slash != std::string::npos && dot < slash)) return false;
  std::string extension = path.substr(dot + 1);
  std::transform(extension.begin(), extension.end(), extension.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return std::find(kExtensions.begin(), kExtensions.end(), extension) != kExtensions.end();
}

}  // namespace vitscope
