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

namespace {

int scaled(int extent, int scale) { return (extent + scale - 1) / scale; }  // libjpeg's jdiv_round_up

}  // namespace

bool scales_exactly(const Header& header, int scale) {
  if (scale == 1) return true;
  int count = 0;
  const tjscalingfactor* factors = tjGetScalingFactors(&count);
  if (!factors) return false;
  const int want_w = scaled(header.width, scale), want_h = scaled(header.height, scale);
  for (int i = 0; i < count; ++i) {  // TurboJPEG's own choice: the first factor that fits
    const tjscalingfactor f = factors[i];
    if (TJSCALED(header.width, f) <= want_w && TJSCALED(header.height, f) <= want_h)
      return f.num * scale == f.denom;
  }
  return false;
}

RgbImage decode_rgb(const std::uint8_t* bytes, std::size_t size, const std::string& name,
                    const Header& header, ExifMode exif, int scale) {
  const int width = scaled(header.width, scale), height = scaled(header.height, scale);
  RgbImage image = RgbImage::from_shape({static_cast<std::size_t>(height), static_cast<std::size_t>(width), 3});
  // Flags 0: accurate integer IDCT and fancy upsampling, libjpeg's defaults, as OpenCV and PIL
  // decode (Pillow's draft keeps them too). A width and height below the stored ones make
  // TurboJPEG set libjpeg's scale_num / scale_denom (scales_exactly checks the factor). The
  // completeness checks before decoding have refused truncated files.
  check(tjDecompress2(decompressor(name), bytes, static_cast<unsigned long>(size), image.data(), width, 0,
                      height, TJPF_RGB, 0),
        name);
  return exif == ExifMode::Apply ? exif::apply_orientation(std::move(image), exif::jpeg_orientation(bytes, size))
                                 : image;
}

}  // namespace vitscope::jpeg
