// F(2×2, 3×3) Winograd convolution: the tiles are cut into chunks, and each thread takes whole
// chunks through the three steps (input transform, 16 GEMMs, output transform), so that a chunk's
// transformed input and products stay in that core's cache between the steps.
#include "vitscope/kernels/conv_winograd.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

#include "kernels/simd.hpp"
#include "vitscope/kernels/cpu_features.hpp"

namespace vitscope::kernels {
namespace {

constexpr int kPositions = 16;  // 4×4 transformed tile

// The tiles of the output: 2×2 output pixels each, numbered (b · tiles_y + ty) · tiles_x + tx.
struct TileGrid {
  int out_h = 0, out_w = 0, tiles_y = 0, tiles_x = 0;
  std::int64_t count = 0;
  explicit TileGrid(const ConvGeometry& g)
      : out_h(g.out_height()), out_w(g.out_width()), tiles_y((out_h + 1) / 2),
        tiles_x((out_w + 1) / 2), count(std::int64_t{g.batch} * tiles_y * tiles_x) {}
};

// v = Bᵀ d B for one 4×4 input patch d[row][col]; v[4·i + j] is position (i, j).
template <class T>
inline void transform_input(const T (&d)[4][4], T (&v)[kPositions]) {
  T t[4][4];
  for (int j = 0; j < 4; ++j) {
    t[0][j] = d[0][j] - d[2][j];
    t[1][j] = d[1][j] + d[2][j];
    t[2][j] = d[2][j] - d[1][j];
    t[3][j] = d[1][j] - d[3][j];
  }
  for (int i = 0; i < 4; ++i) {
    v[4 * i + 0] = t[i][0] - t[i][2];
    v[4 * i + 1] = t[i][1] + t[i][2];
    v[4 * i + 2] = t[i][2] - t[i][1];
    v[4 * i + 3] = t[i][1] - t[i][3];
  }
}

// y = Aᵀ m A: the 2×2 output tile from the 16 channel sums m.
template <class T>
inline void transform_output(const T (&m)[kPositions], T (&y)[2][2]) {
  T t[2][4];
  for (int j = 0; j < 4; ++j) {
    t[0][j] = m[j] + m[4 + j] + m[8 + j];
    t[1][j] = m[4 + j] - m[8 + j] - m[12 + j];
  }
  for (int i = 0; i < 2; ++i) {
    y[i][0] = t[i][0] + t[i][1] + t[i][2];
    y[i][1] = t[i][1] - t[i][2] - t[i][3];
  }
}

// v[ξ][t][C] for the tiles [t0, t0 + tc): each tile's 4×4 input patch (zeros outside the image)
// transformed, channels in SIMD lanes.
void transform_input_chunk(const ConvGeometry& g, const TileGrid& grid, const float* in,
                           std::int64_t t0, int tc, float* v) {
  const int C = g.channels;
  const std::size_t position_stride = static_cast<std::size_t>(tc) * C;
  const int body = C - C % simd::kLanes;
  for (int lt = 0; lt < tc; ++lt) {
    const std::int64_t t = t0 + lt;
    const int tx = static_cast<int>(t % grid.tiles_x), ty = static_cast<int>((t / grid.tiles_x) % grid.tiles_y);
    const std::int64_t b = t / (std::int64_t{grid.tiles_x} * grid.tiles_y);
    const float* src[4][4];
    for (int i = 0; i < 4; ++i) {
      const int iy = 2 * ty + i - g.pad.top;
      for (int j = 0; j < 4; ++j) {
        const int ix = 2 * tx + j - g.pad.left;
        src[i][j] = (iy >= 0 && iy < g.height && ix >= 0 && ix < g.width)
                        ? in + ((b * g.height + iy) * g.width + ix) * C
                        : nullptr;
      }
    }
    float* dst = v + static_cast<std::size_t>(lt) * C;
    for (int c = 0; c < body; c += simd::kLanes) {
      simd::Batch d[4][4], out[kPositions];
      for (int i = 0; i < 4; ++i)
        for (int j = 0; j < 4; ++j)
          d[i][j] = src[i][j] ? xsimd::load_unaligned(src[i][j] + c) : simd::Batch(0.0f);
      transform_input(d, out);
      for (int p = 0; p < kPositions; ++p) out[p].store_unaligned(dst + p * position_stride + c);
    }
    for (int c = body; c < C; ++c) {
      float d[4][4], out[kPositions];
      for (int i = 0; i < 4; ++i)
        for (int j = 0; j < 4; ++j) d[i][j] = src[i][j] ? src[i][j][c] : 0.0f;
      transform_input(d, out);
      for (int p = 0; p < kPositions; ++p) dst[p * position_stride + c] = out[p];
    }
  }
}

// out = clamp(Aᵀ m A + bias + residual) for the tiles [t0, t0 + tc), from m[ξ][t][N]; pixels of a tile past
// the output's edge are dropped.
void transform_output_chunk(const TileGrid& grid, int N, const float* m, std::int64_t t0, int tc,
                            const float* bias, const float* residual, Clamp clamp, float* out) {
  const std::size_t position_stride = static_cast<std::size_t>(tc) * N;
  const int body = N - N % simd::kLanes;
  const bool clamped = !clamp.is_none();
  const simd::Batch lo(clamp.lo), hi(clamp.hi);
  for (int lt = 0; lt < tc; ++lt) {
    const std::int64_t t = t0 + lt;
    const int tx = static_cast<int>(t % grid.tiles_x), ty = static_cast<int>((t / grid.tiles_x) % grid.tiles_y);
    const std::int64_t b = t / (std::int64_t{grid.tiles_x} * grid.tiles_y);
    const int rows = std::min(2, grid.out_h - 2 * ty), cols = std::min(2, grid.out_w - 2 * tx);
    float* dst[2][2];
    const float* res[2][2];
    for (int i = 0; i < 2; ++i)
      for (int j = 0; j < 2; ++j) {
        const std::int64_t pixel = (b * grid.out_h + 2 * ty + i) * grid.out_w + 2 * tx + j;
        dst[i][j] = out + pixel * N;
        res[i][j] = residual ? residual + pixel * N : nullptr;
      }
    const float* src = m + static_cast<std::size_t>(lt) * N;
    for (int n = 0; n < body; n += simd::kLanes) {
      simd::Batch s[kPositions], y[2][2];
      for (int p = 0; p < kPositions; ++p) s[p] = xsimd::load_unaligned(src + p * position_stride + n);
      transform_output(s, y);
      const simd::Batch shift = bias ? xsimd::load_unaligned(bias + n) : simd::Batch(0.0f);
      for (int i = 0; i < rows; ++i)
        for (int j = 0; j < cols; ++j) {
          simd::Batch r = y[i][j] + shift;
          if (residual) r += xsimd::load_unaligned(res[i][j] + n);
          if (clamped) r = xsimd::min(xsimd::max(r, lo), hi);
          r.store_unaligned(dst[i][j] + n);
        }
    }
    for (int n = body; n < N; ++n) {
      float s[kPositions], y[2][2];
      for (int p = 0; p < kPositions; ++p) s[p] = src[p * position_stride + n];
      transform_output(s, y);
      for (int i = 0; i < rows; ++i)
        for (int j = 0; j < cols; ++j) {
          const float r = y[i][j] + (bias ? bias[n] : 0.0f) + (residual ? res[i][j][n] : 0.0f);
          dst[i][j][n] = clamped ? std::min(std::max(r, clamp.lo), clamp.hi) : r;
        }
    }
  }
}

// Tiles per chunk: the chunk's transformed input and products ([16][tc][C + N] floats) within
// ~768 KiB of the 1 MiB L2, but at least 48 rows per product, below which reading the transformed
// weights (C·N floats per position) for each chunk costs more than the chunk's multiplies.
int chunk_tiles(int C, int N) {
  constexpr int kCacheFloats = 768 * 1024 / 4;
  constexpr int kMinRows = 48;
  return std::max(kMinRows, kCacheFloats / (kPositions * (C + N)));
}

}  // namespace

WinogradWeights WinogradWeights::pack(const float* weight, int out_channels, int in_channels,
                                      ThreadPool* pool) {
  if (out_channels <= 0 || in_channels <= 0)
    throw std::invalid_argument("WinogradWeights::pack: " + std::to_string(out_channels) + " outputs, " +
                                std::to_string(in_channels) + " inputs");
  const int N = out_channels, C = in_channels;
  std::vector<std::vector<float>> u(kPositions, std::vector<float>(static_cast<std::size_t>(N) * C));
  for (int n = 0; n < N; ++n)
    for (int c = 0; c < C; ++c) {
      double g[3][3];
      for (int ky = 0; ky < 3; ++ky)
        for (int kx = 0; kx < 3; ++kx)
          g[ky][kx] = weight[((static_cast<std::size_t>(n) * 3 + ky) * 3 + kx) * C + c];
      double gg[4][3];  // G g
      for (int kx = 0; kx < 3; ++kx) {
        gg[0][kx] = g[0][kx];
        gg[1][kx] = 0.5 * (g[0][kx] + g[1][kx] + g[2][kx]);
        gg[2][kx] = 0.5 * (g[0][kx] - g[1][kx] + g[2][kx]);
        gg[3][kx] = g[2][kx];
      }
      for (int i = 0; i < 4; ++i) {  // (G g) Gᵀ
        const double row[4] = {gg[i][0], 0.5 * (gg[i][0] + gg[i][1] + gg[i][2]),
                               0.5 * (gg[i][0] - gg[i][1] + gg[i][2]), gg[i][2]};
        for (int j = 0; j < 4; ++j)
          u[4 * i + j][static_cast<std::size_t>(n) * C + c] = static_cast<float>(row[j]);
      }
    }
  WinogradWeights w;
  w.out_channels = N;
  w.in_channels = C;
  for (int p = 0; p < kPositions; ++p) w.transformed[p] = PackedMatrix::pack(u[p].data(), N, C, C, pool);
  return w;
}

bool winograd_applies(const ConvGeometry& g) { return g.kernel == 3 && g.stride == 1; }

bool winograd_pays_off(const ConvGeometry& g, int out_channels) {
  // VITSCOPE_DISABLE_WINOGRAD=1 runs every convolution as im2col + GEMM (for timing one against
  // the other in the same binary). Read once.
  static const bool disabled = kernels_disabled_by_env_value(std::getenv("VITSCOPE_DISABLE_WINOGRAD"));
  (void)out_channels;
  return !disabled && winograd_applies(g) && TileGrid(g).count >= 24;
}

void conv2d_winograd(const ConvGeometry& g, const float* in, const WinogradWeights& weights,
                     const float* bias, Clamp clamp, float* out, ThreadPool* pool,
                     const float* residual) {
  check_geometry(g, "conv2d_winograd");
  if (!winograd_applies(g))
    throw std::invalid_argument("conv2d_winograd: kernel " + std::to_string(g.kernel) + ", stride " +
                                std::to_string(g.stride) + " (needs 3 and 1)");
  if (weights.in_channels != g.channels)
    throw std::invalid_argument("conv2d_winograd: weights for " + std::to_string(weights.in_channels) +
                                " input channels, the input has " + std::to_string(g.channels));
  const TileGrid grid(g);
  const int C = g.channels, N = weights.out_channels;
  const int threads = pool ? pool->size() : 1;
  // Every thread gets a chunk when there are few tiles.
  const int tc = static_cast<int>(std::min<std::int64_t>(
      chunk_tiles(C, N), std::max<std::int64_t>(1, (grid.count + threads - 1) / threads)));
  const std::int64_t chunks = (grid.count + tc - 1) / tc;
  const int tasks = static_cast<int>(std::min<std::int64_t>(threads, chunks));

  auto run_chunks = [&](int task) {
    thread_local simd::AlignedVector scratch;
    const std::size_t v_size = static_cast<std::size_t>(kPositions) * tc * C;
    const std::size_t m_size = static_cast<std::size_t>(kPositions) * tc * N;
    if (scratch.size() < v_size + m_size) scratch.resize(v_size + m_size);
    float* v = scratch.data();
    float* m = v + v_size;
    for (std::int64_t chunk = task; chunk < chunks; chunk += tasks) {
      const std::int64_t t0 = chunk * tc;
      const int rows = static_cast<int>(std::min<std::int64_t>(tc, grid.count - t0));
      transform_input_chunk(g, grid, in, t0, rows, v);
      // M_ξ[rows, N] = V_ξ[rows, C] · U_ξ[N, C]ᵀ; position ξ's rows are rows·C floats apart.
      for (int p = 0; p < kPositions; ++p)
        linear(v + static_cast<std::size_t>(p) * rows * C, C, rows, weights.transformed[p],
               m + static_cast<std::size_t>(p) * rows * N, N, {}, nullptr);
      transform_output_chunk(grid, N, m, t0, rows, bias, residual, clamp, out);
    }
  };
  if (tasks <= 1) {
    run_chunks(0);
  } else {
    pool->run(tasks, run_chunks);
  }
}

}  // namespace vitscope::kernels
