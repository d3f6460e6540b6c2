#pragma once
// Builders of hand-made image headers for the header-parsing and pixel-limit tests: only the bytes
// a parser reads, with the sizes a test asks for.
#include <cstdint>
#include <string>
#include <vector>

namespace vitscope::test {

using Bytes = std::vector<std::uint8_t>;

inline void put_be(Bytes& out, std::uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}
inline void put_le(Bytes& out, std::uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}
inline void put_text(Bytes& out, const std::string& text) {
  for (char c : text) out.push_back(static_cast<std::uint8_t>(c));
}

// Signature and IHDR (CRC left zero: header parsing does not check it).
inline Bytes png_header(std::uint32_t width, std::uint32_t height) {
  Bytes b = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  put_be(b, 13, 4);
  put_text(b, "IHDR");
  put_be(b, width, 4);
  put_be(b, height, 4);
  b.insert(b.end(), {8, 2, 0, 0, 0});
  put_be(b, 0, 4);
  return b;
}

// SOI, an APP0 and a padded APP1 segment, then a start-of-frame of the given kind (0xC0 baseline,
// 0xC2 progressive) with fill bytes before its marker.
inline Bytes jpeg_header(std::uint16_t width, std::uint16_t height, std::uint8_t sof = 0xC0) {
  Bytes b = {0xFF, 0xD8, 0xFF, 0xE0};
  put_be(b, 16, 2);
  put_text(b, "JFIF");
  b.insert(b.end(), {0, 1, 1, 0, 0, 1, 0, 1, 0, 0});
  b.insert(b.end(), {0xFF, 0xE1});
  put_be(b, 2 + 300, 2);
  b.insert(b.end(), 300, 0xAB);
  b.insert(b.end(), {0xFF, 0xFF, 0xFF, sof});
  put_be(b, 17, 2);
  b.push_back(8);
  put_be(b, height, 2);
  put_be(b, width, 2);
  b.insert(b.end(), {3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1});
  return b;
}

// BITMAPFILEHEADER + BITMAPINFOHEADER (40 bytes); a negative height marks a top-down bitmap.
inline Bytes bmp_header(std::int32_t width, std::int32_t height, std::uint16_t bits = 24) {
  Bytes b = {'B', 'M'};
  put_le(b, 54, 4);
  put_le(b, 0, 4);
  put_le(b, 54, 4);
  put_le(b, 40, 4);
  put_le(b, static_cast<std::uint32_t>(width), 4);
  put_le(b, static_cast<std::uint32_t>(height), 4);
  put_le(b, 1, 2);
  put_le(b, bits, 2);
  put_le(b, 0, 4);  // BI_RGB
  b.insert(b.end(), 20, 0);
  return b;
}

// OS/2 BITMAPCOREHEADER (12 bytes): unsigned 16-bit sizes.
inline Bytes bmp_core_header(std::uint16_t width, std::uint16_t height) {
  Bytes b = {'B', 'M'};
  put_le(b, 26, 4);
  put_le(b, 0, 4);
  put_le(b, 26, 4);
  put_le(b, 12, 4);
  put_le(b, width, 2);
  put_le(b, height, 2);
  put_le(b, 1, 2);
  put_le(b, 24, 2);
  return b;
}

inline Bytes riff_webp(const std::string& chunk, const Bytes& payload) {
  Bytes b;
  put_text(b, "RIFF");
  put_le(b, 4 + 8 + payload.size(), 4);
  put_text(b, "WEBP");
  put_text(b, chunk);
  put_le(b, payload.size(), 4);
  b.insert(b.end(), payload.begin(), payload.end());
  return b;
}

inline Bytes webp_vp8x_header(std::uint32_t width, std::uint32_t height) {
  Bytes payload = {0x10, 0, 0, 0};  // flags: alpha
  put_le(payload, width - 1, 3);
  put_le(payload, height - 1, 3);
  return riff_webp("VP8X", payload);
}

inline Bytes webp_vp8l_header(std::uint32_t width, std::uint32_t height) {
  Bytes payload = {0x2F};
  put_le(payload, (width - 1) | (height - 1) << 14, 4);
  return riff_webp("VP8L", payload);
}

inline Bytes webp_vp8_header(std::uint16_t width, std::uint16_t height) {
  Bytes payload = {0x50, 0x01, 0x00, 0x9D, 0x01, 0x2A};  // frame tag, start code
  put_le(payload, width, 2);
  put_le(payload, height, 2);
  return riff_webp("VP8 ", payload);
}

// A classic TIFF with one IFD holding ImageWidth (SHORT) and ImageLength (LONG), either byte order,
// an unrelated tag first.
inline Bytes tiff_header(std::uint32_t width, std::uint32_t height, bool little_endian) {
  Bytes b;
  auto put = [&](std::uint64_t v, int bytes) { little_endian ? put_le(b, v, bytes) : put_be(b, v, bytes); };
  put_text(b, little_endian ? "II" : "MM");
  put(42, 2);
  put(8, 4);
  put(3, 2);  // entries
  put(254, 2), put(4, 2), put(1, 4), put(0, 4);                  // NewSubfileType
  put(256, 2), put(3, 2), put(1, 4), put(width, 2), put(0, 2);   // ImageWidth, SHORT
  put(257, 2), put(4, 2), put(1, 4), put(height, 4);             // ImageLength, LONG
  put(0, 4);
  return b;
}

// A little-endian BigTIFF: 8-byte offsets and counts, LONG8 sizes.
inline Bytes bigtiff_header(std::uint64_t width, std::uint64_t height) {
  Bytes b = {'I', 'I'};
  put_le(b, 43, 2);
  put_le(b, 8, 2);
  put_le(b, 0, 2);
  put_le(b, 16, 8);
  put_le(b, 2, 8);  // entries
  put_le(b, 256, 2), put_le(b, 16, 2), put_le(b, 1, 8), put_le(b, width, 8);
  put_le(b, 257, 2), put_le(b, 16, 2), put_le(b, 1, 8), put_le(b, height, 8);
  put_le(b, 0, 8);
  return b;
}

inline Bytes gif_header(std::uint16_t width, std::uint16_t height) {
  Bytes b;
  put_text(b, "GIF89a");
  put_le(b, width, 2);
  put_le(b, height, 2);
  b.insert(b.end(), {0xF7, 0, 0});
  return b;
}

inline Bytes text_bytes(const std::string& text) { return Bytes(text.begin(), text.end()); }

}  // namespace vitscope::test
