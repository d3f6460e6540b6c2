#pragma once
// The loop nest the bf16 and int8 drivers share inside one output tile: K blocks, B panels, A
// panels. Both store their operands as 32-bit words (bf16 pairs, int8 quads) along K, B in
// NR-wide panels (words[N/NR][Kw][NR]) and A row-major (words[rows][lda]); their micro-kernels
// (`dot_panels`) leave MR×NR sums of type Sum (float, int32) in a per-thread buffer, and `finish`
// turns one micro-tile of sums into output.
#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "kernels/gemm_driver.hpp"
#include "kernels/gemm_epilogue.hpp"
#include "kernels/gemm_layout.hpp"
#include "kernels/simd.hpp"

namespace vitscope::kernels::gemm_detail {

// Grow-only per-thread buffer of micro-tile sums.
template <class Vector>
auto* grown(Vector& v, std::size_t size) {
  if (v.size() < size) v.resize(size);
  return v.data();
}

// Computes out[i0 : i0+mc, j0 : j0+nc] over the whole of K (k_words words a row, in blocks of at
// most kc_words):
//   dot_panels(kc, a, lda, panels, b, cols, sums, accumulate)  the micro-kernel over A panels;
//   finish(sums, i, rows, j, cols, bias)  one micro-tile's epilogue, bias the panel's NR values
//                                         (zero-padded past cols) or null.
template <int MR, int NR, class Sum, class Scratch, class DotPanels, class Finish>
void run_word_tile(const ProductOperands& g, int k_words, int kc_words, const std::uint32_t* a_words,
                   std::ptrdiff_t lda_words, const std::uint32_t* b_words, int i0, int mc, int j0, int nc,
                   Scratch& scratch, DotPanels dot_panels, Finish finish) {
  const int panels_m = ceil_div(mc, MR), panels_n = ceil_div(nc, NR);
  const int k_blocks = std::max(1, ceil_div(k_words, kc_words));
  const int kc_max = ceil_div(k_words, k_blocks);  // equal blocks: no thin last block
  // Sums of one B panel against the tile's A panels; kept for every B panel between K blocks.
  const std::size_t panel_sums = static_cast<std::size_t>(panels_m) * MR * NR;
  Sum* sums = grown(scratch, panel_sums * (k_blocks > 1 ? panels_n : 1));
  alignas(simd::kAlignment) float bias_tail[NR];

  for (int block = 0; block < k_blocks; ++block) {
    const int pc = block * kc_max;
    const int kc = std::min(kc_max, k_words - pc);
    const bool first = block == 0, last = block == k_blocks - 1;
    for (int jp = 0; jp < panels_n; ++jp) {
      const int j = j0 + jp * NR;
      const int cols = std::min(NR, g.n - j);
      Sum* jp_sums = sums + (k_blocks > 1 ? jp * panel_sums : 0);
      // Panel j / NR of B from word pc on, against A rows i0.. from word pc on.
      dot_panels(kc, a_words + i0 * lda_words + pc, lda_words, panels_m,
                 b_words + static_cast<std::ptrdiff_t>(j) * k_words + static_cast<std::ptrdiff_t>(pc) * NR, cols,
                 jp_sums, !first);
      if (!last) continue;

      const float* bias = panel_bias(g.epilogue.bias, j, cols, bias_tail);
      for (int ip = 0; ip < panels_m; ++ip) {
        const int i = i0 + ip * MR;
        finish(jp_sums + static_cast<std::size_t>(ip) * MR * NR, i, std::min(MR, g.m - i), j, cols, bias);
      }
    }
  }
}

}  // namespace vitscope::kernels::gemm_detail
