#pragma once
// Structural checks run before decoding. The codecs behind OpenCV do not always fail on damaged
// files: libjpeg fills a truncated JPEG with grey and only prints a warning, libpng prints its own
// messages. Walking the file's structure first lets such files fail cleanly with our own message.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "vitscope/io/image.hpp"

namespace vitscope::image_integrity {

// A short description of the damage ("file is truncated", "CRC mismatch in IDAT chunk"), or
// nullopt when the structure of the file is complete. Formats without a check return nullopt.
std::optional<std::string> find_damage(ImageFormat format, const std::uint8_t* bytes,
                                       std::size_t size);

}  // namespace vitscope::image_integrity
