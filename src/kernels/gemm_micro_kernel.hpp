#pragma once
// The register-blocked inner kernel: one kMR × kNR tile of out over one K block.
#include "kernels/gemm_driver.hpp"
#include "kernels/gemm_epilogue.hpp"
#include "kernels/gemm_layout.hpp"
#include "kernels/simd.hpp"

namespace vitscope::kernels::gemm_detail {

using simd::Batch;
using simd::kLanes;

// Where a micro-tile's sums come from and go to.
struct MicroTileIo {
  const float* partial_in =
      nullptr;                   // [kMR][kNR] sums of the earlier K blocks, or null (first block)
  float* partial_out = nullptr;  // [kMR][kNR] to keep the sums for a later K block, or null
  // Used on the last K block (partial_out == null): the output tile, its valid extent, and
  // kNR bias values (zero-padded past cols) or null.
  float* out = nullptr;
  int ldo = 0;
  int rows = 0;
  int cols = 0;
  const float* bias = nullptr;
  const float* residual = nullptr;  // the tile's residual rows (row stride ldo), or null
  const Epilogue* epilogue = nullptr;
};

template <int NV>
using Accumulators = Batch[kMR][NV];

// out[rows, cols] (=|+=) act(alpha · acc + bias) for the valid part of the tile.
template <int NV>
inline void finish_tile(Accumulators<NV>& acc, const MicroTileIo& io) {
  for (int r = 0; r < io.rows; ++r) {
    const std::ptrdiff_t row = static_cast<std::ptrdiff_t>(r) * io.ldo;
    finish_row(acc[r], io.bias, io.residual ? io.residual + row : nullptr, io.out + row, io.cols,
               *io.epilogue);
  }
}

// acc[kMR, NV·kLanes] (+)= A[kMR, kc] · bp[kc][kNR]: kc rank-1 updates of the register tile.
// A is a packed panel ap[kc][kMR] (kDirectA false), or kMR rows of A read in place,
// ap[r·lda + p] (kDirectA true; see gemm_layout.hpp). NV = kNV covers a whole panel; NV < kNV covers only its first NV·kLanes columns, for a
// last panel that is mostly padding (attention's 197 keys leave 5 columns of the last 32-wide one).
// ROWS < kMR computes only the first ROWS rows of a packed panel: the last panel of an M that kMR
// does not divide (ResNet's 7×7 = 49 pixels: 8 full panels and 1 row, which the full kernel would
// compute as 6).
template <int NV = kNV, bool kDirectA = false, int ROWS = kMR>
inline void micro_kernel(int kc, const float* ap, int lda, const float* bp, const MicroTileIo& io) {
  static_assert(NV >= 1 && NV <= kNV, "a micro-tile is at most one panel wide");
  static_assert(ROWS >= 1 && ROWS <= kMR, "a micro-tile is at most kMR rows tall");
  Accumulators<NV> acc;
#pragma GCC unroll 16
  for (int r = 0; r < ROWS; ++r) {
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) {
      acc[r][v] =
          io.partial_in ? xsimd::load_aligned(io.partial_in + r * kNR + v * kLanes) : Batch(0.0f);
    }
  }

  for (int p = 0; p < kc; ++p) {
    Batch b[NV];
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) b[v] = xsimd::load_unaligned(bp + v * kLanes);
#pragma GCC unroll 16
    for (int r = 0; r < ROWS; ++r) {
      const Batch a(kDirectA ? ap[r * lda] : ap[r]);
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) acc[r][v] = xsimd::fma(a, b[v], acc[r][v]);
    }
    ap += kDirectA ? 1 : kMR;
    bp += kNR;
  }

  if (io.partial_out) {
#pragma GCC unroll 16
    for (int r = 0; r < ROWS; ++r) {
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) acc[r][v].store_aligned(io.partial_out + r * kNR + v * kLanes);
    }
    return;
  }
  finish_tile<NV>(acc, io);  // io.rows <= ROWS
}

}  // namespace vitscope::kernels::gemm_detail
