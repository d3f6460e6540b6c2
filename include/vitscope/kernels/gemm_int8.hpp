#pragma once
// Matrix products with int8 operands and int32 accumulation (the `--precision int8` path):
// W8A8, weights per output channel, activations per token (row), both symmetric.
//
//   weights  b[N,K]: s_b[n] = max_k |b[n,k]| / 127,  qb[n,k] = round(b[n,k] / s_b[n]) in [-127, 127]
//            (quantised once, at load);
//   activations a[M,K]: s_a[m] = max_k |a[m,k]| / 127, qa[m,k] = round(a[m,k] / s_a[m]) in
//            [-127, 127] (quantised at every call: dynamic, so no calibration data is needed and an
//            outlier token only coarsens its own row);
//   out[m,n] (=|+=) act(s_a[m] · s_b[n] · Σ_k qa[m,k] · qb[n,k] + bias[n]).
// Rounding is to nearest, ties to even. The integer sums are exact (|Σ| < 2^31 for K < 133,000),
// so the two backends below give the same int32 sums and, through one shared epilogue, the same
// floats. A row of a that is not finite gives a row of NaN (the model's output checks report it).
//
// vpdpbusd multiplies unsigned by signed bytes, so activations are stored as qa + 128 (1..255) and
// 128 · Σ_k qb[n,k] is subtracted from each sum (kept per column with the packed weights).
//
// Backends: avx512_vnni (vpdpbusd, 64 multiply-adds per instruction: four times the fp32 FMA's) and
// portable (plain C++ integer loops, for CPUs without AVX512-VNNI). Int8Backend::automatic picks
// the first when int8_vnni_available().
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "vitscope/kernels/gemm.hpp"
#include "vitscope/core/thread_pool.hpp"

namespace vitscope::kernels {

enum class Int8Backend { automatic, avx512_vnni, portable };

// True when the CPU has AVX512-VNNI (with AVX512F/BW/VL) and the environment variable
// VITSCOPE_DISABLE_VNNI does not turn it off (any value but unset, empty or "0"). Decided once.
bool int8_vnni_available();

// automatic → the backend it stands for; avx512_vnni without the hardware: std::invalid_argument.
Int8Backend resolve_int8_backend(Int8Backend requested);

// Per-row symmetric quantisation as above: q[r][k] = round(x[r,k] / scale[r]) for rows × k values
// of x (row stride ldx); scale[r] = max |x[r,:]| / 127 (0 for an all-zero row, NaN for a row
// holding a NaN or an infinity). The reference of both operands' quantisation.
void quantize_rows_int8(const float* x, std::ptrdiff_t ldx, int rows, int k, std::int8_t* q,
                        std::ptrdiff_t ldq, float* scale);

// A weight matrix b[N,K] (PyTorch Linear layout), quantised per output channel and packed once for
// the micro-kernel: int8 quads along K in kNR-wide panels, with the scale and 128 · Σ_k qb of each
// column, zero past N.
class PackedMatrixInt8 {
 public:
  PackedMatrixInt8() = default;
  static PackedMatrixInt8 pack(const float* b, int n, int k, int ldb,
                               Int8Backend backend = Int8Backend::automatic, ThreadPool* pool = nullptr);
  static PackedMatrixInt8 pack(const float* b, int n, int k) { return pack(b, n, k, k); }

  int rows() const { return n_; }  // N
  int cols() const { return k_; }  // K
  Int8Backend backend() const { return backend_; }  // never automatic
  std::size_t bytes() const;                        // memory the packed weights take

  const std::uint32_t* quads() const { return quads_.data(); }  // gemm_int8_layout.hpp
  const float* scales() const { return scales_.data(); }        // [round_up(N, kNR)]
  const std::int32_t* offsets() const { return offsets_.data(); }  // 128 · Σ_k qb, [round_up(N, kNR)]

 private:
  int n_ = 0, k_ = 0;
  Int8Backend backend_ = Int8Backend::portable;
  std::vector<std::uint32_t> quads_;
  std::vector<float> scales_;
  std::vector<std::int32_t> offsets_;
};

// out[M,N] (=|+=) act(s_a · s_b · qa · qbᵀ + bias[N]) with the backend b was packed for; a has row
// stride lda, out row stride ldo; pool may be null (single thread).
void linear_int8(const float* a, int lda, int m, const PackedMatrixInt8& b, float* out, int ldo,
                 const LinearEpilogue& epilogue, ThreadPool* pool);

}  // namespace vitscope::kernels
