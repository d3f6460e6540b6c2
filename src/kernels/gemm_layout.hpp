#pragma once
// Register and cache blocking of the GEMM, and the packed layouts the micro-kernel streams.
//
// Micro-tile: kMR rows × kNR columns of the output live in registers (kMR · kNR / kLanes
// accumulators) while the micro-kernel walks k, broadcasting one packed A value per row and loading
// kNR / kLanes B vectors per step.
//
// Packed B (kNR-wide panels, the whole of K each):  data[N/kNR][K][kNR], zero-padded past N.
//   Panel p holds columns [p·kNR, p·kNR + kNR) of bᵀ, so step k of the micro-kernel reads kNR
//   consecutive floats. The layout does not depend on kKC (a K block is an offset into every
//   panel), so weights packed once at load stay valid whatever blocking a call uses.
// A is read in place, kMR rows side by side, each sequentially: the 6 row streams stay in L1 across
// the B panels just as a packed copy would, and packing cost up to 15% of attention's short
// products (measured: q·kᵀ 71 → 84 GFLOP/s, p·v 77 → 104, linear layers 3-8% faster). Packed A
// (kMR-tall panels of one K block, data[M/kMR][kc][kMR], zero-padded past M) remains for a last
// partial panel, whose missing rows must read as zeros, and for the bf16 emulation.
#include <cstddef>

#include "kernels/simd.hpp"

namespace vitscope::kernels::gemm_detail {

// Two vectors wide, kMR rows tall. On Zen 4 a 512-bit FMA issues once per cycle (two 256-bit pipes)
// with 4 cycles of latency, so 4 independent accumulators already saturate it; 6 × 2 = 12 leave
// slack, and per k step the kernel issues 12 FMAs against 2 vector loads and 6 broadcasts, well
// inside the load ports. Measured on that machine (1 thread, ViT shapes): 6×32, 8×32, 12×32 and
// 14×32 tiles were all within noise of each other (102–110 GFLOP/s against a measured 117 GFLOP/s
// FMA peak per core); 6 rows wastes the least on the 197-row (and 394-row) M tail and uses 15 of
// the 16 registers of SSE/AVX2 builds, so one tile shape serves every architecture. On Zen 5 (two
// 512-bit FMA pipes: 8 accumulators in flight needed, 12 available) 6×32, 8×32 and 12×32 again
// measured within noise: 222-240 GFLOP/s per core against a 257 GFLOP/s FMA peak.
constexpr int kNV = 2;                   // B vectors per k step
constexpr int kNR = kNV * simd::kLanes;  // micro-tile width (columns of out)
constexpr int kMR = 6;                   // micro-tile height (rows of out)

// Cache blocking. The packed A block (up to kMC × kKC floats, ~390 KiB) stays in the 1 MiB L2 while
// the B panels stream past it; a kKC × kNR B micro-panel (48 KiB with AVX-512) is read once from
// L2/L3 per A block and reused, via L1 and the prefetchers, by every A panel of the tile. Measured:
// kKC from 192 to 768 and unblocked K are within 3%; below 192 the partial sums kept between K
// blocks start to cost. kNC bounds a tile's width so that the tiles of a call can be shared between
// threads. Packed B is read with unaligned loads: 64-byte alignment of the panels measured no
// faster.
constexpr int kKC = 384;
constexpr int kMC = 256;
constexpr int kNC = 512;

inline int ceil_div(int a, int b) { return (a + b - 1) / b; }
inline int round_up(int a, int b) { return ceil_div(a, b) * b; }

// Floats of a packed B with n rows (outputs) and k columns (reduction).
inline std::size_t packed_b_size(int n, int k) {
  return static_cast<std::size_t>(round_up(n, kNR)) * static_cast<std::size_t>(k);
}

// Packs b[N,K] (row n is output column n: a Linear weight, or kᵀ of attention) into panels.
void pack_b_nk(const float* b, int ldb, int n, int k, float* dst);
// Packs b[K,N] (row k is one step of the reduction: v of attention) into panels.
void pack_b_kn(const float* b, int ldb, int k, int n, float* dst);
// Packs rows [0, m) and columns [0, kc) of a (row stride lda) into kMR-tall panels.
void pack_a(const float* a, int lda, int m, int kc, float* dst);
// The same with every value rounded to the nearest bf16 (the fp32 emulation of bf16 products).
void pack_a_rounded_to_bf16(const float* a, int lda, int m, int kc, float* dst);

}  // namespace vitscope::kernels::gemm_detail
