#pragma once
// The EXIF orientation of a JPEG file, and the flips and transposes that undo it.
#include <cstddef>
#include <cstdint>

#include "vitscope/io/image.hpp"

namespace vitscope::exif {

// The Orientation tag (1..8) of IFD0 in the first APP1 "Exif" segment before the first scan;
// 1 (as stored) when there is none, or the tag is missing, malformed or out of range.
int jpeg_orientation(const std::uint8_t* bytes, std::size_t size);

// The same from a PNG's eXIf chunk (before the image data), and from a TIFF file's IFD0.
int png_orientation(const std::uint8_t* bytes, std::size_t size);
int tiff_file_orientation(const std::uint8_t* bytes, std::size_t size);

// The image as it is meant to be seen (OpenCV's ApplyExifOrientation, PIL's exif_transpose):
// 2 mirror, 3 rotate 180°, 4 flip, 5 transpose, 6 rotate 90° clockwise, 7 transverse,
// 8 rotate 90° counter-clockwise.
RgbImage apply_orientation(RgbImage image, int orientation);

}  // namespace vitscope::exif
