// Public bf16 GEMM entry points: choose the backend, bring B into its packed form, run the
// AVX512-BF16 driver or the fp32 driver on bf16-rounded values.
#include "vitscope/kernels/gemm_bf16.hpp"

#include <algorithm>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

#include "kernels/bf16.hpp"
#include "kernels/gemm_bf16_driver.hpp"
#include "kernels/gemm_bf16_layout.hpp"
#include "kernels/gemm_driver.hpp"
#include "kernels/gemm_epilogue.hpp"
#include "kernels/gemm_layout.hpp"
#include "kernels/packed_memory.hpp"
#include "kernels/simd.hpp"
#include "vitscope/kernels/cpu_features.hpp"

namespace vitscope::kernels {
namespace {

using gemm_bf16_detail::Bf16GemmProblem;
using gemm_detail::check_shape;
using gemm_detail::GemmProblem;

// B operands packed per call go to memory owned by the calling thread, grown on first use and
// reused, so a warm call allocates nothing. Workers only read it while the caller waits in run().
std::uint32_t* pairs_scratch(int n, int k) {
  thread_local memory_detail::PackedPairs scratch;
  const std::size_t size = gemm_bf16_detail::packed_b_pairs_size(n, k);
  if (scratch.size() < size) scratch.resize(size);
  return scratch.data();
}

float* floats_scratch(int n, int k) {
  thread_local simd::AlignedVector scratch;
  const std::size_t size = gemm_detail::packed_b_size(n, k);
  if (scratch.size() < size) scratch.resize(size);
  return scratch.data();
}

void round_to_bf16_in_place(float* x, std::size_t count) {
  for (std::size_t i = 0; i < count; ++i) x[i] = round_to_bf16(x[i]);
}

// fp32 emulation: B packed into fp32 panels (pack_b_nk or pack_b_kn), rounded, and A rounded as
// the driver packs it.
template <class PackB>
void emulated_product(int m, int n, int k, float alpha, const float* a, int lda, float* c,
                      int ldc, ThreadPool* pool, PackB pack_b) {
  float* packed = floats_scratch(n, k);
  pack_b(packed);
  round_to_bf16_in_place(packed, gemm_detail::packed_b_size(n, k));
  gemm_detail::Epilogue epilogue;
  epilogue.alpha = alpha;
  gemm_detail::run_gemm(GemmProblem{{m, n, k, a, lda, c, ldc, epilogue}, packed, true}, pool);
}

void hardware_product(int m, int n, int k, float alpha, const float* a, int lda,
                      const std::uint32_t* b_pairs, float* c, int ldc, ThreadPool* pool) {
  gemm_detail::Epilogue epilogue;
  epilogue.alpha = alpha;
  gemm_bf16_detail::run_gemm_bf16(Bf16GemmProblem{{m, n, k, a, lda, c, ldc, epilogue}, b_pairs},
                                  pool);
}

}  // namespace

bool bf16_hardware_available() {
  static const bool available = supports_avx512_bf16_kernels(cpu_features()) &&
                                !kernels_disabled_by_env_value(std::getenv("VITSCOPE_DISABLE_BF16"));
  return available;
}

Bf16Backend resolve_bf16_backend(Bf16Backend requested) {
  switch (requested) {
    case Bf16Backend::automatic:
      return bf16_hardware_available() ? Bf16Backend::avx512_bf16 : Bf16Backend::fp32_emulation;
    case Bf16Backend::avx512_bf16:
      if (!supports_avx512_bf16_kernels(cpu_features())) {
        throw std::invalid_argument("bf16 backend: avx512_bf16 requested, but this CPU lacks "
                                    "AVX512-BF16 (or AVX512F/BW/DQ/VL)");
      }
      return requested;
    case Bf16Backend::fp32_emulation:
      return requested;
  }
  throw std::invalid_argument("bf16 backend: unknown value " +
                              std::to_string(static_cast<int>(requested)));
}

void linear_bf16(const float* a, int lda, int m, const PackedMatrixBf16& b, float* out, int ldo,
                 const LinearEpilogue& epilogue, ThreadPool* pool) {
  check_shape(m >= 0 && lda >= b.cols() && ldo >= b.rows(), "linear_bf16", m, b.rows(),
              b.cols());
  const gemm_detail::Epilogue e = gemm_detail::epilogue_of(epilogue);
  const gemm_detail::ProductOperands operands{m, b.rows(), b.cols(), a, lda, out, ldo, e};
  if (b.backend() == Bf16Backend::avx512_bf16) {
    gemm_bf16_detail::run_gemm_bf16(Bf16GemmProblem{operands, b.pairs()}, pool);
  } else {
    gemm_detail::run_gemm(GemmProblem{operands, b.emulated().data(), true}, pool);
  }
}

void gemm_abt_bf16(int m, int n, int k, float alpha, const float* a, int lda, const float* b,
                   int ldb, float* c, int ldc, ThreadPool* pool, Bf16Backend backend) {
  check_shape(m >= 0 && n >= 0 && k >= 0 && lda >= k && ldb >= k && ldc >= n, "gemm_abt_bf16", m,
              n, k);
  backend = resolve_bf16_backend(backend);
  if (m == 0 || n == 0) return;
  if (backend == Bf16Backend::avx512_bf16) {
    std::uint32_t* packed = pairs_scratch(n, k);
    gemm_bf16_detail::avx512bf16::pack_b_nk(b, ldb, n, k, packed);
    hardware_product(m, n, k, alpha, a, lda, packed, c, ldc, pool);
  } else {
    emulated_product(m, n, k, alpha, a, lda, c, ldc, pool,
                     [&](float* dst) { gemm_detail::pack_b_nk(b, ldb, n, k, dst); });
  }
}

void gemm_ab_bf16(int m, int n, int k, const float* a, int lda, const float* b, int ldb, float* c,
                  int ldc, ThreadPool* pool, Bf16Backend backend) {
  check_shape(m >= 0 && n >= 0 && k >= 0 && lda >= k && ldb >= n && ldc >= n, "gemm_ab_bf16", m,
              n, k);
  backend = resolve_bf16_backend(backend);
  if (m == 0 || n == 0) return;
  if (backend == Bf16Backend::avx512_bf16) {
    std::uint32_t* packed = pairs_scratch(n, k);
    gemm_bf16_detail::avx512bf16::pack_b_kn(b, ldb, k, n, packed);
    hardware_product(m, n, k, 1.0f, a, lda, packed, c, ldc, pool);
  } else {
    emulated_product(m, n, k, 1.0f, a, lda, c, ldc, pool,
                     [&](float* dst) { gemm_detail::pack_b_kn(b, ldb, k, n, dst); });
  }
}

}  // namespace vitscope::kernels
