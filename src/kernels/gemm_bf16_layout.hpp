#pragma once
// Blocking and packed layouts of the bf16 GEMM, and the AVX512-BF16 routines that work on them
// (defined in gemm_bf16_avx512bf16.cpp; call them only when bf16_hardware_available()).
//
// vdpbf16ps multiplies PAIRS of bf16 along K and adds both products to one fp32 lane, so every
// operand is stored as 32-bit words, each holding two consecutive K elements (the even one in the
// low half); an odd K gets a zero high half in its last pair. K2 = ceil(K / 2) pairs.
//
// Micro-tile: kMR rows × kNR columns of out in kMR · kNV zmm accumulators; per pair step the kernel
// loads kNV B vectors (16 columns × 1 pair each) and broadcasts one A pair per row.
//
// Packed B (kNR-wide panels, the whole of K2 each):  pairs[N/kNR][K2][kNR], zero-padded past N.
//   As for the fp32 layout, a K block is an offset into every panel, so weights packed at load stay
//   valid whatever blocking a call uses.
// Converted A (row-major pairs):                     pairs[round_up(M, kMR)][lda2], 0 past M.
//   A is converted once per call, not packed per tile: the micro-kernel reads its kMR rows as kMR
//   sequential streams, which the prefetchers follow; lda2 keeps those streams in different L1
//   sets (lda2 = gemm_detail::word_row_stride(K2)).
//
// This header is also compiled into the AVX512-BF16 file, so it holds only declarations and
// constants: an inline function defined here could be emitted from that file with AVX-512
// instructions and then be chosen by the linker for every caller.
#include <cstddef>
#include <cstdint>

namespace vitscope::kernels::gemm_bf16_detail {

constexpr int kZmmFloats = 16;  // fp32 lanes of a zmm, = bf16 pairs of a zmm

// 6 × 4 zmm = 24 accumulators + 4 B vectors + 1 broadcast of the 32 registers. vdpbf16ps issues
// once per cycle on Zen 4 with a latency of ~6, so 24 independent chains hide it with room to
// spare, and a pair step is 24 vdpbf16ps against 4 loads and 6 broadcasts. Measured on Zen 4 (1 thread,
// ViT shapes): 6 × 64 and 8 × 48 tiles both reach 205-225 GFLOP/s (~90-95% of the 64 flop/cycle
// peak), 12 × 32 only ~170 (twice the broadcasts). 64 columns fit attention's p·v (N = head dim
// 64) without a half-empty panel, which made it 1.5× faster than with 48; 6 rows waste the least
// on the 197-row M tail.
constexpr int kNV = 4;
constexpr int kNR = kNV * kZmmFloats;  // 64
constexpr int kMR = 6;

// Cache blocking, in pairs for K: the A block (kMC rows × kKC2 pairs, 384 KiB) stays in L2 while
// each B panel (kKC2 × kNR pairs, 96 KiB) streams past it from L2; kNC bounds a tile's width so
// that tiles can be shared between threads. Measured: kKC2 from 192 to 1536 (with kMC 128 to 256) all
// within noise of each other.
constexpr int kKC2 = 384;
constexpr int kMC = 256;
constexpr int kNC = 512;

// 32-bit words of packed B with n rows (outputs) and k columns (reduction).
std::size_t packed_b_pairs_size(int n, int k);

namespace avx512bf16 {

// dst[r][p] = pair(a[r, 2p], a[r, 2p+1]) for r < rows and p < ceil(k/2); dst row stride ld_dst.
void convert_a(const float* a, std::ptrdiff_t lda, int rows, int k, std::uint32_t* dst,
               std::ptrdiff_t ld_dst);

// Packs b[N,K] (row n is output column n: a Linear weight, or kᵀ of attention) into panels.
void pack_b_nk(const float* b, std::ptrdiff_t ldb, int n, int k, std::uint32_t* dst);

// Packs b[K,N] (row k is one step of the reduction: v of attention) into panels.
void pack_b_kn(const float* b, std::ptrdiff_t ldb, int k, int n, std::uint32_t* dst);

// sums[ip][kMR][kNR] (=|+=) a[ip·kMR + r, pairs 0..kc2) · b[pairs 0..kc2)[kNR] for ip < panels:
// one kNR-wide B panel against `panels` kMR-tall panels of converted A (row stride lda2), starting
// at pair 0 of the given pointers. Only the first `cols` columns (1..kNR) are wanted: the sums are
// computed for them rounded up to a whole vector, the rest of each sums row is left as it was.
// accumulate: add to sums instead of overwriting them.
void dot_panels(int kc2, const std::uint32_t* a, std::ptrdiff_t lda2, int panels,
                const std::uint32_t* b, int cols, float* sums, bool accumulate);

}  // namespace avx512bf16
}  // namespace vitscope::kernels::gemm_bf16_detail
