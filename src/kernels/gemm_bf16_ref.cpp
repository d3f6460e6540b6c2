// Reference bf16 GEMMs: the fp32 references on copies of the operands rounded to bf16, which is
// exactly "bf16 operands, fp32 accumulation" with the products summed in order.
#include <cstddef>
#include <vector>

#include "kernels/bf16.hpp"
#include "vitscope/kernels/gemm.hpp"

#include "kernels/reference.hpp"
#include "vitscope/kernels/gemm_bf16.hpp"

namespace vitscope::kernels {
namespace {

// The rows × cols matrix x (row stride ld) rounded to bf16, with the same row stride.
std::vector<float> rounded_copy(const float* x, int rows, int cols, int ld) {
  std::vector<float> copy(rows > 0 ? static_cast<std::size_t>(rows - 1) * ld + cols : 0);
  for (int r = 0; r < rows; ++r) {
    for (int c = 0; c < cols; ++c) {
      const std::size_t at = static_cast<std::size_t>(r) * ld + c;
      copy[at] = round_to_bf16(x[at]);
    }
  }
  return copy;
}

}  // namespace

// out[M,N] (=|+=) act(bf16(a[M,K]) · bf16(b[N,K])ᵀ + bias[N])
void linear_bf16_ref(const float* a, int lda, int m, const float* b, int n, int k, float* out,
                     int ldo, const LinearEpilogue& epilogue) {
  const std::vector<float> a16 = rounded_copy(a, m, k, lda), b16 = rounded_copy(b, n, k, k);
  linear_ref(a16.data(), lda, m, b16.data(), n, k, out, ldo, epilogue);
}

// c[M,N] = alpha · bf16(a[M,K]) · bf16(b[N,K])ᵀ
void gemm_abt_bf16_ref(int m, int n, int k, float alpha, const float* a, int lda, const float* b,
                       int ldb, float* c, int ldc) {
  const std::vector<float> a16 = rounded_copy(a, m, k, lda), b16 = rounded_copy(b, n, k, ldb);
  gemm_abt_ref(m, n, k, alpha, a16.data(), lda, b16.data(), ldb, c, ldc);
}

// c[M,N] = bf16(a[M,K]) · bf16(b[K,N])
void gemm_ab_bf16_ref(int m, int n, int k, const float* a, int lda, const float* b, int ldb,
                      float* c, int ldc) {
  const std::vector<float> a16 = rounded_copy(a, m, k, lda), b16 = rounded_copy(b, k, n, ldb);
  gemm_ab_ref(m, n, k, a16.data(), lda, b16.data(), ldb, c, ldc);
}

}  // namespace vitscope::kernels
