// Reading and decoding image files into 8-bit RGB: the checks before decoding (format, header size,
// pixel limit, completeness), then TurboJPEG for JPEG files (jpeg_decode.hpp) and OpenCV's decoder
// for the rest, whose output is converted to RGB.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <string>
#include <vector>

#include <opencv2/core.hpp>
#include <opencv2/core/utils/logger.hpp>
#include <opencv2/core/version.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "io/image_integrity.hpp"
#include "io/jpeg_decode.hpp"
#include "io/exif_orientation.hpp"
#include "io/image_sanitize.hpp"
#include "vitscope/core/error.hpp"
#include "vitscope/io/image.hpp"

namespace vitscope {
namespace {

// OpenCV gained a GIF decoder in 4.11.
constexpr bool kOpenCvDecodesGif =
    CV_VERSION_MAJOR > 4 || (CV_VERSION_MAJOR == 4 && CV_VERSION_MINOR >= 11);

[[noreturn]] void fail(const std::string& name, const std::string& problem) {
  throw ImageError(name + ": " + problem);
}

// OpenCV logs decoder trouble on stderr; our ImageError is the only report we want.
void silence_opencv_logging() {
  static std::once_flag once;
  std::call_once(once, [] {
    cv::utils::logging::setLogLevel(cv::utils::logging::LOG_LEVEL_SILENT);
  });
}

// VP8X with the animation flag: OpenCV decodes still WebP images only.
bool is_animated_webp(const std::uint8_t* bytes, std::size_t size) {
  return size > 20 && std::memcmp(bytes + 12, "VP8X", 4) == 0 && (bytes[20] & 0x02) != 0;
}

// OpenCV picks a decoder by trying each one's signature check in turn. When the decoder of the
// format we recognised declines a damaged file (libwebp must parse a WebP file's first 32 bytes),
// the search goes on to decoders that look deeper into the file: DICOM ("DICM" at byte 128; GDCM
// aborts the process on some corrupt input) and GDAL's DTED ("DTED" at byte 140). No image we
// accept is meant for them.
bool has_dicom_or_dted_signature(const std::uint8_t* bytes, std::size_t size) {
  return (size >= 132 && std::memcmp(bytes + 128, "DICM", 4) == 0) ||
         (size >= 144 && std::memcmp(bytes + 140, "DTED", 4) == 0);
}

std::string format_megapixels(double pixels) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f", pixels / 1e6);
  return text;
}

std::string format_limit(std::int64_t max_pixels) {
  char text[32];
  std::snprintf(text, sizeof text, "%.6g", static_cast<double>(max_pixels) / 1e6);
  return text;
}

void check_pixel_limit(const std::string& name, std::int64_t width, std::int64_t height,
                       std::int64_t max_pixels) {
  const double pixels = static_cast<double>(width) * static_cast<double>(height);
  if (pixels > static_cast<double>(max_pixels)) {
    fail(name, "image is " + std::to_string(width) + "x" + std::to_string(height) + " (" +
                   format_megapixels(pixels) + " megapixels), over the " +
                   format_limit(max_pixels) + " megapixel limit");
  }
}

// A single line from an OpenCV exception (its what() spans several lines).
std::string one_line(const cv::Exception& e) {
  std::string message = e.err.empty() ? std::string(e.what()) : e.err;
  for (char& c : message) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return message;
}

// Samples of any depth OpenCV returns for the supported formats → 8 bits.
cv::Mat to_8bit(const cv::Mat& decoded, const std::string& name) {
  if (decoded.depth() == CV_8U) return decoded;
  if (decoded.depth() == CV_16U) {
    // round(v / 257) maps 0..65535 onto 0..255 exactly; (v + 128) / 257 is that rounding in integers.
    cv::Mat out(decoded.rows, decoded.cols, CV_MAKETYPE(CV_8U, decoded.channels()));
    const int values_per_row = decoded.cols * decoded.channels();
    for (int y = 0; y < decoded.rows; ++y) {
      const auto* in = decoded.ptr<std::uint16_t>(y);
      auto* o = out.ptr<std::uint8_t>(y);
      for (int i = 0; i < values_per_row; ++i) o[i] = static_cast<std::uint8_t>((in[i] + 128u) / 257u);
    }
    return out;
  }
  fail(name, "unsupported sample type (only 8- and 16-bit unsigned integer images are supported)");
}

// OpenCV's B,G,R[,A] or gray layout → our [H, W, 3] R,G,B tensor, converted by OpenCV straight into
// the tensor's buffer. Alpha is dropped, as PIL's convert("RGB") does.
RgbImage to_rgb(const cv::Mat& image, const std::string& name) {
  int code = 0;
  switch (image.channels()) {
    case 1: code = cv::COLOR_GRAY2RGB; break;
    case 3: code = cv::COLOR_BGR2RGB; break;
    case 4: code = cv::COLOR_BGRA2RGB; break;
    default: fail(name, "unsupported number of channels (" + std::to_string(image.channels()) + ")");
  }
  RgbImage rgb = RgbImage::from_shape({static_cast<std::size_t>(image.rows),
                                       static_cast<std::size_t>(image.cols), 3});
  cv::Mat view(image.rows, image.cols, CV_8UC3, rgb.data());
  cv::cvtColor(image, view, code);
  if (view.data != rgb.data()) fail(name, "internal error: colour conversion reallocated");
  return rgb;
}

[[noreturn]] void fail_not_an_image(const std::string& name) {
  fail(name, "not an image (unrecognised content)");
}

}  // namespace

