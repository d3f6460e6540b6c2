#include "vitscope/io/image_buffer.hpp"

#include <array>

namespace vitscope::image_buffer {
namespace {

struct Kept {
  void* buffer = nullptr;
  std::size_t bytes = 0;  // the size it was allocated with
};

// Up to two buffers per thread: a decode and the turned copy an EXIF orientation makes.
struct ThreadCache {
  std::array<Kept, 2> kept;
  ~ThreadCache() {
    for (Kept& k : kept) ::operator delete(k.buffer);
  }
};

ThreadCache& cache() {
  thread_local ThreadCache c;
  return c;
}

}  // namespace

// A kept buffer hands out only requests of at least half its size, so that a small image does not
// hold on to a huge buffer's pages while the huge one is allocated again.
void* take(std::size_t bytes) {
  for (Kept& k : cache().kept) {
    if (k.buffer && k.bytes >= bytes && k.bytes / 2 <= bytes) {
      void* buffer = k.buffer;
      k = {};
      return buffer;
    }
  }
  return ::operator new(bytes);
}

// The buffer keeps its original allocation size as far as we know it: `bytes` is what the caller
// asked for, and a reused buffer may be larger. Recording the smaller request only makes it hand
// out less, never more than it holds.
void give_back(void* buffer, std::size_t bytes) {
  ThreadCache& c = cache();
  Kept* slot = nullptr;
  for (Kept& k : c.kept)
    if (!k.buffer) slot = &k;
  if (!slot) {  // both taken: replace the smaller
    slot = c.kept[0].bytes <= c.kept[1].bytes ? &c.kept[0] : &c.kept[1];
    if (slot->bytes > bytes) {
      ::operator delete(buffer);
      return;
    }
    ::operator delete(slot->buffer);
  }
  *slot = {buffer, bytes};
}

}  // namespace vitscope::image_buffer
