#pragma once
// Image files → 8-bit RGB. Formats are recognised by their content (magic bytes), and the pixel
// count is read from the header and checked before any decoding.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <xtensor/xtensor.hpp>

#include "vitscope/io/image_buffer.hpp"

namespace vitscope {

// [height, width, 3], RGB order; large buffers recycled per thread (image_buffer.hpp).
using RgbImage = xt::xtensor<std::uint8_t, 3, xt::layout_type::row_major, ImageBufferAllocator<std::uint8_t>>;

enum class ImageFormat { Unknown, Jpeg, Png, Bmp, Webp, Tiff, Gif, Pnm };
const char* image_format_name(ImageFormat format);

// Recognises a format from the first bytes of a file (12 are enough).
ImageFormat sniff_image_format(const std::uint8_t* bytes, std::size_t size);

struct ImageHeader {
  ImageFormat format = ImageFormat::Unknown;
  std::int64_t width = 0;
  std::int64_t height = 0;
};
// Width and height from the header alone; nullopt when the header is missing or malformed.
std::optional<ImageHeader> read_image_header(const std::uint8_t* bytes, std::size_t size);

// What to do with an EXIF Orientation tag: turn the image as it is meant to be seen (right for
// phone photos), or keep the stored pixels, as PIL.Image.open and so the timm / torchvision
// evaluation pipelines do.
enum class ExifMode { Apply, Ignore };
ExifMode parse_exif_mode(const std::string& name);  // "apply" | "ignore"; ConfigError
const char* exif_mode_name(ExifMode mode);

// How to decode a JPEG: every pixel (exact, what PyTorch pipelines see), or at the smallest DCT
// scale (1/2, 1/4, 1/8) whose result is still at least the size the resize step needs, chosen as
// Pillow's Image.draft('RGB', size) chooses it: scale = min(W // w, H // h) for a stored W x H and
// a requested w x h, rounded down to 8, 4, 2 or 1. libjpeg then skips most of the inverse DCT
// and of the colour conversion and upsampling; the entropy decoding of the whole file remains.
// Formats other than JPEG, and CMYK JPEGs, are decoded exactly either way.
enum class DecodeMode { Exact, Draft };
DecodeMode parse_decode_mode(const std::string& name);  // "exact" | "draft"; ConfigError
const char* decode_mode_name(DecodeMode mode);

// Given an image's stored width and height (before any EXIF turn, as Pillow's draft sees it), the
// width and height the caller will resize it to (preprocess.hpp: draft_request_for).
using DraftRequest = std::function<std::pair<int, int>(int width, int height)>;

// The DCT scale denominator (1, 2, 4 or 8) Pillow's draft picks for a stored width x height image
// and a requested size.
int draft_scale(int width, int height, int requested_width, int requested_height);

struct ImageLoadOptions {
  std::int64_t max_pixels = 100'000'000;  // images larger than this are refused before decoding
  ExifMode exif = ExifMode::Apply;
  DecodeMode decode = DecodeMode::Exact;
  DraftRequest draft_request;  // needed by DecodeMode::Draft (without it, JPEGs decode exactly)
};

// The EXIF Orientation tag (1..8) of a JPEG, PNG (eXIf chunk) or TIFF file's bytes; 1 when there
// is none or it cannot be read. Anything but 1 means the stored pixels are turned or mirrored.
int exif_orientation(const std::uint8_t* bytes, std::size_t size);

// Decodes an image, JPEG through libjpeg-turbo's TurboJPEG API (CMYK JPEG and every other format
// through OpenCV; the pixels are the same, and nothing is printed on stderr):
// EXIF orientation applied (JPEG, PNG and TIFF; OpenCV ignores it in WebP) unless options.exif is
// Ignore;
// grayscale, alpha (dropped, as PIL's convert("RGB")), palette and 16-bit images converted to
// 8-bit RGB, 16-bit samples as round(v / 257). Before decoding, the size in the header is checked
// against max_pixels and the file's structure is checked for truncation, so a damaged file fails
// with its own message instead of decoding to grey. GIF (no decoder in OpenCV 4.6) and animated
// WebP are refused. Throws ImageError "<path>: <problem>", one line, e.g.
//   "<path>: empty file (0 bytes)", "<path>: not an image (unrecognised content)",
//   "<path>: cannot decode JPEG data (file is truncated)",
//   "<path>: image is 20000x20000 (400.0 megapixels), over the 100 megapixel limit".
RgbImage load_image(const std::string& path, const ImageLoadOptions& options = {});
RgbImage decode_image(const std::uint8_t* bytes, std::size_t size, const std::string& name,
                      const ImageLoadOptions& options = {});

// The bytes of an image file, the one reader every command uses: opened without blocking (a FIFO
// named like an image must not hang a run) and refused unless it is a regular file; a file whose
// first bytes are not an image is refused without reading the rest (a video named .jpg); read to
// its end even when it grew since it was opened. ImageError "<path>: <problem>".
std::vector<std::uint8_t> read_image_file(const std::string& path);

// True when the file name ends in an extension used for images (.jpg, .png, ...), any case.
bool has_image_extension(const std::string& path);

}  // namespace vitscope
