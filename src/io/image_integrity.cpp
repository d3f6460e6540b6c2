// Completeness checks of JPEG, PNG, BMP, TIFF and binary PNM files (see image_integrity.hpp).
#include "io/image_integrity.hpp"

#include <array>
#include <cctype>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "io/image_bytes.hpp"
#include "io/jpeg_markers.hpp"

namespace vitscope::image_integrity {
namespace {

using image_bytes::Bytes;

const std::string kTruncated = "file is truncated";

// The position of the next 0xFF byte at or after `pos`, or the size when there is none.
std::size_t next_ff(const Bytes& b, std::size_t pos) {
  if (pos >= b.size()) return b.size();
  const void* found = std::memchr(b.data() + pos, 0xFF, b.size() - pos);
  return found ? static_cast<std::size_t>(static_cast<const std::uint8_t*>(found) - b.data()) : b.size();
}

// Follows the marker segments and the entropy-coded scans from SOI to EOI. Inside a scan, 0xFF is
// followed by 0x00 (a stuffed byte) or a restart marker; any other marker ends the scan. A file that
// runs out before EOI is truncated; bytes after EOI (camera trailers) are ignored.
std::optional<std::string> jpeg_damage(const Bytes& b) {
  std::size_t pos = 2;
  while (true) {
    pos = jpeg_markers::next_marker_code(b, pos);
    if (pos >= b.size()) return kTruncated;
    const std::uint8_t marker = b.data()[pos++];
    if (marker == 0xD9) return std::nullopt;  // EOI
    if (jpeg_markers::is_standalone(marker)) continue;
    const auto length = b.u16be(pos);
    if (!length) return kTruncated;
    if (*length < 2) return "invalid marker segment length";
    if (!b.has(pos, *length)) return kTruncated;
    pos += *length;
    if (marker != 0xDA) continue;
    // Entropy-coded data of the scan: stop at the first marker that is not RSTn.
    while (true) {
      pos = next_ff(b, pos);
      std::size_t next = pos;
      while (next < b.size() && b.data()[next] == 0xFF) ++next;
      if (next >= b.size()) return kTruncated;
      const std::uint8_t after = b.data()[next];
      if (after == 0x00 || (after >= 0xD0 && after <= 0xD7)) {
        pos = next + 1;
        continue;
      }
      break;  // pos is at the 0xFF of the next marker
    }
  }
}

// CRC-32 (the polynomial of PNG and zlib), eight bytes per step ("slicing-by-8"): table[k][b] is
// the CRC contribution of byte b followed by k zero bytes.
std::uint32_t crc32(const std::uint8_t* data, std::size_t size) {
  static const auto table = [] {
    std::array<std::array<std::uint32_t, 256>, 8> t{};
    for (std::uint32_t n = 0; n < 256; ++n) {
      std::uint32_t c = n;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[0][n] = c;
    }
    for (std::uint32_t n = 0; n < 256; ++n) {
      for (int k = 1; k < 8; ++k) t[k][n] = (t[k - 1][n] >> 8) ^ t[0][t[k - 1][n] & 0xFF];
    }
    return t;
  }();
  std::uint32_t c = 0xFFFFFFFFu;
  std::size_t i = 0;
  for (; i + 8 <= size; i += 8) {
    const std::uint32_t low = c ^ (std::uint32_t{data[i]} | std::uint32_t{data[i + 1]} << 8 |
                                   std::uint32_t{data[i + 2]} << 16 | std::uint32_t{data[i + 3]} << 24);
    c = table[7][low & 0xFF] ^ table[6][(low >> 8) & 0xFF] ^ table[5][(low >> 16) & 0xFF] ^
        table[4][low >> 24] ^ table[3][data[i + 4]] ^ table[2][data[i + 5]] ^
        table[1][data[i + 6]] ^ table[0][data[i + 7]];
  }
  for (; i < size; ++i) c = table[0][(c ^ data[i]) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

// A PNG chunk type for a message. Valid types are four ASCII letters; in a damaged file any other
// byte is written as \xNN, so that the message stays on one line.
std::string chunk_name(const std::uint8_t* type) {
  std::string name;
  for (int i = 0; i < 4; ++i) {
    const std::uint8_t c = type[i];
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')) {
      name += static_cast<char>(c);
    } else {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\x%02X", c);
      name += escaped;
    }
  }
  return name;
}

// Walks the chunks from the signature to IEND, checking each chunk's CRC.
std::optional<std::string> png_damage(const Bytes& b) {
  std::size_t pos = 8;
  while (true) {
    const auto length = b.u32be(pos);
    if (!length) return kTruncated;
    if (*length > 0x7FFFFFFFu) return "invalid chunk length";
    if (!b.has(pos + 4, std::size_t{*length} + 8)) return kTruncated;
    const std::uint8_t* type = b.data() + pos + 4;
    if (crc32(type, std::size_t{*length} + 4) != *b.u32be(pos + 8 + *length)) {
      return "CRC mismatch in " + chunk_name(type) + " chunk";
    }
    if (std::memcmp(type, "IEND", 4) == 0) return std::nullopt;
    pos += std::size_t{*length} + 12;
  }
}

// Uncompressed bitmaps (BI_RGB, BI_BITFIELDS) must hold every row of pixels.
std::optional<std::string> bmp_damage(const Bytes& b) {
  const auto data_offset = b.u32le(10);
  const auto dib_size = b.u32le(14);
  if (!data_offset || !dib_size) return kTruncated;
  std::int64_t width = 0, height = 0, bits = 0, compression = 0;
  if (*dib_size == 12) {
    const auto w = b.u16le(18), h = b.u16le(20), bpp = b.u16le(24);
    if (!w || !h || !bpp) return kTruncated;
    width = *w, height = *h, bits = *bpp;
  } else {
    const auto w = b.u32le(18), h = b.u32le(22), comp = b.u32le(30);
    const auto bpp = b.u16le(28);
    if (!w || !h || !bpp || !comp) return kTruncated;
    width = static_cast<std::int32_t>(*w);
    height = static_cast<std::int32_t>(*h);
    if (height < 0) height = -height;
    bits = *bpp, compression = *comp;
  }
  if (compression != 0 && compression != 3) return std::nullopt;  // RLE etc.: left to the decoder
  if (width <= 0 || width > 0x7FFFFFFF || bits <= 0 || bits > 64) return std::nullopt;
  const std::int64_t row_bytes = (width * bits + 31) / 32 * 4;
  if (row_bytes > 0 && height > (std::int64_t{1} << 62) / row_bytes) return kTruncated;
  const std::int64_t needed = std::int64_t{*data_offset} + row_bytes * height;
  if (static_cast<std::uint64_t>(needed) > b.size()) return kTruncated;
  return std::nullopt;
}

// Binary PNM (P4, P5, P6): header fields, one whitespace byte, then the raster.
std::optional<std::string> pnm_damage(const Bytes& b) {
  const char kind = static_cast<char>(b.data()[1]);
  if (kind < '4') return std::nullopt;  // ASCII variants: left to the decoder
  const int fields = kind == '4' ? 2 : 3;  // width, height[, maxval]
  std::int64_t values[3] = {0, 0, 0};
  std::size_t pos = 2;
  for (int f = 0; f < fields; ++f) {
    while (pos < b.size() && (std::isspace(b.data()[pos]) || b.data()[pos] == '#')) {
      if (b.data()[pos] == '#') {
        while (pos < b.size() && b.data()[pos] != '\n' && b.data()[pos] != '\r') ++pos;
      } else {
        ++pos;
      }
    }
    int digits = 0;
    while (pos < b.size() && std::isdigit(b.data()[pos]) && digits < 10) {
      values[f] = values[f] * 10 + (b.data()[pos++] - '0');
      ++digits;
    }
    if (digits == 0) return kTruncated;
    // The byte that ends a number is consumed whatever it is, as OpenCV's reader does ("8#9" is
    // 8 then 9); after the last field it is the single whitespace byte before the raster.
    ++pos;
  }
  const std::int64_t width = values[0], height = values[1];
  std::int64_t row_bytes = 0;
  if (kind == '4') {
    row_bytes = (width + 7) / 8;
  } else {
    const std::int64_t sample = values[2] > 255 ? 2 : 1;
    row_bytes = width * sample * (kind == '6' ? 3 : 1);
  }
  if (row_bytes > 0 && height > (std::int64_t{1} << 62) / row_bytes) return kTruncated;
  if (static_cast<std::uint64_t>(pos) + static_cast<std::uint64_t>(row_bytes * height) > b.size()) {
    return kTruncated;
  }
  return std::nullopt;
}

// One integer array of a TIFF IFD entry (SHORT, LONG or LONG8 values), stored in the entry itself
// when it fits, else at the offset the entry holds.
struct TiffLayout {
  bool little;
  bool big;  // BigTIFF: 20-byte entries, 8-byte value fields
};

std::optional<std::vector<std::uint64_t>> tiff_array(const Bytes& b, const TiffLayout& t,
                                                     std::size_t entry) {
  const auto type = b.u16(entry + 2, t.little);
  const auto count = b.uint(entry + 4, t.big ? 8 : 4, t.little);
  if (!type || !count) return std::nullopt;
  const std::size_t width = *type == 3 ? 2 : *type == 4 ? 4 : *type == 16 ? 8 : 0;
  if (width == 0 || *count > b.size()) return std::nullopt;  // more values than bytes: bogus
  const std::size_t field = entry + (t.big ? 12 : 8);
  const std::size_t inline_bytes = t.big ? 8 : 4;
  std::size_t at = field;
  if (*count * width > inline_bytes) {
    const auto offset = b.uint(field, inline_bytes, t.little);
    if (!offset) return std::nullopt;
    at = *offset;
  }
  if (!b.has(at, *count * width)) return std::nullopt;
  std::vector<std::uint64_t> values(*count);
  for (std::size_t i = 0; i < values.size(); ++i) {
    values[i] = *b.uint(at + i * width, width, t.little);
  }
  return values;
}

// The strips (or tiles) of the first image must lie inside the file.
std::optional<std::string> tiff_damage(const Bytes& b) {
  TiffLayout t{b.data()[0] == 'I', false};
  t.big = *b.u16(2, t.little) == 43;
  const auto ifd = t.big ? b.u64(8, t.little) : b.uint(4, 4, t.little);
  if (!ifd) return kTruncated;
  const auto count = b.uint(*ifd, t.big ? 8 : 2, t.little);
  if (!count) return kTruncated;
  const std::size_t entry_size = t.big ? 20 : 12;
  const std::size_t first = *ifd + (t.big ? 8 : 2);
  if (*count > b.size() / entry_size || !b.has(first, *count * entry_size)) return kTruncated;
  std::optional<std::vector<std::uint64_t>> offsets, sizes;
  for (std::size_t i = 0; i < *count; ++i) {
    const std::size_t entry = first + i * entry_size;
    const auto tag = *b.u16(entry, t.little);
    if (tag == 273 || tag == 324) offsets = tiff_array(b, t, entry);  // StripOffsets, TileOffsets
    if (tag == 279 || tag == 325) sizes = tiff_array(b, t, entry);    // ...ByteCounts
  }
  if (!offsets || !sizes) return std::nullopt;  // unusual layout: left to the decoder
  if (offsets->size() != sizes->size()) return "strip offsets and byte counts disagree";
  for (std::size_t i = 0; i < offsets->size(); ++i) {
    if ((*offsets)[i] > b.size() || (*sizes)[i] > b.size() - (*offsets)[i]) return kTruncated;
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> find_damage(ImageFormat format, const std::uint8_t* bytes,
                                       std::size_t size) {
  const Bytes b(bytes, size);
  switch (format) {
    case ImageFormat::Jpeg: return jpeg_damage(b);
    case ImageFormat::Png: return png_damage(b);
    case ImageFormat::Bmp: return bmp_damage(b);
    case ImageFormat::Pnm: return pnm_damage(b);
    case ImageFormat::Tiff: return tiff_damage(b);
    default: return std::nullopt;
  }
}

}  // namespace vitscope::image_integrity