RgbImage decode_image(const std::uint8_t* bytes, std::size_t size, const std::string& name,
                      const ImageLoadOptions& options) {
  if (size == 0) fail(name, "empty file (0 bytes)");
  const ImageFormat format = sniff_image_format(bytes, size);
  if (format == ImageFormat::Unknown) fail_not_an_image(name);
  const std::string format_name = image_format_name(format);

  const auto header = read_image_header(bytes, size);
  if (!header) fail(name, "cannot read the " + format_name + " header (truncated or corrupt)");
  check_pixel_limit(name, header->width, header->height, options.max_pixels);

  if (format == ImageFormat::Gif && !kOpenCvDecodesGif) {
    fail(name, "GIF images are not supported (OpenCV " CV_VERSION " has no GIF decoder)");
  }
  if (format == ImageFormat::Webp && is_animated_webp(bytes, size)) {
    fail(name, "animated WebP images are not supported");
  }
  if (const auto damage = image_integrity::find_damage(format, bytes, size)) {
    fail(name, "cannot decode " + format_name + " data (" + *damage + ")");
  }
  if (size > static_cast<std::size_t>(INT_MAX)) fail(name, "file is larger than 2 GiB");

  if (format == ImageFormat::Jpeg) {
    // The size libjpeg will decode, checked too in case it differs from the header read above.
    const jpeg::Header jpeg_header = jpeg::read_header(bytes, size, name);
    check_pixel_limit(name, jpeg_header.width, jpeg_header.height, options.max_pixels);
    if (!jpeg_header.cmyk) {
      int scale = 1;
      if (options.decode == DecodeMode::Draft && options.draft_request) {
        const auto [want_width, want_height] = options.draft_request(jpeg_header.width, jpeg_header.height);
        scale = draft_scale(jpeg_header.width, jpeg_header.height, want_width, want_height);
        if (!jpeg::scales_exactly(jpeg_header, scale)) scale = 1;  // images a few pixels wide
      }
      return jpeg::decode_rgb(bytes, size, name, jpeg_header, options.exif, scale);
    }
    // CMYK and YCCK: OpenCV's decoder below.
  }

  std::vector<std::uint8_t> rewritten;
  if (format == ImageFormat::Png) {
    rewritten = image_sanitize::strip_png_ancillary_chunks(bytes, size);
    bytes = rewritten.data();
    size = rewritten.size();
  }

  if (has_dicom_or_dted_signature(bytes, size)) {
    fail(name, "cannot decode " + format_name + " data (it also carries a DICOM or DTED signature)");
  }

  silence_opencv_logging();
  cv::Mat decoded;
  try {
    // ANYDEPTH keeps 16-bit samples for our own rounding; ANYCOLOR keeps gray as one channel.
    // Any flag other than IMREAD_UNCHANGED makes OpenCV apply the EXIF orientation.
    const cv::Mat encoded(1, static_cast<int>(size), CV_8UC1, const_cast<std::uint8_t*>(bytes));
    int flags = cv::IMREAD_ANYDEPTH | cv::IMREAD_ANYCOLOR;
    if (options.exif == ExifMode::Ignore) flags |= cv::IMREAD_IGNORE_ORIENTATION;
    decoded = cv::imdecode(encoded, flags);
  } catch (const cv::Exception& e) {
    fail(name, "cannot decode " + format_name + " data (" + one_line(e) + ")");
  } catch (const std::exception& e) {
    fail(name, "cannot decode " + format_name + " data (" + e.what() + ")");
  }
  if (decoded.empty()) fail(name, "cannot decode " + format_name + " data (truncated or corrupt)");
  check_pixel_limit(name, decoded.cols, decoded.rows, options.max_pixels);
  RgbImage image = to_rgb(to_8bit(decoded, name), name);
  // OpenCV 4.6's TIFF decoder orients the image whatever the flags (libtiff's oriented RGBA read):
  // asked to ignore the orientation, undo it (6 and 8 undo each other; the others undo themselves).
  if (options.exif == ExifMode::Ignore && format == ImageFormat::Tiff) {
    const int orientation = exif::tiff_file_orientation(bytes, size);
    image = exif::apply_orientation(std::move(image), orientation == 6 ? 8 : orientation == 8 ? 6 : orientation);
  }
  return image;
}

ExifMode parse_exif_mode(const std::string& name) {
  if (name == "apply") return ExifMode::Apply;
  if (name == "ignore") return ExifMode::Ignore;
  throw ConfigError("--exif " + name + ": expected apply or ignore");
}

const char* exif_mode_name(ExifMode mode) { return mode == ExifMode::Apply ? "apply" : "ignore"; }

DecodeMode parse_decode_mode(const std::string& name) {
  if (name == "exact") return DecodeMode::Exact;
  if (name == "draft") return DecodeMode::Draft;
  throw ConfigError("--decode " + name + ": expected exact or draft");
}

const char* decode_mode_name(DecodeMode mode) { return mode == DecodeMode::Exact ? "exact" : "draft"; }

int draft_scale(int width, int height, int requested_width, int requested_height) {
  if (requested_width <= 0 || requested_height <= 0) return 1;
  const int scale = std::min(width / requested_width, height / requested_height);
  for (const int s : {8, 4, 2})
    if (scale >= s) return s;
  return 1;
}

int exif_orientation(const std::uint8_t* bytes, std::size_t size) {
  switch (sniff_image_format(bytes, size)) {
    case ImageFormat::Jpeg:
      return exif::jpeg_orientation(bytes, size);
    case ImageFormat::Png:
      return exif::png_orientation(bytes, size);
    case ImageFormat::Tiff:
      return exif::tiff_file_orientation(bytes, size);
    default:
      return 1;
  }
}

RgbImage load_image(const std::string& path, const ImageLoadOptions& options) {
  const std::vector<std::uint8_t> bytes = read_image_file(path);
  return decode_image(bytes.data(), bytes.size(), path, options);
}

}  // namespace vitscope
