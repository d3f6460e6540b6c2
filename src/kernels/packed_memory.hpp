#pragma once
// Memory for packed weights: not zero-filled on allocation (the packers write every element,
// padding included, and zero-filling tens of MB first cost a pass over the memory at every model
// load), and, for the bf16 pairs, aligned to a cache line so that each packed B step is whole
// cache lines. Also the per-thread scratch of the bf16 products.
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

template <class T>
struct UninitialisedAllocator : std::allocator<T>, DefaultInitConstruct {
  template <class U>
  struct rebind {
    using other = UninitialisedAllocator<U>;
  };
  UninitialisedAllocator() = default;
  template <class U>
  UninitialisedAllocator(const UninitialisedAllocator<U>&) {}
  using DefaultInitConstruct::construct;
};

template <class T>
struct CacheLineAllocator : DefaultInitConstruct {
  using value_type = T;
  CacheLineAllocator() = default;
  template <class U>
  CacheLineAllocator(const CacheLineAllocator<U>&) {}
  T* allocate(std::size_t n) {
    return static_cast<T*>(::operator new(n * sizeof(T), std::align_val_t{64}));
  }
  void deallocate(T* p, std::size_t) { ::operator delete(p, std::align_val_t{64}); }
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
