#pragma once
// Matrix products with bf16 operands and fp32 accumulation (the `--precision bf16` path).
//
// Both operands are rounded to bfloat16 (nearest, ties to even) and every product is summed in
// fp32, so a result differs from the fp32 product by the operands' rounding (at most 2^-8 relative
// per operand, 2^-7 per product), and from the *_bf16_ref references (src/kernels/reference.hpp)
// only by the order of the fp32 sums. Inputs and outputs stay fp32; weights are stored as bf16,
// halving their memory and bandwidth.
//
// Two backends compute that same quantity:
// - avx512_bf16: vdpbf16ps kernels (AVX512-BF16), about twice the fp32 GEMM throughput. The
//   hardware also flushes fp32 denormals (|x| < 2^-126) to zero when it rounds them to bf16.
// - fp32_emulation: the fp32 kernels run on bf16-rounded values, for CPUs without AVX512-BF16.
// Bf16Backend::automatic picks the first when bf16_hardware_available(), else the second.
#include <cstddef>
#include <cstdint>
#include <memory>

#include "vitscope/kernels/gemm.hpp"
#include "vitscope/core/thread_pool.hpp"

namespace vitscope::kernels {

enum class Bf16Backend { automatic, avx512_bf16, fp32_emulation };

// True when the CPU has AVX512-BF16 (with AVX512F/BW/DQ/VL) and the environment variable
// VITSCOPE_DISABLE_BF16 does not turn it off (see kernels_disabled_by_env_value). Decided once per
// process: the choice of Bf16Backend::automatic.
bool bf16_hardware_available();

// automatic → the backend it stands for; the others are returned as they are, after checking
// that this CPU can run them (std::invalid_argument if avx512_bf16 is asked for without the
// hardware; the environment variable does not forbid an explicit request).
Bf16Backend resolve_bf16_backend(Bf16Backend requested);

// A weight matrix b[N,K] (PyTorch Linear layout) rounded to bf16 and packed once, at load, for
// one backend: bf16 pairs along K in the micro-kernel's panels (avx512_bf16), or the fp32 panels
// of PackedMatrix holding the bf16-rounded values (fp32_emulation).
class PackedMatrixBf16 {
 public:
  PackedMatrixBf16() = default;
  // b[N,K], row-major with row stride ldb (>= k). pool, if not null, packs ranges of panels on
  // its threads (the result is the same).
  static PackedMatrixBf16 pack(const float* b, int n, int k, int ldb,
                               Bf16Backend backend = Bf16Backend::automatic,
                               ThreadPool* pool = nullptr);
  static PackedMatrixBf16 pack(const float* b, int n, int k) { return pack(b, n, k, k); }

  int rows() const { return n_; }  // N
  int cols() const { return k_; }  // K
  Bf16Backend backend() const { return backend_; }  // never automatic
  std::size_t bytes() const;                        // memory the packed weights take

  // avx512_bf16: the packed pairs (layout of src/kernels/gemm_bf16_layout.hpp); else empty.
  const std::uint32_t* pairs() const { return pairs_; }
  // fp32_emulation: the rounded weights in fp32 panels; else empty.
  const PackedMatrix& emulated() const { return emulated_; }

 private:
  int n_ = 0, k_ = 0;
  Bf16Backend backend_ = Bf16Backend::fp32_emulation;
  std::shared_ptr<const void> memory_;  // owns pairs_ (src/kernels/packed_memory.hpp)
  const std::uint32_t* pairs_ = nullptr;
  std::size_t pair_count_ = 0;
  PackedMatrix emulated_;
};

// out[M,N] (=|+=) act(bf16(a[M,K]) · bf16(b[N,K])ᵀ + bias[N]) with the backend b was packed for;
// a has row stride lda, out row stride ldo; pool may be null (single thread).
void linear_bf16(const float* a, int lda, int m, const PackedMatrixBf16& b, float* out, int ldo,
                 const LinearEpilogue& epilogue, ThreadPool* pool);

// c[M,N] = alpha · bf16(a[M,K]) · bf16(b[N,K])ᵀ, row-major with the given row strides (q·kᵀ).
// Both operands are converted per call, into scratch memory kept by the calling thread.
void gemm_abt_bf16(int m, int n, int k, float alpha, const float* a, int lda, const float* b,
                   int ldb, float* c, int ldc, ThreadPool* pool,
                   Bf16Backend backend = Bf16Backend::automatic);

// c[M,N] = bf16(a[M,K]) · bf16(b[K,N]), row-major with the given row strides (p·v).
void gemm_ab_bf16(int m, int n, int k, const float* a, int lda, const float* b, int ldb, float* c,
                  int ldc, ThreadPool* pool, Bf16Backend backend = Bf16Backend::automatic);

}  // namespace vitscope::kernels
