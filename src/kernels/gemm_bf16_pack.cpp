// PackedMatrixBf16: weights rounded to bf16 and packed once for the backend that will use them.
#include <algorithm>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

#include "kernels/bf16.hpp"
#include "kernels/gemm_bf16_layout.hpp"
#include "kernels/packed_memory.hpp"
#include "kernels/pack_ranges.hpp"
#include "vitscope/kernels/gemm_bf16.hpp"

namespace vitscope::kernels {

PackedMatrixBf16 PackedMatrixBf16::pack(const float* b, int n, int k, int ldb,
                                        Bf16Backend backend, ThreadPool* pool) {
  gemm_detail::check_pack_shape("PackedMatrixBf16::pack", n, k, ldb);
  PackedMatrixBf16 packed;
  packed.n_ = n;
  packed.k_ = k;
  packed.backend_ = resolve_bf16_backend(backend);
  if (packed.backend_ == Bf16Backend::avx512_bf16) {
    packed.pair_count_ = gemm_bf16_detail::packed_b_pairs_size(n, k);
    std::uint32_t* out;
    std::tie(packed.memory_, out) =
        memory_detail::allocate_packed<memory_detail::PackedPairs>(packed.pair_count_);
    packed.pairs_ = out;
    const std::size_t k2 = static_cast<std::size_t>(k + 1) / 2;
    gemm_detail::pack_panel_ranges(pool, n, gemm_bf16_detail::kNR, [&](int j0, int j1) {
      gemm_bf16_detail::avx512bf16::pack_b_nk(b + static_cast<std::size_t>(j0) * ldb, ldb, j1 - j0,
                                              k, out + j0 * k2);
    });
  } else {
    std::vector<float> rounded(static_cast<std::size_t>(n) * k);
    for (int j = 0; j < n; ++j) {
      for (int p = 0; p < k; ++p) {
        rounded[static_cast<std::size_t>(j) * k + p] =
            round_to_bf16(b[static_cast<std::size_t>(j) * ldb + p]);
      }
    }
    packed.emulated_ = PackedMatrix::pack(rounded.data(), n, k, k, pool);
  }
  return packed;
}

std::size_t PackedMatrixBf16::bytes() const {
  return pair_count_ * sizeof(std::uint32_t) + emulated_.size() * sizeof(float);
}

}  // namespace vitscope::kernels
