#pragma once
// The allocator of decoded images. A 12-megapixel photo decodes into 36 MB, more than glibc's
// largest mmap threshold (32 MB): each such buffer was mapped fresh and unmapped on free, and the
// kernel faulted in and zeroed its 9,000 pages on every image, which made decoding a folder of phone
// photos take 1.6 times libjpeg's own time. Large buffers freed on a thread are kept (two per
// thread) and handed out again for the next image of at most their size and at least half of it,
// so a decode thread reuses the same pages image after image. Small buffers go to operator new.
#include <cstddef>
#include <new>

namespace vitscope {

namespace image_buffer {
constexpr std::size_t kLargeBytes = std::size_t{1} << 20;  // below this, plain operator new
void* take(std::size_t bytes);                   // a kept buffer that fits, or a new one
void give_back(void* buffer, std::size_t bytes); // kept for reuse, or freed
}  // namespace image_buffer

template <class T>
struct ImageBufferAllocator {
  using value_type = T;
  ImageBufferAllocator() noexcept = default;
  template <class U>
  ImageBufferAllocator(const ImageBufferAllocator<U>&) noexcept {}

  T* allocate(std::size_t n) {
    const std::size_t bytes = n * sizeof(T);
    if (bytes < image_buffer::kLargeBytes) return static_cast<T*>(::operator new(bytes));
    return static_cast<T*>(image_buffer::take(bytes));
  }
  void deallocate(T* p, std::size_t n) noexcept {
    const std::size_t bytes = n * sizeof(T);
    if (bytes < image_buffer::kLargeBytes) {
      ::operator delete(p);
      return;
    }
    image_buffer::give_back(p, bytes);
  }
  template <class U>
  bool operator==(const ImageBufferAllocator<U>&) const noexcept { return true; }
  template <class U>
  bool operator!=(const ImageBufferAllocator<U>&) const noexcept { return false; }
};

}  // namespace vitscope
