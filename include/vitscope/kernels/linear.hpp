#pragma once
// Linear layers whose packed weights know their precision: model code packs a weight once, at load,
// for the precision the model runs at, and applies it without asking which one that was.
#include <cstddef>
#include <variant>
#include <vector>

#include "vitscope/kernels/gemm.hpp"
#include "vitscope/kernels/gemm_bf16.hpp"
#include "vitscope/kernels/gemm_int8.hpp"
#include "vitscope/kernels/precision.hpp"
#include "vitscope/core/thread_pool.hpp"

namespace vitscope::kernels {

class LinearWeights {
 public:
  LinearWeights() = default;
  // b[N,K] (PyTorch Linear layout), row stride ldb >= k, packed for `precision` (on pool's
  // threads when not null; the result is the same).
  static LinearWeights pack(const float* b, int n, int k, int ldb, Precision precision,
                            ThreadPool* pool = nullptr);

  Precision precision() const;
  int rows() const;  // N
  int cols() const;  // K
  std::size_t bytes() const;  // memory the packed weights take
  // b[N,K] row-major as packed; fp32 weights only (std::logic_error otherwise: the rounding of
  // lower precisions is not undone).
  std::vector<float> unpack() const;

  // out[M,N] (=|+=) act(a[M,K] · bᵀ + bias[N]) at the weights' precision; a has row stride lda,
  // out ldo; pool may be null (single thread).
  void apply(const float* a, int lda, int m, float* out, int ldo, const LinearEpilogue& epilogue,
             ThreadPool* pool) const;

 private:
  std::variant<PackedMatrix, PackedMatrixBf16, PackedMatrixInt8> packed_;
};

// The products of two activations that attention computes, at one precision:
//   abt: c[M,N] = alpha · a[M,K] · b[N,K]ᵀ   (q·kᵀ)
//   ab:  c[M,N] = a[M,K] · b[K,N]            (p·v)
// all row-major with the given row strides; pool may be null.
struct ActivationProducts {
  void (*abt)(int m, int n, int k, float alpha, const float* a, int lda, const float* b, int ldb,
              float* c, int ldc, ThreadPool* pool);
  void (*ab)(int m, int n, int k, const float* a, int lda, const float* b, int ldb, float* c,
             int ldc, ThreadPool* pool);
};
const ActivationProducts& activation_products(Precision precision);

}  // namespace vitscope::kernels
