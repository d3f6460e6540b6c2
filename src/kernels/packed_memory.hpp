#pragma once
// Memory for packed weights: not zero-filled on allocation (the packers write every element,
// padding included, and zero-filling tens of MB first cost a pass over the memory at every model
// load), and, for the bf16 pairs, aligned to a cache line so that each packed B step is whole
// cache lines. Also the per-thread scratch of the bf16 products.
#include <sys/mman.h>

#include <cstddef>
#include <memory>
#include <new>
#include <utility>
#include <vector>

namespace vitscope::kernels::memory_detail {

// construct() for allocators whose vectors leave new elements uninitialised on resize().
struct DefaultInitConstruct {
  template <class U>
  void construct(U* p) noexcept {
    ::new (static_cast<void*>(p)) U;
  }
  template <class U, class... Args>
  void construct(U* p, Args&&... args) {
    ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
  }
};

// Blocks of at least kHugePage bytes are aligned to it and marked MADV_HUGEPAGE: a forward pass
// streams every weight once, and with 4 KiB pages a model larger than the L3 (ResNet-50: 100 MB
// and its Winograd copies) misses the TLB on every new page; transparent huge pages are often
// enabled for madvise'd memory only.
constexpr std::size_t kHugePage = std::size_t{2} << 20;

inline void* allocate_weights(std::size_t bytes, std::size_t alignment) {
  if (bytes < kHugePage) return ::operator new(bytes, std::align_val_t{alignment});
  const std::size_t rounded = (bytes + kHugePage - 1) / kHugePage * kHugePage;
  void* p = ::operator new(rounded, std::align_val_t{kHugePage});
#if defined(MADV_HUGEPAGE)
  ::madvise(p, rounded, MADV_HUGEPAGE);  // advice only: without huge pages nothing changes
#endif
  return p;
}

inline void deallocate_weights(void* p, std::size_t bytes, std::size_t alignment) {
  if (bytes < kHugePage) {
    ::operator delete(p, std::align_val_t{alignment});
  } else {
    ::operator delete(p, std::align_val_t{kHugePage});
  }
}

template <class T>
struct UninitialisedAllocator : DefaultInitConstruct {
  using value_type = T;
  UninitialisedAllocator() = default;
  template <class U>
  UninitialisedAllocator(const UninitialisedAllocator<U>&) {}
  T* allocate(std::size_t n) { return static_cast<T*>(allocate_weights(n * sizeof(T), alignof(std::max_align_t))); }
  void deallocate(T* p, std::size_t n) { deallocate_weights(p, n * sizeof(T), alignof(std::max_align_t)); }
  friend bool operator==(const UninitialisedAllocator&, const UninitialisedAllocator&) { return true; }
  friend bool operator!=(const UninitialisedAllocator&, const UninitialisedAllocator&) { return false; }
};

template <class T>
struct CacheLineAllocator : DefaultInitConstruct {
  using value_type = T;
  CacheLineAllocator() = default;
  template <class U>
  CacheLineAllocator(const CacheLineAllocator<U>&) {}
  T* allocate(std::size_t n) { return static_cast<T*>(allocate_weights(n * sizeof(T), 64)); }
  void deallocate(T* p, std::size_t n) { deallocate_weights(p, n * sizeof(T), 64); }
  friend bool operator==(const CacheLineAllocator&, const CacheLineAllocator&) { return true; }
  friend bool operator!=(const CacheLineAllocator&, const CacheLineAllocator&) { return false; }
};

using PackedFloats = std::vector<float, UninitialisedAllocator<float>>;
using PackedPairs = std::vector<std::uint32_t, CacheLineAllocator<std::uint32_t>>;

// `count` uninitialised elements of Vector, shared (the owner a packed matrix keeps), and their
// address for the packer to fill.
template <class Vector>
std::pair<std::shared_ptr<const void>, typename Vector::value_type*> allocate_packed(std::size_t count) {
  auto memory = std::make_shared<Vector>(count);
  auto* data = memory->data();
  return {std::move(memory), data};
}

}  // namespace vitscope::kernels::memory_detail
