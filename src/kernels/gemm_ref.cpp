// Reference GEMMs: the maths as plain loops, for the tests to compare the fast versions against.
#include <algorithm>
#include <cmath>
#include <cstddef>

#include "vitscope/kernels/gemm.hpp"

#include "kernels/reference.hpp"

namespace vitscope::kernels {

// out[M,N] (=|+=) act(a[M,K] · b[N,K]ᵀ + bias[N])
void linear_ref(const float* a, int lda, int m, const float* b, int n, int k, float* out, int ldo,
                const LinearEpilogue& epilogue) {
  for (int i = 0; i < m; ++i) {
    for (int j = 0; j < n; ++j) {
      float sum = 0.0f;
      for (int p = 0; p < k; ++p) sum += a[std::size_t(i) * lda + p] * b[std::size_t(j) * k + p];
      if (epilogue.bias) sum += epilogue.bias[j];
      if (epilogue.gelu) sum = 0.5f * sum * (1.0f + std::erf(sum * 0.70710678118654752440f));
      if (epilogue.residual) sum += epilogue.residual[std::size_t(i) * ldo + j];
      float& o = out[std::size_t(i) * ldo + j];
      if (epilogue.accumulate) sum += o;
      o = std::min(std::max(sum, epilogue.lo), epilogue.hi);
    }
  }
}

// c[M,N] = alpha · a[M,K] · b[N,K]ᵀ
void gemm_abt_ref(int m, int n, int k, float alpha, const float* a, int lda, const float* b,
                  int ldb, float* c, int ldc) {
  for (int i = 0; i < m; ++i) {
    for (int j = 0; j < n; ++j) {
      float sum = 0.0f;
      for (int p = 0; p < k; ++p) sum += a[std::size_t(i) * lda + p] * b[std::size_t(j) * ldb + p];
      c[std::size_t(i) * ldc + j] = alpha * sum;
    }
  }
}

// c[M,N] = a[M,K] · b[K,N]
void gemm_ab_ref(int m, int n, int k, const float* a, int lda, const float* b, int ldb, float* c,
                 int ldc) {
  for (int i = 0; i < m; ++i) {
    for (int j = 0; j < n; ++j) {
      float sum = 0.0f;
      for (int p = 0; p < k; ++p) sum += a[std::size_t(i) * lda + p] * b[std::size_t(p) * ldb + j];
      c[std::size_t(i) * ldc + j] = sum;
    }
  }
}

}  // namespace vitscope::kernels
