#pragma once
// Blocking and packed layouts of the int8 GEMM, and the routines that work on them: the
// AVX512-VNNI micro-kernels (gemm_int8_avx512vnni.cpp; call them only when int8_vnni_available())
// and their portable twins (gemm_int8_portable.cpp), which compute the same int32 sums.
//
// vpdpbusd multiplies QUADS of bytes along K (unsigned A by signed B) and adds the four products to
// one int32 lane, so every operand is stored as 32-bit words, each holding four consecutive K
// elements (the first in the low byte); the last quad of a K that is not a multiple of 4 is padded
// with zero bytes in B (they add nothing, whatever A holds there). K4 = ceil(K / 4) quads.
//
// Micro-tile: kMR rows × kNR columns of int32 sums in kMR · kNV zmm accumulators; per quad step the
// kernel loads kNV B vectors (16 columns × 1 quad each) and broadcasts one A quad per row.
//
// Packed B (kNR-wide panels, the whole of K4 each):  quads[N/kNR][K4][kNR], zero-padded past N.
// Quantised A (row-major quads, unsigned: qa + 128):  quads[round_up(M, kMR)][lda4], 0 past M,
//   lda4 = gemm_detail::word_row_stride(K4), as for the bf16 pairs.
//
// This header is also compiled into the AVX512-VNNI file: declarations and constants only (see
// gemm_bf16_layout.hpp for why).
#include <cstddef>
#include <cstdint>

namespace vitscope::kernels::gemm_int8_detail {

constexpr int kZmmInts = 16;  // int32 lanes of a zmm
// 6 × 4 zmm = 24 accumulators + 4 B vectors + 1 broadcast, as the bf16 kernel (vpdpbusd has the
// issue rate and latency of vdpbf16ps on Zen 4).
constexpr int kNV = 4;
constexpr int kNR = kNV * kZmmInts;  // 64
constexpr int kMR = 6;
// Cache blocking, K in quads: an A block of kMC rows × kKC4 quads (256 KiB) stays in L2 while each B
// panel (kKC4 × kNR quads, 128 KiB) streams past it. ViT-B's widest K (3072) is 768 quads: one block.
constexpr int kKC4 = 1024;
constexpr int kMC = 256;
constexpr int kNC = 512;

// 32-bit words of packed B with n rows (outputs) and k columns (reduction).
std::size_t packed_b_quads_size(int n, int k);

// sums[ip][kMR][kNR] (=|+=) Σ_p a[(ip·kMR + r)·lda4 + p] ⊙ b[p][0 : cols) over kc4 quad steps, for
// `panels` panels of kMR rows of A against one kNR-wide panel of B; columns past cols (whole
// vectors of 16) are skipped and hold stale values.
namespace avx512vnni {
void dot_panels(int kc4, const std::uint32_t* a, std::ptrdiff_t lda4, int panels, const std::uint32_t* b,
                int cols, std::int32_t* sums, bool accumulate);
}  // namespace avx512vnni
namespace portable {
void dot_panels(int kc4, const std::uint32_t* a, std::ptrdiff_t lda4, int panels, const std::uint32_t* b,
                int cols, std::int32_t* sums, bool accumulate);
}  // namespace portable

}  // namespace vitscope::kernels::gemm_int8_detail
