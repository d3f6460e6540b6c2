#pragma once
// The blocked, threaded GEMM loop nest shared by linear(), gemm_abt() and gemm_ab():
//   out[M,N] (=|+=) act(alpha · a[M,K] · b[N,K]ᵀ + bias[N]),  b given as packed panels.
#include "vitscope/thread_pool.hpp"

namespace vitscope::kernels::gemm_detail {

// Applied to each output element once its dot product is complete, in this order.
struct Epilogue {
  float alpha = 1.0f;           // scale of the product
  const float* bias = nullptr;  // [N] or null
  bool gelu = false;            // exact (erf) GELU
  bool accumulate = false;      // out += result instead of out = result
};

struct GemmProblem {
  int m = 0, n = 0, k = 0;
  const float* a = nullptr;  // [M,K], row stride lda
  int lda = 0;
  const float* b_packed = nullptr;  // packed_b_size(n, k) floats, layout of gemm_layout.hpp
  float* out = nullptr;             // [M,N], row stride ldo
  int ldo = 0;
  Epilogue epilogue;
};

// Computes the problem, splitting the output into tiles shared out over pool (null: this thread).
void run_gemm(const GemmProblem& problem, ThreadPool* pool);

}  // namespace vitscope::kernels::gemm_detail
