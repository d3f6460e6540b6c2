#pragma once
// JPEG → 8-bit RGB through libjpeg-turbo's TurboJPEG API, straight into the image's buffer: the same
// libjpeg decode OpenCV and PIL run (accurate integer IDCT, fancy upsampling), without OpenCV's
// RGB → BGR → RGB round trip, and with libjpeg's warnings ("Corrupt JPEG data: ...") kept off
// stderr. The EXIF orientation is applied as OpenCV applies it.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "vitscope/image.hpp"

namespace vitscope::jpeg {

// The decoded, oriented image; nullopt for CMYK and YCCK files, which TurboJPEG cannot convert to
// RGB (OpenCV's decoder handles them). Throws ImageError "<name>: cannot decode JPEG data (...)".
std::optional<RgbImage> decode_rgb(const std::uint8_t* bytes, std::size_t size,
                                   const std::string& name);

}  // namespace vitscope::jpeg
