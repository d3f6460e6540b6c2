#pragma once
// Walking a JPEG file's markers, shared by the header reader, the completeness check and the EXIF
// reader.
#include <cstddef>
#include <cstdint>

#include "io/image_bytes.hpp"

namespace vitscope::jpeg_markers {

// Markers that stand alone, without a length and a segment: SOI, TEM and RST0..RST7.
inline bool is_standalone(std::uint8_t marker) {
  return marker == 0xD8 || marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7);
}

// The position of the next marker code at or after `pos`: stray bytes before the 0xFF (which
// libjpeg tolerates, with a warning), 0xFF fill bytes and stuffed zeros (FF 00) are skipped. The
// size when the file ends first.
inline std::size_t next_marker_code(const image_bytes::Bytes& b, std::size_t pos) {
  for (;;) {
    while (pos < b.size() && b.data()[pos] != 0xFF) ++pos;
    while (pos < b.size() && b.data()[pos] == 0xFF) ++pos;
    // FF 00 is not a marker: libjpeg skips it as garbage and so must we, or a stray FF 00 is
    // read as a segment whose "length" jumps over the real frame header.
    if (pos >= b.size() || b.data()[pos] != 0x00) return pos;
    ++pos;
  }
}

}  // namespace vitscope::jpeg_markers
