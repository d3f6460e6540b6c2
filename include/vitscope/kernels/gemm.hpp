#pragma once
// Matrix products. The fast versions (xsimd micro-kernel, packed panels, cache blocking, threads)
// are what the models call; the *_ref versions are plain loops that read like the maths and are
// what the tests compare against.
#include <cstddef>
#include <memory>
#include <utility>
#include <vector>

#include "vitscope/thread_pool.hpp"

namespace vitscope::kernels {

namespace memory_detail {
// construct() for allocators of packed weights: a vector's resize() then leaves new elements
// uninitialised. The packers write every element, padding included, and zero-filling tens of MB
// first cost a pass over the memory at every model load.
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
}  // namespace memory_detail

// A weight matrix b[N,K] (PyTorch Linear layout: out_features x in_features) packed once, at load,
// into the panel layout the micro-kernel streams.
class PackedMatrix {
 public:
  PackedMatrix() = default;
  // b[N,K], row-major with row stride ldb (>= k). With a pool, the panels are packed on its threads.
  static PackedMatrix pack(const float* b, int n, int k, int ldb, ThreadPool* pool = nullptr);
  static PackedMatrix pack(const float* b, int n, int k) { return pack(b, n, k, k); }
  int rows() const { return n_; }  // N
  int cols() const { return k_; }  // K
  const float* data() const { return data_.data(); }
  std::size_t size() const { return data_.size(); }

 private:
  template <class T>
  struct UninitialisedAllocator : std::allocator<T>, memory_detail::DefaultInitConstruct {
    template <class U>
    struct rebind {
      using other = UninitialisedAllocator<U>;
    };
    using memory_detail::DefaultInitConstruct::construct;
  };

  int n_ = 0, k_ = 0;
  std::vector<float, UninitialisedAllocator<float>> data_;
};

// What linear() does to each output element after the dot product.
struct LinearEpilogue {
  const float* bias = nullptr;  // [N] or null
  bool gelu = false;            // apply exact (erf) GELU after the bias
  bool accumulate = false;      // out += result (residual connection) instead of out = result
};

// out[M,N] (=|+=) act(a[M,K] · b[N,K]ᵀ + bias[N]); a has row stride lda, out has row stride ldo.
// pool may be null (single thread).
void linear(const float* a, int lda, int m, const PackedMatrix& b, float* out, int ldo,
            const LinearEpilogue& epilogue, ThreadPool* pool);
void linear_ref(const float* a, int lda, int m, const float* b, int n, int k, float* out, int ldo,
                const LinearEpilogue& epilogue);

// c[M,N] = alpha · a[M,K] · b[N,K]ᵀ, all row-major with the given row strides (attention q·kᵀ).
void gemm_abt(int m, int n, int k, float alpha, const float* a, int lda, const float* b, int ldb,
              float* c, int ldc, ThreadPool* pool);
void gemm_abt_ref(int m, int n, int k, float alpha, const float* a, int lda, const float* b,
                  int ldb, float* c, int ldc);

// c[M,N] = a[M,K] · b[K,N], all row-major with the given row strides (attention p·v).
void gemm_ab(int m, int n, int k, const float* a, int lda, const float* b, int ldb, float* c,
             int ldc, ThreadPool* pool);
void gemm_ab_ref(int m, int n, int k, const float* a, int lda, const float* b, int ldb, float* c,
                 int ldc);

}  // namespace vitscope::kernels
