// A read-only memory mapping of a whole regular file.
#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>
#include <utility>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/safetensors_detail.hpp"
#include "vitscope/core/error.hpp"

namespace vitscope::detail {

namespace {

[[noreturn]] void fail_errno(const std::string& path, const char* action, int error) {
  throw WeightsError(path + ": cannot " + action + ": " + std::strerror(error));
}

// Closes the descriptor on every path out of MappedFile::map; the mapping outlives it.
struct FileDescriptor {
  int fd;
  ~FileDescriptor() {
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace

MappedFile MappedFile::map(const std::string& path) {
  // O_NONBLOCK keeps a FIFO from blocking the open; it is refused just below as not regular.
  const FileDescriptor file{::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK)};
  if (file.fd < 0) fail_errno(path, "open", errno);
  struct stat st {};
  if (::fstat(file.fd, &st) != 0) fail_errno(path, "open", errno);
  if (S_ISDIR(st.st_mode)) fail_errno(path, "open", EISDIR);
  if (!S_ISREG(st.st_mode)) throw WeightsError(path + ": cannot open: not a regular file");

  const auto size = static_cast<std::size_t>(st.st_size);
  if (size == 0) return MappedFile(nullptr, 0);  // mmap refuses a zero length
  void* data = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, file.fd, 0);
  if (data == MAP_FAILED) fail_errno(path, "map", errno);
  return MappedFile(static_cast<const std::uint8_t*>(data), size);
}

MappedFile::MappedFile(MappedFile&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}

MappedFile& MappedFile::operator=(MappedFile&& other) noexcept {
  if (this != &other) {
    release();
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

MappedFile::~MappedFile() { release(); }

void MappedFile::release() noexcept {
  if (data_ != nullptr) ::munmap(const_cast<std::uint8_t*>(data_), size_);
  data_ = nullptr;
  size_ = 0;
}

void MappedFile::drop_pages(std::size_t begin, std::size_t end) const noexcept {
  const std::size_t page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  const std::uintptr_t base = reinterpret_cast<std::uintptr_t>(data_);
  const std::uintptr_t first = (base + begin + page - 1) / page * page;  // whole pages only
  const std::uintptr_t last = (base + std::min(end, size_)) / page * page;
  if (data_ != nullptr && last > first)
    ::madvise(reinterpret_cast<void*>(first), last - first, MADV_DONTNEED);
}

}  // namespace vitscope::detail
