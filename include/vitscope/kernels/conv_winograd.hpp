#pragma once
// 3×3 stride-1 convolutions by Winograd's minimal filtering F(m×m, 3×3) (Lavin & Gray, 2016), on
// NHWC activations, with output tiles of m = 2 or m = 4 pixels a side.
//
// The output is cut into m×m tiles; each reads an α×α patch of the input, α = m + 2. With the
// fixed matrices Bᵀ [α×α], G [α×3] and Aᵀ [m×α] of the variant (conv_winograd.cpp), a tile of one
// output channel is Aᵀ [Σ_c (G g_c Gᵀ) ⊙ (Bᵀ d_c B)] A. The channel sum of each of the α²
// positions ξ of the transformed tile is a GEMM over the tiles:
//   M_ξ[tiles, N] = V_ξ[tiles, C] · U_ξ[N, C]ᵀ,
// α² products of C·N multiply-adds per tile where the direct convolution does 9·m²: 2.25× fewer
// for F(2×2, 3×3), 4× for F(4×4, 3×3). F(2×2) transforms add and subtract only (its ½ goes into
// the weights at load); F(4×4)'s multiply by up to 8, and its results differ from the direct sum
// by a few times more rounding (measured in tests/kernels/test_conv_winograd.cpp).
#include <vector>

#include "vitscope/core/thread_pool.hpp"
#include "vitscope/kernels/conv.hpp"
#include "vitscope/kernels/gemm.hpp"

namespace vitscope::kernels {

// U_ξ = (G g Gᵀ)_ξ of every (output, input) channel pair, packed as α² GEMM operands [N, C].
struct WinogradWeights {
  int out_channels = 0, in_channels = 0;
  int tile = 2;  // m: output pixels per tile side, 2 or 4
  std::vector<PackedMatrix> transformed;

  // weight[N, 3, 3, C] row-major (the layout conv2d's weight is packed from).
  static WinogradWeights pack(const float* weight, int out_channels, int in_channels, int tile,
                              ThreadPool* pool = nullptr);
};

// The tile size a layer's weights are transformed for, chosen at load: 4 for layers of up to 128
// channels, 2 above. F(4×4)'s weights take 36/9 = 4× the direct ones' memory (F(2×2)'s 16/9), and
// every chunk of tiles reads them; in the CNNs the wide layers are those of few pixels (ResNet:
// 256 and 512 channels at 14×14 and 7×7), where F(4×4)'s 4-pixel tiles would also overhang the edge.
int winograd_tile_for(int in_channels, int out_channels);

// True for the geometries conv2d_winograd computes: kernel 3, stride 1, any padding up to 2 a side.
bool winograd_applies(const ConvGeometry& g);

// True where Winograd is measured faster than im2col + GEMM: at least 24 tiles, so that each of the
// α² products has rows to share the weights over (at a few tiles streaming the transformed
// weights, larger than the direct ones, costs more than the multiplies saved).
bool winograd_pays_off(const ConvGeometry& g, const WinogradWeights& weights);

// out[B,OH,OW,N] = clamp(bias[N] + conv3x3(in[B,H,W,C]) + residual[B,OH,OW,N]), as conv2d with
// the same weights. bias and residual may be null. Requires winograd_applies(g) and weights made
// for C = g.channels.
void conv2d_winograd(const ConvGeometry& g, const float* in, const WinogradWeights& weights,
                     const float* bias, Clamp clamp, float* out, ThreadPool* pool,
                     const float* residual = nullptr);

}  // namespace vitscope::kernels
