// Dense k×k convolutions as GEMMs: im2col gathers each output pixel's receptive field into a row,
// linear() multiplies the rows by the packed weight. The backward pass is the same in reverse:
// grad_out · w gives the patches' gradients, col2im scatters them back onto the input.
#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <string>

#include "kernels/parallel.hpp"
#include "kernels/simd.hpp"
#include "vitscope/kernels/conv.hpp"

namespace vitscope::kernels {
namespace {

// im2col scratch is bounded to this many floats (4 MiB), so a large early layer (ResNet's 7×7 on
// 112×112 outputs: 147 floats per pixel) goes through in several GEMMs instead of one huge buffer.
constexpr std::int64_t kMaxPatchFloats = std::int64_t{1} << 20;
// Fewer rows than this per GEMM would starve the micro-kernel and the threads.
constexpr std::int64_t kMinChunkRows = 64;

bool is_pointwise(const ConvGeometry& g) {
  return g.kernel == 1 && g.stride == 1 && g.pad.top == 0 && g.pad.left == 0 &&
         g.pad.bottom == 0 && g.pad.right == 0;
}

std::int64_t chunk_rows(const ConvGeometry& g) {
  return std::max(kMinChunkRows, kMaxPatchFloats / std::max(1, g.patch_size()));
}

float* scratch(std::size_t floats) {
  thread_local simd::AlignedVector buffer;
  if (buffer.size() < floats) buffer.resize(floats);
  return buffer.data();
}

// The kernel columns [kx0, kx1) of output column ox that fall inside the input row.
void valid_taps(const ConvGeometry& g, int ox, int& kx0, int& kx1) {
  const int ix0 = ox * g.stride - g.pad.left;
  kx0 = std::max(0, -ix0);
  kx1 = std::min(g.kernel, g.width - ix0);
  if (kx1 < kx0) kx1 = kx0;
}

void add_to(float* dst, const float* src, int n) {
  const int body = n - n % simd::kLanes;
  for (int i = 0; i < body; i += simd::kLanes)
    (xsimd::load_unaligned(dst + i) + xsimd::load_unaligned(src + i)).store_unaligned(dst + i);
  for (int i = body; i < n; ++i) dst[i] += src[i];
}

}  // namespace

void im2col(const ConvGeometry& g, const float* in, std::int64_t row_begin, std::int64_t row_end,
            float* cols) {
  const int OH = g.out_height(), OW = g.out_width(), C = g.channels, k = g.kernel;
  const std::size_t K = static_cast<std::size_t>(g.patch_size());
  for (std::int64_t r = row_begin; r < row_end; ++r) {
    const int ox = static_cast<int>(r % OW), oy = static_cast<int>((r / OW) % OH);
    const std::int64_t b = r / (std::int64_t{OW} * OH);
    float* row = cols + static_cast<std::size_t>(r - row_begin) * K;
    int kx0, kx1;
    valid_taps(g, ox, kx0, kx1);
    const int ix0 = ox * g.stride - g.pad.left;
    for (int ky = 0; ky < k; ++ky) {
      float* dst = row + static_cast<std::size_t>(ky) * k * C;
      const int iy = oy * g.stride + ky - g.pad.top;
      if (iy < 0 || iy >= g.height || kx0 == kx1) {
        std::fill(dst, dst + static_cast<std::size_t>(k) * C, 0.0f);
        continue;
      }
      // The valid taps of a kernel row read consecutive input pixels: one copy.
      std::fill(dst, dst + static_cast<std::size_t>(kx0) * C, 0.0f);
      const float* src = in + ((b * g.height + iy) * g.width + ix0 + kx0) * C;
      std::memcpy(dst + static_cast<std::size_t>(kx0) * C, src,
                  sizeof(float) * static_cast<std::size_t>(kx1 - kx0) * C);
      std::fill(dst + static_cast<std::size_t>(kx1) * C, dst + static_cast<std::size_t>(k) * C, 0.0f);
    }
  }
}

void col2im_add(const ConvGeometry& g, const float* cols, std::int64_t row_begin,
                std::int64_t row_end, float* grad_in) {
  const int OH = g.out_height(), OW = g.out_width(), C = g.channels, k = g.kernel;
  const std::size_t K = static_cast<std::size_t>(g.patch_size());
  for (std::int64_t r = row_begin; r < row_end; ++r) {
    const int ox = static_cast<int>(r % OW), oy = static_cast<int>((r / OW) % OH);
    const std::int64_t b = r / (std::int64_t{OW} * OH);
    const float* row = cols + static_cast<std::size_t>(r - row_begin) * K;
    int kx0, kx1;
    valid_taps(g, ox, kx0, kx1);
    if (kx0 == kx1) continue;
    const int ix0 = ox * g.stride - g.pad.left;
    for (int ky = 0; ky < k; ++ky) {
      const int iy = oy * g.stride + ky - g.pad.top;
      if (iy < 0 || iy >= g.height) continue;
      float* dst = grad_in + ((b * g.height + iy) * g.width + ix0 + kx0) * C;
      add_to(dst, row + (static_cast<std::size_t>(ky) * k + kx0) * C, (kx1 - kx0) * C);
    }
  }
}

void conv2d(const ConvGeometry& g, const float* in, const PackedMatrix& weight, const float* bias,
            Clamp clamp, float* out, ThreadPool* pool, const float* residual) {
  check_geometry(g, "conv2d");
  const int K = g.patch_size(), N = weight.rows();
  if (weight.cols() != K)
    throw std::invalid_argument("conv2d: weight has " + std::to_string(weight.cols()) +
                                " columns, the patches " + std::to_string(K));
  const std::int64_t M = g.out_pixels();
  LinearEpilogue epilogue;
  epilogue.bias = bias;
  epilogue.residual = residual;
  epilogue.lo = clamp.lo;
  epilogue.hi = clamp.hi;
  if (is_pointwise(g)) {
    linear(in, K, static_cast<int>(M), weight, out, N, epilogue, pool);
    return;
  }
  const std::int64_t chunk = std::min(M, chunk_rows(g));
  float* cols = scratch(static_cast<std::size_t>(chunk) * K);
  for (std::int64_t begin = 0; begin < M; begin += chunk) {
    const std::int64_t end = std::min(M, begin + chunk);
    parallel_ranges(pool, static_cast<std::size_t>(end - begin), 32,
                    [&](std::size_t lo, std::size_t hi) {
                      im2col(g, in, begin + static_cast<std::int64_t>(lo),
                             begin + static_cast<std::int64_t>(hi),
                             cols + lo * static_cast<std::size_t>(K));
                    });
    const std::size_t first = static_cast<std::size_t>(begin) * N;
    epilogue.residual = residual ? residual + first : nullptr;
    linear(cols, K, static_cast<int>(end - begin), weight, out + first, N, epilogue, pool);
  }
}

void conv2d_input_grad(const ConvGeometry& g, const float* grad_out, const float* weight,
                       int out_channels, float* grad_in, ThreadPool* pool) {
  check_geometry(g, "conv2d_input_grad");
  const int K = g.patch_size(), N = out_channels;
  const std::int64_t M = g.out_pixels();
  const std::int64_t chunk = std::min(M, chunk_rows(g));
  float* cols = scratch(static_cast<std::size_t>(chunk) * K);
  for (std::int64_t begin = 0; begin < M; begin += chunk) {
    const std::int64_t end = std::min(M, begin + chunk);
    // cols[rows, K] = grad_out[rows, N] · w[N, K]
    gemm_ab(static_cast<int>(end - begin), K, N, grad_out + static_cast<std::size_t>(begin) * N, N,
            weight, K, cols, K, pool);
    col2im_add(g, cols, begin, end, grad_in);
  }
}

}  // namespace vitscope::kernels
