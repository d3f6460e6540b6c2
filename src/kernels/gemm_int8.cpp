// int8 products: quantisation, packing of the weights, backend choice and dispatch
// (see vitscope/kernels/gemm_int8.hpp).
#include "vitscope/kernels/gemm_int8.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <stdexcept>
#include <string>

#include "kernels/gemm_epilogue.hpp"
#include "kernels/gemm_int8_driver.hpp"
#include "kernels/gemm_int8_quantize.hpp"
#include "kernels/gemm_int8_layout.hpp"
#include "kernels/gemm_layout.hpp"
#include "kernels/parallel.hpp"
#include "vitscope/kernels/cpu_features.hpp"

namespace vitscope::kernels {

using gemm_detail::ceil_div;
using gemm_detail::round_up;
using gemm_int8_detail::kNR;

bool int8_vnni_available() {
  static const bool available = supports_avx512_vnni_kernels(cpu_features()) &&
                                !kernels_disabled_by_env_value(std::getenv("VITSCOPE_DISABLE_VNNI"));
  return available;
}

Int8Backend resolve_int8_backend(Int8Backend requested) {
  switch (requested) {
    case Int8Backend::automatic:
      return int8_vnni_available() ? Int8Backend::avx512_vnni : Int8Backend::portable;
    case Int8Backend::avx512_vnni:
      if (!supports_avx512_vnni_kernels(cpu_features()))
        throw std::invalid_argument("int8 backend: avx512_vnni requested, but this CPU lacks AVX512-VNNI "
                                    "(or AVX512F/BW/VL)");
      return requested;
    case Int8Backend::portable:
      return requested;
  }
  throw std::invalid_argument("int8 backend: unknown value " + std::to_string(static_cast<int>(requested)));
}

void quantize_rows_int8(const float* x, std::ptrdiff_t ldx, int rows, int k, std::int8_t* q, std::ptrdiff_t ldq,
                        float* scale) {
  for (int r = 0; r < rows; ++r) scale[r] = gemm_int8_detail::quantize_row(x + r * ldx, k, q + r * ldq, 0);
}

PackedMatrixInt8 PackedMatrixInt8::pack(const float* b, int n, int k, int ldb, Int8Backend backend,
                                        ThreadPool* pool) {
  gemm_detail::check_shape(n >= 0 && k >= 0 && ldb >= k, "PackedMatrixInt8::pack", 0, n, k);
  PackedMatrixInt8 packed;
  packed.n_ = n;
  packed.k_ = k;
  packed.backend_ = resolve_int8_backend(backend);
  const int k4 = ceil_div(k, 4), padded_n = round_up(n, kNR);
  packed.quads_.assign(gemm_int8_detail::packed_b_quads_size(n, k), 0u);
  packed.scales_.assign(static_cast<std::size_t>(padded_n), 0.0f);
  packed.offsets_.assign(static_cast<std::size_t>(padded_n), 0);
  // One panel of kNR output channels at a time: quantise its rows, then lay their bytes out as quads.
  const int panels = ceil_div(n, kNR);
  parallel_ranges(pool, static_cast<std::size_t>(panels), 1, [&](std::size_t begin, std::size_t end) {
    std::vector<std::int8_t> q(static_cast<std::size_t>(kNR) * static_cast<std::size_t>(k));
    for (std::size_t panel = begin; panel < end; ++panel) {
      const int j0 = static_cast<int>(panel) * kNR, cols = std::min(kNR, n - j0);
      quantize_rows_int8(b + static_cast<std::ptrdiff_t>(j0) * ldb, ldb, cols, k, q.data(), k,
                         packed.scales_.data() + j0);
      std::uint32_t* dst = packed.quads_.data() + static_cast<std::ptrdiff_t>(j0) * k4;
      for (int c = 0; c < cols; ++c) {
        const std::int8_t* row = q.data() + static_cast<std::ptrdiff_t>(c) * k;
        std::int32_t sum = 0;
        for (int i = 0; i < k; ++i) sum += row[i];
        packed.offsets_[static_cast<std::size_t>(j0 + c)] = 128 * sum;
        for (int p = 0; p < k4; ++p) {
          std::uint32_t word = 0;
          for (int byte = 0; byte < 4 && 4 * p + byte < k; ++byte)
            word |= static_cast<std::uint32_t>(static_cast<std::uint8_t>(row[4 * p + byte])) << (8 * byte);
          dst[static_cast<std::ptrdiff_t>(p) * kNR + c] = word;
        }
      }
    }
  });
  return packed;
}

std::size_t PackedMatrixInt8::bytes() const {
  return quads_.size() * sizeof(std::uint32_t) + scales_.size() * sizeof(float) +
         offsets_.size() * sizeof(std::int32_t);
}

void linear_int8(const float* a, int lda, int m, const PackedMatrixInt8& b, float* out, int ldo,
                 const LinearEpilogue& epilogue, ThreadPool* pool) {
  gemm_detail::check_shape(m >= 0 && lda >= b.cols() && ldo >= b.rows(), "linear_int8", m, b.rows(), b.cols());
  const gemm_detail::Epilogue e = gemm_detail::epilogue_of(epilogue);
  gemm_int8_detail::Int8GemmProblem g;
  static_cast<gemm_detail::ProductOperands&>(g) = {m, b.rows(), b.cols(), a, lda, out, ldo, e};
  g.b_quads = b.quads();
  g.b_scales = b.scales();
  g.b_offsets = b.offsets();
  gemm_int8_detail::run_gemm_int8(g, b.backend() == Int8Backend::avx512_vnni, pool);
}

}  // namespace vitscope::kernels
