// Public GEMM entry points: each brings its B operand into packed panels and runs the shared
// driver.
#include <stdexcept>
#include <string>

#include "kernels/gemm_driver.hpp"
#include "kernels/gemm_epilogue.hpp"
#include "kernels/gemm_layout.hpp"
#include "kernels/simd.hpp"
#include "vitscope/kernels/gemm.hpp"

namespace vitscope::kernels {
namespace {

using gemm_detail::check_shape;
using gemm_detail::GemmProblem;

// B operands packed per call (attention) go here: owned by the calling thread, grown on first use
// and reused, so a warm call allocates nothing. Workers only read it while the caller waits in
// run().
float* packed_b_scratch(int n, int k) {
  thread_local simd::AlignedVector scratch;
  const std::size_t size = gemm_detail::packed_b_size(n, k);
  if (scratch.size() < size) scratch.resize(size);
  return scratch.data();
}

// c[M,N] = alpha · a[M,K] · b, b already packed into panels.
void run_with_packed_b(int m, int n, int k, float alpha, const float* a, int lda, const float* packed,
                       float* c, int ldc, ThreadPool* pool) {
  gemm_detail::Epilogue epilogue;
  epilogue.alpha = alpha;
  gemm_detail::run_gemm(GemmProblem{{m, n, k, a, lda, c, ldc, epilogue}, packed}, pool);
}

}  // namespace

void linear(const float* a, int lda, int m, const PackedMatrix& b, float* out, int ldo,
            const LinearEpilogue& epilogue, ThreadPool* pool) {
  check_shape(m >= 0 && lda >= b.cols() && ldo >= b.rows(), "linear", m, b.rows(), b.cols());
  const gemm_detail::Epilogue e = gemm_detail::epilogue_of(epilogue);
  gemm_detail::run_gemm(GemmProblem{{m, b.rows(), b.cols(), a, lda, out, ldo, e}, b.data()}, pool);
}

void gemm_abt(int m, int n, int k, float alpha, const float* a, int lda, const float* b, int ldb,
              float* c, int ldc, ThreadPool* pool) {
  check_shape(m >= 0 && n >= 0 && k >= 0 && lda >= k && ldb >= k && ldc >= n, "gemm_abt", m, n, k);
  if (m == 0 || n == 0) return;
  float* packed = packed_b_scratch(n, k);
  gemm_detail::pack_b_nk(b, ldb, n, k, packed);
  run_with_packed_b(m, n, k, alpha, a, lda, packed, c, ldc, pool);
}

void gemm_ab(int m, int n, int k, const float* a, int lda, const float* b, int ldb, float* c,
             int ldc, ThreadPool* pool) {
  check_shape(m >= 0 && n >= 0 && k >= 0 && lda >= k && ldb >= n && ldc >= n, "gemm_ab", m, n, k);
  if (m == 0 || n == 0) return;
  float* packed = packed_b_scratch(n, k);
  gemm_detail::pack_b_kn(b, ldb, k, n, packed);
  run_with_packed_b(m, n, k, 1.0f, a, lda, packed, c, ldc, pool);
}

}  // namespace vitscope::kernels
