#pragma once
// Bounds-checked reads of fixed-width integers from an in-memory file, shared by the image header
// parsers and the completeness checks. Every read returns nullopt instead of reading past the end.
#include <cstddef>
#include <cstdint>
#include <optional>

namespace vitscope::image_bytes {

class Bytes {
 public:
  Bytes(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}

  std::size_t size() const { return size_; }
  const std::uint8_t* data() const { return data_; }
  bool has(std::size_t offset, std::size_t count) const {
    return offset <= size_ && count <= size_ - offset;
  }

  std::optional<std::uint8_t> u8(std::size_t at) const {
    if (!has(at, 1)) return std::nullopt;
    return data_[at];
  }
  std::optional<std::uint16_t> u16be(std::size_t at) const {
    if (!has(at, 2)) return std::nullopt;
    return static_cast<std::uint16_t>(data_[at] << 8 | data_[at + 1]);
  }
  std::optional<std::uint16_t> u16le(std::size_t at) const {
    if (!has(at, 2)) return std::nullopt;
    return static_cast<std::uint16_t>(data_[at + 1] << 8 | data_[at]);
  }
  std::optional<std::uint32_t> u24le(std::size_t at) const {
    if (!has(at, 3)) return std::nullopt;
    return std::uint32_t{data_[at + 2]} << 16 | std::uint32_t{data_[at + 1]} << 8 | data_[at];
  }
  std::optional<std::uint32_t> u32be(std::size_t at) const {
    if (!has(at, 4)) return std::nullopt;
    return std::uint32_t{data_[at]} << 24 | std::uint32_t{data_[at + 1]} << 16 |
           std::uint32_t{data_[at + 2]} << 8 | std::uint32_t{data_[at + 3]};
  }
  std::optional<std::uint32_t> u32le(std::size_t at) const {
    if (!has(at, 4)) return std::nullopt;
    return std::uint32_t{data_[at + 3]} << 24 | std::uint32_t{data_[at + 2]} << 16 |
           std::uint32_t{data_[at + 1]} << 8 | std::uint32_t{data_[at]};
  }
  std::optional<std::uint64_t> u64le(std::size_t at) const {
    const auto low = u32le(at), high = u32le(at + 4);
    if (!low || !high) return std::nullopt;
    return std::uint64_t{*high} << 32 | *low;
  }
  std::optional<std::uint64_t> u64be(std::size_t at) const {
    const auto high = u32be(at), low = u32be(at + 4);
    if (!low || !high) return std::nullopt;
    return std::uint64_t{*high} << 32 | *low;
  }

  // Reads in the byte order of a TIFF file (II = little-endian, MM = big-endian).
  std::optional<std::uint16_t> u16(std::size_t at, bool little_endian) const {
    return little_endian ? u16le(at) : u16be(at);
  }
  std::optional<std::uint32_t> u32(std::size_t at, bool little_endian) const {
    return little_endian ? u32le(at) : u32be(at);
  }
  std::optional<std::uint64_t> u64(std::size_t at, bool little_endian) const {
    return little_endian ? u64le(at) : u64be(at);
  }

  // An unsigned integer of 2, 4 or 8 bytes (TIFF fields whose width depends on type or variant).
  std::optional<std::uint64_t> uint(std::size_t at, std::size_t width, bool little_endian) const {
    switch (width) {
      case 2: if (const auto v = u16(at, little_endian)) return *v; break;
      case 4: if (const auto v = u32(at, little_endian)) return *v; break;
      case 8: return u64(at, little_endian);
      default: break;
    }
    return std::nullopt;
  }

  bool starts_with(std::size_t at, const char* text, std::size_t length) const {
    if (!has(at, length)) return false;
    for (std::size_t i = 0; i < length; ++i) {
      if (data_[at + i] != static_cast<std::uint8_t>(text[i])) return false;
    }
    return true;
  }

 private:
  const std::uint8_t* data_;
  std::size_t size_;
};

}  // namespace vitscope::image_bytes
