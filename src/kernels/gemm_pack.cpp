// Packing of GEMM operands into the panel layouts of gemm_layout.hpp.
#include <algorithm>
#include <stdexcept>
#include <string>
#include <tuple>

#include "kernels/bf16.hpp"
#include "kernels/gemm_layout.hpp"
#include "kernels/packed_memory.hpp"
#include "kernels/pack_ranges.hpp"
#include "vitscope/kernels/gemm.hpp"

namespace vitscope::kernels {
namespace gemm_detail {

// dst[p][k][kNR] = b[p·kNR + j, k] (0 past n). Writes run in order; the kNR source rows are read
// side by side, each sequentially, which the caches follow well.
void pack_b_nk(const float* b, int ldb, int n, int k, float* dst) {
  for (int j0 = 0; j0 < n; j0 += kNR) {
    const int cols = std::min(kNR, n - j0);
    const float* rows[kNR];
    for (int j = 0; j < cols; ++j) rows[j] = b + static_cast<std::size_t>(j0 + j) * ldb;
    float* out = dst + static_cast<std::size_t>(j0) * k;
    for (int p = 0; p < k; ++p, out += kNR) {
      for (int j = 0; j < cols; ++j) out[j] = rows[j][p];
      for (int j = cols; j < kNR; ++j) out[j] = 0.0f;
    }
  }
}

// dst[p][k][kNR] = b[k, p·kNR + j] (0 past n).
void pack_b_kn(const float* b, int ldb, int k, int n, float* dst) {
  for (int j0 = 0; j0 < n; j0 += kNR) {
    const int cols = std::min(kNR, n - j0);
    float* out = dst + static_cast<std::size_t>(j0) * k;
    for (int p = 0; p < k; ++p, out += kNR) {
      const float* row = b + static_cast<std::size_t>(p) * ldb + j0;
      std::copy(row, row + cols, out);
      std::fill(out + cols, out + kNR, 0.0f);
    }
  }
}

namespace {

// dst[i][p][kMR] = value(a[i·kMR + r, p]) (0 past m).
template <class Value>
void pack_a_panels(const float* a, int lda, int m, int kc, float* dst, Value value) {
  for (int i0 = 0; i0 < m; i0 += kMR) {
    const int rows = std::min(kMR, m - i0);
    const float* src[kMR];
    for (int r = 0; r < rows; ++r) src[r] = a + static_cast<std::size_t>(i0 + r) * lda;
    for (int p = 0; p < kc; ++p) {
      for (int r = 0; r < rows; ++r) dst[r] = value(src[r][p]);
      for (int r = rows; r < kMR; ++r) dst[r] = 0.0f;
      dst += kMR;
    }
  }
}

}  // namespace

void pack_a(const float* a, int lda, int m, int kc, float* dst) {
  pack_a_panels(a, lda, m, kc, dst, [](float x) { return x; });
}

void pack_a_rounded_to_bf16(const float* a, int lda, int m, int kc, float* dst) {
  pack_a_panels(a, lda, m, kc, dst, [](float x) { return round_to_bf16(x); });
}

}  // namespace gemm_detail

PackedMatrix PackedMatrix::pack(const float* b, int n, int k, int ldb, ThreadPool* pool) {
  gemm_detail::check_pack_shape("PackedMatrix::pack", n, k, ldb);
  PackedMatrix packed;
  packed.n_ = n;
  packed.k_ = k;
  packed.size_ = gemm_detail::packed_b_size(n, k);
  float* out;
  std::tie(packed.memory_, out) = memory_detail::allocate_packed<memory_detail::PackedFloats>(packed.size_);
  packed.data_ = out;
  gemm_detail::pack_panel_ranges(pool, n, gemm_detail::kNR, [&](int j0, int j1) {
    gemm_detail::pack_b_nk(b + static_cast<std::size_t>(j0) * ldb, ldb, j1 - j0, k,
                           out + static_cast<std::size_t>(j0) * k);
  });
  return packed;
}

std::vector<float> PackedMatrix::unpack() const {
  std::vector<float> b(static_cast<std::size_t>(n_) * k_);
  for (int j = 0; j < n_; ++j) {
    const float* panel = data_ + static_cast<std::size_t>(j / gemm_detail::kNR) * gemm_detail::kNR * k_;
    for (int p = 0; p < k_; ++p)
      b[static_cast<std::size_t>(j) * k_ + p] = panel[static_cast<std::size_t>(p) * gemm_detail::kNR + j % gemm_detail::kNR];
  }
  return b;
}

}  // namespace vitscope::kernels
