#pragma once
// Convolution building blocks of the CNNs, on NHWC activations: [batch, height, width, channels]
// with the channels of a pixel contiguous. In that layout a 1×1 convolution is one GEMM over the
// pixels (rows) and a k×k convolution is a GEMM over im2col patches, both through linear(); a
// depthwise convolution reads consecutive channels of a pixel, which is what the SIMD lanes cover.
//
// Every kernel has a plain-loop *_ref version (src/kernels/reference.hpp) the tests compare
// against. The *_input_grad kernels are the adjoints (transposed operations) used to
// back-propagate to the input; they accumulate into grad_in, since an activation can feed
// several layers.
#include <cmath>
#include <cstddef>
#include <cstdint>

#include "vitscope/kernels/gemm.hpp"
#include "vitscope/core/thread_pool.hpp"

namespace vitscope::kernels {

// Zero padding around the image, in pixels, per side (TensorFlow "same" padding puts the odd
// pixel at the bottom/right).
struct Padding2d {
  int top = 0, left = 0, bottom = 0, right = 0;
};

// A square kernel sliding over an NHWC batch.
struct ConvGeometry {
  int batch = 1, height = 0, width = 0, channels = 0;  // the input
  int kernel = 1, stride = 1;
  Padding2d pad;

  int out_height() const { return (height + pad.top + pad.bottom - kernel) / stride + 1; }
  int out_width() const { return (width + pad.left + pad.right - kernel) / stride + 1; }
  std::int64_t in_pixels() const { return std::int64_t{batch} * height * width; }
  std::int64_t out_pixels() const { return std::int64_t{batch} * out_height() * out_width(); }
  int patch_size() const { return kernel * kernel * channels; }  // K of the im2col GEMM
};

// Throws std::invalid_argument when the geometry has no output or a non-positive size.
void check_geometry(const ConvGeometry& g, const char* kernel_name);

// The nonlinearity after a convolution: clamp to [lo, hi]. Identity, ReLU and ReLU6 are clamps.
struct Clamp {
  float lo = -INFINITY, hi = INFINITY;
  static Clamp none() { return {}; }
  static Clamp relu() { return {0.0f, INFINITY}; }
  static Clamp relu6() { return {0.0f, 6.0f}; }
  bool is_none() const { return lo == -INFINITY && hi == INFINITY; }
};

// ---- depthwise 3×3 -------------------------------------------------------------------------
// out[b,oy,ox,c] = clamp(bias[c] + Σ_{ky,kx<3} w[ky,kx,c] · in[b, oy·s+ky−top, ox·s+kx−left, c])
// in[B,H,W,C], w[3,3,C], bias[C] (may be null), out[B,OH,OW,C]; g.kernel must be 3.
void depthwise_conv3x3(const ConvGeometry& g, const float* in, const float* weight,
                       const float* bias, Clamp clamp, float* out, ThreadPool* pool);

// grad_in[b,iy,ix,c] += Σ w[ky,kx,c] · grad_out[b,oy,ox,c] over the outputs that read (iy, ix).
void depthwise_conv3x3_input_grad(const ConvGeometry& g, const float* grad_out,
                                  const float* weight, float* grad_in);

// ---- dense k×k convolution (im2col + GEMM) ---------------------------------------------------
// cols[r − row_begin, (ky·k + kx)·C + c] = in[b, oy·s+ky−top, ox·s+kx−left, c] (0 in the padding)
// for the output pixels r = (b·OH + oy)·OW + ox in [row_begin, row_end).
void im2col(const ConvGeometry& g, const float* in, std::int64_t row_begin, std::int64_t row_end,
            float* cols);
// The adjoint of im2col: grad_in[b,iy,ix,c] += every cols entry im2col would have read from there.
void col2im_add(const ConvGeometry& g, const float* cols, std::int64_t row_begin,
                std::int64_t row_end, float* grad_in);

// out[B,OH,OW,N] = clamp(bias[N] + conv(in[B,H,W,C], w[N, k, k, C]) + residual[B,OH,OW,N]), the
// weight packed as [N, k·k·C], residual null for none (a residual connection and its ReLU fused
// into the convolution that ends the block). A 1×1 stride-1 unpadded convolution is a single
// linear() over the pixels; other shapes go through im2col in chunks of output rows
// (thread-local scratch, grown once). out must not overlap in.
void conv2d(const ConvGeometry& g, const float* in, const PackedMatrix& weight, const float* bias,
            Clamp clamp, float* out, ThreadPool* pool, const float* residual = nullptr);

// grad_in[B,H,W,C] += convᵀ(grad_out[B,OH,OW,N]) with w[N, k·k·C] row-major (not packed):
// patches = grad_out · w, then col2im.
void conv2d_input_grad(const ConvGeometry& g, const float* grad_out, const float* weight,
                       int out_channels, float* grad_in, ThreadPool* pool);

// ---- pooling and element-wise ---------------------------------------------------------------
// out[b,oy,ox,c] = max over the window of in (padding never wins, as PyTorch's -inf padding).
void max_pool(const ConvGeometry& g, const float* in, float* out, ThreadPool* pool);
// grad_in += grad_out routed to the first maximum of each window in row-major scan order (the
// element PyTorch's max_pool2d records as the argmax).
void max_pool_input_grad(const ConvGeometry& g, const float* in, const float* grad_out,
                         float* grad_in);

// out[b, c] = mean over the pixels of in[b, pixels, c].
void global_average_pool(const float* in, int batch, int pixels, int channels, float* out);

// x[i] = clamp(x[i]) for i < n, in place.
void clamp_inplace(float* x, std::size_t n, Clamp clamp, ThreadPool* pool);
// out[i] = clamp(a[i] + b[i]) (a residual connection followed by its ReLU).
void add_clamp(const float* a, const float* b, std::size_t n, Clamp clamp, float* out,
               ThreadPool* pool);
// grad[i] = 0 where the clamp was saturated: kept where lo < y[i] < hi, y being the clamp's
// output (ReLU: y > 0, ReLU6: 0 < y < 6, as PyTorch's relu / hardtanh backward).
void clamp_backward_inplace(const float* y, std::size_t n, Clamp clamp, float* grad);

}  // namespace vitscope::kernels
