// JPEG decoding with TurboJPEG (see jpeg_decode.hpp).
#include "io/jpeg_decode.hpp"

#include <turbojpeg.h>

#include <climits>
#include <memory>

#include "io/exif_orientation.hpp"
#include "vitscope/core/error.hpp"

namespace vitscope::jpeg {
namespace {

struct HandleCloser {
  void operator()(void* handle) const { tjDestroy(handle); }
};
using Handle = std::unique_ptr<void, HandleCloser>;

// One decompressor per thread, created on first use: its setup allocates libjpeg's memory pools,
// which decoding thousands of files should not repeat.
Handle& thread_handle() {
  thread_local Handle handle;
  return handle;
}

tjhandle decompressor(const std::string& name) {
  Handle& handle = thread_handle();
  if (!handle) handle.reset(tjInitDecompress());
  if (!handle) throw ImageError(name + ": cannot decode JPEG data (cannot create a decompressor)");
  return handle.get();
}

// After a TurboJPEG call returned `status`: nothing when it succeeded; when libjpeg only warned
// (stray bytes in the entropy-coded data, say: the image is still complete, as OpenCV and PIL
// would return it) the call counts as done; an error throws. Either way a decompressor that
// reported a problem is dropped, since libjpeg may leave state behind (tables of the damaged file)
// that would make the next, sound file fail.
void check(int status, const std::string& name) {
  if (status == 0) return;
  Handle& handle = thread_handle();
  const bool warning = tjGetErrorCode(handle.get()) == TJERR_WARNING;
  const std::string problem = tjGetErrorStr2(handle.get());
  handle.reset();
  if (!warning) throw ImageError(name + ": cannot decode JPEG data (" + problem + ")");
}

}  // namespace

Header read_header(const std::uint8_t* bytes, std::size_t size, const std::string& name) {
  if (size > static_cast<std::size_t>(ULONG_MAX)) throw ImageError(name + ": file is too large");
  int width = 0, height = 0, subsampling = 0, colorspace = 0;
  check(tjDecompressHeader3(decompressor(name), bytes, static_cast<unsigned long>(size), &width,
                            &height, &subsampling, &colorspace),
        name);
  return {width, height, colorspace == TJCS_CMYK || colorspace == TJCS_YCCK};
}

RgbImage decode_rgb(const std::uint8_t* bytes, std::size_t size, const std::string& name,
                    const Header& header, ExifMode exif) {
  RgbImage image = RgbImage::from_shape(
      {static_cast<std::size_t>(header.height), static_cast<std::size_t>(header.width), 3});
  // Flags 0: accurate integer IDCT and fancy upsampling, libjpeg's defaults, as OpenCV and PIL
  // decode. The completeness checks before decoding have refused truncated files.
  check(tjDecompress2(decompressor(name), bytes, static_cast<unsigned long>(size), image.data(),
                      header.width, 0, header.height, TJPF_RGB, 0),
        name);
  return exif == ExifMode::Apply ? exif::apply_orientation(std::move(image), exif::jpeg_orientation(bytes, size))
                                 : image;
}

}  // namespace vitscope::jpeg
