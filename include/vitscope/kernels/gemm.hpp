#pragma once
// Matrix products: xsimd micro-kernel, packed panels, cache blocking, threads. Their scalar
// references (plain loops that read like the maths, what the tests compare against) are in
// src/kernels/reference.hpp.
#include <cmath>
#include <cstddef>
#include <memory>
#include <vector>

#include "vitscope/core/thread_pool.hpp"

namespace vitscope::kernels {

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
  const float* data() const { return data_; }
  std::size_t size() const { return size_; }  // floats, padding included
  // The matrix b[N,K] as it was packed, row-major (a backward pass multiplies by b, not bᵀ).
  std::vector<float> unpack() const;

 private:
  int n_ = 0, k_ = 0;
  std::shared_ptr<const void> memory_;  // owns data_ (src/kernels/packed_memory.hpp); shared by copies
  const float* data_ = nullptr;
  std::size_t size_ = 0;
};

// What linear() does to each output element after the dot product, in this order:
//   x = act(a·bᵀ + bias) (+ residual) (+ out, accumulate), then out = clamp(x, lo, hi).
struct LinearEpilogue {
  const float* bias = nullptr;  // [N] or null
  bool gelu = false;            // apply exact (erf) GELU after the bias
  bool accumulate = false;      // out += result (residual connection) instead of out = result
  // [M,N] with out's row stride ldo, added after the activation (a residual connection whose sum
  // goes to another buffer), or null.
  const float* residual = nullptr;
  float lo = -INFINITY, hi = INFINITY;  // the result clamped last (ReLU: lo = 0); default none
};

// out[M,N] (=|+=) act(a[M,K] · b[N,K]ᵀ + bias[N]); a has row stride lda, out has row stride ldo.
// pool may be null (single thread).
void linear(const float* a, int lda, int m, const PackedMatrix& b, float* out, int ldo,
            const LinearEpilogue& epilogue, ThreadPool* pool);

// c[M,N] = alpha · a[M,K] · b[N,K]ᵀ, all row-major with the given row strides (attention q·kᵀ).
void gemm_abt(int m, int n, int k, float alpha, const float* a, int lda, const float* b, int ldb,
              float* c, int ldc, ThreadPool* pool);

// c[M,N] = a[M,K] · b[K,N], all row-major with the given row strides (attention p·v).
void gemm_ab(int m, int n, int k, const float* a, int lda, const float* b, int ldb, float* c,
             int ldc, ThreadPool* pool);

}  // namespace vitscope::kernels
