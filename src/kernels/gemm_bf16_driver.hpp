#pragma once
// The blocked, threaded loop nest of the AVX512-BF16 GEMM:
//   out[M,N] (=|+=) act(alpha · bf16(a[M,K]) · b[N,K]ᵀ + bias[N]),  b given as packed bf16 pairs.
// Call only when the CPU runs the AVX512-BF16 kernels (resolve_bf16_backend).
#include <cstdint>

#include "kernels/gemm_driver.hpp"
#include "vitscope/core/thread_pool.hpp"

namespace vitscope::kernels::gemm_bf16_detail {

struct Bf16GemmProblem : gemm_detail::ProductOperands {  // a in fp32
  const std::uint32_t* b_pairs = nullptr;  // packed_b_pairs_size(n, k) words, gemm_bf16_layout.hpp
};

// Converts a to bf16 pairs (into memory kept by the calling thread), then computes the product,
// splitting the output into tiles shared out over pool (null: this thread).
void run_gemm_bf16(const Bf16GemmProblem& problem, ThreadPool* pool);

}  // namespace vitscope::kernels::gemm_bf16_detail
