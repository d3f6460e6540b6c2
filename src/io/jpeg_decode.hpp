#pragma once
// JPEG → 8-bit RGB through libjpeg-turbo's TurboJPEG API, straight into the image's buffer: the same
// libjpeg decode OpenCV and PIL run (accurate integer IDCT, fancy upsampling), without OpenCV's
// RGB → BGR → RGB round trip, and with libjpeg's warnings ("Corrupt JPEG data: ...") kept off
// stderr. The EXIF orientation is applied as OpenCV applies it.
#include <cstddef>
#include <cstdint>
#include <string>

#include "vitscope/io/image.hpp"

namespace vitscope::jpeg {

struct Header {
  int width = 0;   // as stored, before the EXIF orientation
  int height = 0;
  bool cmyk = false;  // CMYK or YCCK: TurboJPEG cannot convert these to RGB (OpenCV's decoder can)
};

// The frame's size and colour space as libjpeg reads them. Throws ImageError
// "<name>: cannot decode JPEG data (...)".
Header read_header(const std::uint8_t* bytes, std::size_t size, const std::string& name);

// The decoded image of a file whose header (not CMYK) was read by read_header, its EXIF
// orientation applied or not. Throws ImageError "<name>: cannot decode JPEG data (...)".
RgbImage decode_rgb(const std::uint8_t* bytes, std::size_t size, const std::string& name,
                    const Header& header, ExifMode exif);

}  // namespace vitscope::jpeg
