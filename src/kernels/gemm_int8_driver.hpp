#pragma once
// The blocked, threaded loop nest of the int8 GEMM:
//   out[M,N] (=|+=) act(s_a · s_b · qa[M,K] · qb[N,K]ᵀ + bias[N]),  b given as packed int8 quads.
#include <cstdint>

#include "kernels/gemm_driver.hpp"
#include "vitscope/core/thread_pool.hpp"

namespace vitscope::kernels::gemm_int8_detail {

struct Int8GemmProblem : gemm_detail::ProductOperands {  // a in fp32
  const std::uint32_t* b_quads = nullptr;   // packed_b_quads_size(n, k) words, gemm_int8_layout.hpp
  const float* b_scales = nullptr;          // [round_up(n, kNR)]
  const std::int32_t* b_offsets = nullptr;  // 128 · Σ_k qb, [round_up(n, kNR)]
};

// Quantises a per row (into memory kept by the calling thread), then computes the product with the
// AVX512-VNNI micro-kernel (vnni; only when the CPU has it) or the portable one, splitting the
// output into tiles shared out over pool (null: this thread).
void run_gemm_int8(const Int8GemmProblem& problem, bool vnni, ThreadPool* pool);

}  // namespace vitscope::kernels::gemm_int8_detail
