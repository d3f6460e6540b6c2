// Reading an image file's bytes: the FIFO-, directory- and growth-safe reader of every command.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <string>
#include <vector>

#include "vitscope/core/error.hpp"
#include "vitscope/io/image.hpp"

namespace vitscope {
namespace {

[[noreturn]] void fail(const std::string& path, const std::string& problem) {
  throw ImageError(path + ": " + problem);
}

// Reads up to `count` bytes; fewer only at the end of the file.
std::size_t read_up_to(int fd, std::uint8_t* out, std::size_t count, const std::string& path) {
  std::size_t done = 0;
  while (done < count) {
    const ssize_t got = ::read(fd, out + done, count - done);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) fail(path, std::string("cannot read: ") + std::strerror(errno));
    if (got == 0) break;
    done += static_cast<std::size_t>(got);
  }
  return done;
}

}  // namespace

std::vector<std::uint8_t> read_image_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    const int open_error = errno;
    struct stat info {};
    if (::stat(path.c_str(), &info) == 0 && S_ISDIR(info.st_mode))
      fail(path, std::string("cannot read folder: ") + std::strerror(open_error));
    fail(path, std::string("cannot open: ") + std::strerror(open_error));
  }
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat info {};
  if (::fstat(fd, &info) != 0) fail(path, std::string("cannot stat: ") + std::strerror(errno));
  if (S_ISDIR(info.st_mode)) fail(path, "is a directory");
  if (!S_ISREG(info.st_mode)) fail(path, "not a regular file");
  if (info.st_size > INT_MAX) fail(path, "file is larger than 2 GiB");  // as decode_image says
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);

  // One byte more than the size: a read that fills it says the file grew.
  std::vector<std::uint8_t> bytes(static_cast<std::size_t>(info.st_size) + 1);
  std::size_t size = read_up_to(fd, bytes.data(), std::min<std::size_t>(bytes.size(), 16), path);
  if (size > 0 && sniff_image_format(bytes.data(), size) == ImageFormat::Unknown)
    fail(path, "not an image (unrecognised content)");
  for (;;) {
    size += read_up_to(fd, bytes.data() + size, bytes.size() - size, path);
    if (size < bytes.size()) break;
    bytes.resize(bytes.size() * 2);  // it grew
  }
  bytes.resize(size);
  return bytes;
}

}  // namespace vitscope
