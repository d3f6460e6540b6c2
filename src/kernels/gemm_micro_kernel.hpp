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
  const Epilogue* epilogue = nullptr;
};

using Accumulators = Batch[kMR][kNV];

// out[rows, cols] (=|+=) act(alpha · acc + bias) for the valid part of the tile.
inline void finish_tile(Accumulators& acc, const MicroTileIo& io) {
  for (int r = 0; r < io.rows; ++r) {
    finish_row(acc[r], io.bias, io.out + static_cast<std::ptrdiff_t>(r) * io.ldo, io.cols,
               *io.epilogue);
  }
}

// acc[kMR, kNR] (+)= ap[kc][kMR] ⊗ bp[kc][kNR]: kc rank-1 updates of the register tile.
inline void micro_kernel(int kc, const float* ap, const float* bp, const MicroTileIo& io) {
  Accumulators acc;
#pragma GCC unroll 16
  for (int r = 0; r < kMR; ++r) {
#pragma GCC unroll 4
    for (int v = 0; v < kNV; ++v) {
      acc[r][v] =
          io.partial_in ? xsimd::load_aligned(io.partial_in + r * kNR + v * kLanes) : Batch(0.0f);
    }
  }

  for (int p = 0; p < kc; ++p) {
    Batch b[kNV];
#pragma GCC unroll 4
    for (int v = 0; v < kNV; ++v) b[v] = xsimd::load_unaligned(bp + v * kLanes);
#pragma GCC unroll 16
    for (int r = 0; r < kMR; ++r) {
      const Batch a(ap[r]);
#pragma GCC unroll 4
      for (int v = 0; v < kNV; ++v) acc[r][v] = xsimd::fma(a, b[v], acc[r][v]);
    }
    ap += kMR;
    bp += kNR;
  }

  if (io.partial_out) {
#pragma GCC unroll 16
    for (int r = 0; r < kMR; ++r) {
#pragma GCC unroll 4
      for (int v = 0; v < kNV; ++v) acc[r][v].store_aligned(io.partial_out + r * kNR + v * kLanes);
    }
    return;
  }
  finish_tile(acc, io);
}

}  // namespace vitscope::kernels::gemm_detail
