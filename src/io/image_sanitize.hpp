#pragma once
// Rewrites an encoded image so its codec has nothing to print: libpng writes warnings about
// ancillary chunks (most often "iCCP: known incorrect sRGB profile") straight to stderr, and
// OpenCV gives no way to install a quieter handler.
#include <cstddef>
#include <cstdint>
#include <vector>

namespace vitscope::image_sanitize {

// The PNG with its critical chunks (IHDR, PLTE, IDAT, IEND) and eXIf, whose orientation OpenCV
// applies. The other ancillary chunks (colour profiles, gamma, text, transparency, animation
// control) do not change the RGB values OpenCV decodes once alpha is dropped. Expects a PNG whose
// chunk structure has been checked.
std::vector<std::uint8_t> strip_png_ancillary_chunks(const std::uint8_t* bytes, std::size_t size);

}  // namespace vitscope::image_sanitize
