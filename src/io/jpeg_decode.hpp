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

// The decoded image of a file whose header (not CMYK) was read by read_header, at 1/scale of its
// size in each direction (scale 1, 2, 4 or 8: libjpeg's DCT scaling, ceil(W / scale) x
// ceil(H / scale) pixels), its EXIF orientation applied or not. Throws ImageError
// "<name>: cannot decode JPEG data (...)".
RgbImage decode_rgb(const std::uint8_t* bytes, std::size_t size, const std::string& name,
                    const Header& header, ExifMode exif, int scale = 1);

// Whether TurboJPEG decodes this image at exactly 1/scale when asked for ceil(W / scale) x
// ceil(H / scale): it picks the largest of its scaling factors that fits the request, which for
// images a few pixels wide can be another one than 1/scale.
bool scales_exactly(const Header& header, int scale);

}  // namespace vitscope::jpeg
