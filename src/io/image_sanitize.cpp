// See image_sanitize.hpp.
#include "io/image_sanitize.hpp"

#include "io/image_bytes.hpp"

namespace vitscope::image_sanitize {

std::vector<std::uint8_t> strip_png_ancillary_chunks(const std::uint8_t* bytes, std::size_t size) {
  const image_bytes::Bytes b(bytes, size);
  std::vector<std::uint8_t> out(bytes, bytes + 8);  // signature
  out.reserve(size);
  std::size_t pos = 8;
  while (const auto length = b.u32be(pos)) {
    const std::size_t chunk = std::size_t{*length} + 12;  // length, type, data, CRC
    if (!b.has(pos, chunk)) break;
    // Bit 5 of the first type letter (lower case) marks an ancillary chunk.
    const bool ancillary = (bytes[pos + 4] & 0x20) != 0;
    if (!ancillary || b.starts_with(pos + 4, "eXIf", 4)) out.insert(out.end(), bytes + pos, bytes + pos + chunk);
    if (b.starts_with(pos + 4, "IEND", 4)) break;
    pos += chunk;
  }
  return out;
}

}  // namespace vitscope::image_sanitize
