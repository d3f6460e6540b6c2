#pragma once
// 3×3 stride-1 convolutions by Winograd's minimal filtering F(2×2, 3×3) (Lavin & Gray, 2016), on
// NHWC activations.
//
// The output is cut into 2×2 tiles; each reads a 4×4 patch of the input. With the fixed matrices
//   Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1],  G = [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1],
//   Aᵀ = [1 1 1 0; 0 1 −1 −1],
// a tile of one output channel is Aᵀ [Σ_c (G g_c Gᵀ) ⊙ (Bᵀ d_c B)] A. The channel sum of each of
// the 16 positions ξ of the 4×4 transformed tile is a GEMM over the tiles:
//   M_ξ[tiles, N] = V_ξ[tiles, C] · U_ξ[N, C]ᵀ,
// 16 products of C·N multiply-adds per tile where the direct convolution does 36 (2.25× fewer).
// The transforms add and subtract only (the ½ of G is applied once, to the weights, at load), so
// the result differs from the direct sum by rounding alone.
#include <array>

#include "vitscope/core/thread_pool.hpp"
#include "vitscope/kernels/conv.hpp"
#include "vitscope/kernels/gemm.hpp"

namespace vitscope::kernels {

// U_ξ = (G g Gᵀ)_ξ of every (output, input) channel pair, packed as 16 GEMM operands [N, C].
struct WinogradWeights {
  int out_channels = 0, in_channels = 0;
  std::array<PackedMatrix, 16> transformed;

  // weight[N, 3, 3, C] row-major (the layout conv2d's weight is packed from).
  static WinogradWeights pack(const float* weight, int out_channels, int in_channels,
                              ThreadPool* pool = nullptr);
};

// True for the geometries conv2d_winograd computes: kernel 3, stride 1, any padding up to 2 a side.
bool winograd_applies(const ConvGeometry& g);

// True where F(2×2, 3×3) is measured faster than im2col + GEMM: enough 2×2 tiles that each of the
// 16 products has rows to share the weights over (the transformed weights are 16/9 the size of the
// direct ones, and at a few tiles streaming them costs more than the multiplies saved).
bool winograd_pays_off(const ConvGeometry& g, int out_channels);

// out[B,OH,OW,N] = clamp(bias[N] + conv3x3(in[B,H,W,C]) + residual[B,OH,OW,N]), as conv2d with
// the same weights. bias and residual may be null. Requires winograd_applies(g) and weights made
// for C = g.channels.
void conv2d_winograd(const ConvGeometry& g, const float* in, const WinogradWeights& weights,
                     const float* bias, Clamp clamp, float* out, ThreadPool* pool,
                     const float* residual = nullptr);

}  // namespace vitscope::kernels
