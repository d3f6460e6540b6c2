// Portable micro-kernel of the int8 GEMM: the int32 sums of the AVX512-VNNI kernel, computed with
// plain integer arithmetic (exact either way, so the two agree bit for bit).
#include <cstddef>
#include <cstdint>

#include "kernels/gemm_int8_layout.hpp"

namespace vitscope::kernels::gemm_int8_detail::portable {
namespace {

// Σ of the four products of an unsigned quad of A by a signed quad of B.
std::int32_t quad_dot(std::uint32_t a, std::uint32_t b) {
  std::int32_t sum = 0;
  for (int byte = 0; byte < 4; ++byte) {
    const auto ua = static_cast<std::int32_t>((a >> (8 * byte)) & 0xffu);
    const auto sb = static_cast<std::int32_t>(static_cast<std::int8_t>((b >> (8 * byte)) & 0xffu));
    sum += ua * sb;
  }
  return sum;
}

}  // namespace

void dot_panels(int kc4, const std::uint32_t* a, std::ptrdiff_t lda4, int panels, const std::uint32_t* b,
                int cols, std::int32_t* sums, bool accumulate) {
  for (int ip = 0; ip < panels; ++ip) {
    std::int32_t* tile = sums + static_cast<std::ptrdiff_t>(ip) * kMR * kNR;
    for (int r = 0; r < kMR; ++r) {
      const std::uint32_t* row = a + (static_cast<std::ptrdiff_t>(ip) * kMR + r) * lda4;
      std::int32_t* out = tile + r * kNR;
      for (int c = 0; c < cols; ++c) {
        std::int32_t sum = accumulate ? out[c] : 0;
        for (int p = 0; p < kc4; ++p) sum += quad_dot(row[p], b[static_cast<std::ptrdiff_t>(p) * kNR + c]);
        out[c] = sum;
      }
    }
  }
}

}  // namespace vitscope::kernels::gemm_int8_detail::portable
