// Winograd convolution F(m×m, 3×3), m = 2 or 4: the tiles are cut into chunks, and each thread takes
// whole chunks through the three steps (input transform, α² GEMMs, output transform), so that a
// chunk's transformed input and products stay in that core's cache between the steps.
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

// The one-dimensional transforms of F(m, 3); the 2-D ones apply them to the columns, then the rows.
template <int M>
struct Transforms;

// F(2, 3): Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1], G = [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1],
// Aᵀ = [1 1 1 0; 0 1 −1 −1].
template <>
struct Transforms<2> {
  static constexpr int kAlpha = 4;
  template <class T>
  static void input(const T (&d)[4], T (&t)[4]) {  // Bᵀ d
    t[0] = d[0] - d[2];
    t[1] = d[1] + d[2];
    t[2] = d[2] - d[1];
    t[3] = d[1] - d[3];
  }
  template <class T>
  static void output(const T (&m)[4], T (&y)[2]) {  // Aᵀ m
    y[0] = m[0] + m[1] + m[2];
    y[1] = m[1] - m[2] - m[3];
  }
  static void weight(const double (&g)[3], double (&u)[4]) {  // G g
    u[0] = g[0];
    u[1] = 0.5 * (g[0] + g[1] + g[2]);
    u[2] = 0.5 * (g[0] - g[1] + g[2]);
    u[3] = g[2];
  }
};

// F(4, 3) on the points 0, 1, −1, 2, −2 (Lavin & Gray):
//   Bᵀ = [4 0 −5 0 1 0; 0 −4 −4 1 1 0; 0 4 −4 −1 1 0; 0 −2 −1 2 1 0; 0 2 −1 −2 1 0; 0 4 0 −5 0 1],
//   G  = [¼ 0 0; −⅙ −⅙ −⅙; −⅙ ⅙ −⅙; 1/24 1/12 ⅙; 1/24 −1/12 ⅙; 0 0 1],
//   Aᵀ = [1 1 1 1 1 0; 0 1 −1 2 −2 0; 0 1 1 4 4 0; 0 1 −1 8 −8 1].
template <>
struct Transforms<4> {
  static constexpr int kAlpha = 6;
  template <class T>
  static void input(const T (&d)[6], T (&t)[6]) {
    const T four(4.0f), five(5.0f), two(2.0f);
    t[0] = four * d[0] - five * d[2] + d[4];
    t[1] = (d[3] + d[4]) - four * (d[1] + d[2]);
    t[2] = (d[4] - d[3]) + four * (d[1] - d[2]);
    t[3] = (d[4] - d[2]) + two * (d[3] - d[1]);
    t[4] = (d[4] - d[2]) - two * (d[3] - d[1]);
    t[5] = four * d[1] - five * d[3] + d[5];
  }
  template <class T>
  static void output(const T (&m)[6], T (&y)[4]) {
    const T two(2.0f), four(4.0f), eight(8.0f);
    const T sum12 = m[1] + m[2], diff12 = m[1] - m[2], sum34 = m[3] + m[4], diff34 = m[3] - m[4];
    y[0] = m[0] + sum12 + sum34;
    y[1] = diff12 + two * diff34;
    y[2] = sum12 + four * sum34;
    y[3] = diff12 + eight * diff34 + m[5];
  }
  static void weight(const double (&g)[3], double (&u)[6]) {
    u[0] = g[0] / 4;
    u[1] = -(g[0] + g[1] + g[2]) / 6;
    u[2] = -(g[0] - g[1] + g[2]) / 6;
    u[3] = g[0] / 24 + g[1] / 12 + g[2] / 6;
    u[4] = g[0] / 24 - g[1] / 12 + g[2] / 6;
    u[5] = g[2];
  }
};

// v = Bᵀ d B for one α×α input patch d[row][col]; v[α·i + j] is position (i, j).
template <int M, class T, int A = Transforms<M>::kAlpha>
inline void transform_input(const T (&d)[A][A], T (&v)[A * A]) {
  T t[A][A];
  for (int j = 0; j < A; ++j) {
    T column[A], out[A];
    for (int i = 0; i < A; ++i) column[i] = d[i][j];
    Transforms<M>::input(column, out);
    for (int i = 0; i < A; ++i) t[i][j] = out[i];
  }
  for (int i = 0; i < A; ++i) {
    T out[A];
    Transforms<M>::input(t[i], out);
    for (int j = 0; j < A; ++j) v[A * i + j] = out[j];
  }
}

// y = Aᵀ m A: the M×M output tile from the α² channel sums m.
template <int M, class T, int A = Transforms<M>::kAlpha>
inline void transform_output(const T (&m)[A * A], T (&y)[M][M]) {
  T t[M][A];
  for (int j = 0; j < A; ++j) {
    T column[A], out[M];
    for (int i = 0; i < A; ++i) column[i] = m[A * i + j];
    Transforms<M>::output(column, out);
    for (int i = 0; i < M; ++i) t[i][j] = out[i];
  }
  for (int i = 0; i < M; ++i) Transforms<M>::output(t[i], y[i]);
}

// The tiles of the output: M×M output pixels each, numbered (b · tiles_y + ty) · tiles_x + tx.
struct TileGrid {
  int side = 0, out_h = 0, out_w = 0, tiles_y = 0, tiles_x = 0;
  std::int64_t count = 0;
  TileGrid(const ConvGeometry& g, int tile)
      : side(tile), out_h(g.out_height()), out_w(g.out_width()), tiles_y((out_h + tile - 1) / tile),
        tiles_x((out_w + tile - 1) / tile), count(std::int64_t{g.batch} * tiles_y * tiles_x) {}
  // (batch, tile row, tile column) of tile t.
  void locate(std::int64_t t, std::int64_t& b, int& ty, int& tx) const {
    tx = static_cast<int>(t % tiles_x);
    ty = static_cast<int>((t / tiles_x) % tiles_y);
    b = t / (std::int64_t{tiles_x} * tiles_y);
  }
};

// v[ξ][t][C] for the tiles [t0, t0 + tc): each tile's α×α input patch (zeros outside the image)
// transformed, channels in SIMD lanes.
template <int M>
void transform_input_chunk(const ConvGeometry& g, const TileGrid& grid, const float* in,
                           std::int64_t t0, int tc, float* v) {
  constexpr int A = Transforms<M>::kAlpha;
  const int C = g.channels;
  const std::size_t position_stride = static_cast<std::size_t>(tc) * C;
  const int body = C - C % simd::kLanes;
  for (int lt = 0; lt < tc; ++lt) {
    std::int64_t b;
    int ty, tx;
    grid.locate(t0 + lt, b, ty, tx);
    const float* src[A][A];
    for (int i = 0; i < A; ++i) {
      const int iy = M * ty + i - g.pad.top;
      for (int j = 0; j < A; ++j) {
        const int ix = M * tx + j - g.pad.left;
        src[i][j] = (iy >= 0 && iy < g.height && ix >= 0 && ix < g.width)
                        ? in + ((b * g.height + iy) * g.width + ix) * C
                        : nullptr;
      }
    }
    float* dst = v + static_cast<std::size_t>(lt) * C;
    for (int c = 0; c < body; c += simd::kLanes) {
      simd::Batch d[A][A], out[A * A];
      for (int i = 0; i < A; ++i)
        for (int j = 0; j < A; ++j)
          d[i][j] = src[i][j] ? xsimd::load_unaligned(src[i][j] + c) : simd::Batch(0.0f);
      transform_input<M>(d, out);
      for (int p = 0; p < A * A; ++p) out[p].store_unaligned(dst + p * position_stride + c);
    }
    for (int c = body; c < C; ++c) {
      float d[A][A], out[A * A];
      for (int i = 0; i < A; ++i)
        for (int j = 0; j < A; ++j) d[i][j] = src[i][j] ? src[i][j][c] : 0.0f;
      transform_input<M>(d, out);
      for (int p = 0; p < A * A; ++p) dst[p * position_stride + c] = out[p];
    }
  }
}

// out = clamp(Aᵀ m A + bias + residual) for the tiles [t0, t0 + tc), from m[ξ][t][N]; pixels of a
// tile past the output's edge are dropped.
template <int M>
void transform_output_chunk(const TileGrid& grid, int N, const float* m, std::int64_t t0, int tc,
                            const float* bias, const float* residual, Clamp clamp, float* out) {
  constexpr int A = Transforms<M>::kAlpha;
  const std::size_t position_stride = static_cast<std::size_t>(tc) * N;
  const int body = N - N % simd::kLanes;
  const bool clamped = !clamp.is_none();
  const simd::Batch lo(clamp.lo), hi(clamp.hi);
  for (int lt = 0; lt < tc; ++lt) {
    std::int64_t b;
    int ty, tx;
    grid.locate(t0 + lt, b, ty, tx);
    const int rows = std::min(M, grid.out_h - M * ty), cols = std::min(M, grid.out_w - M * tx);
    float* dst[M][M];
    const float* res[M][M];
    for (int i = 0; i < rows; ++i)
      for (int j = 0; j < cols; ++j) {
        const std::int64_t pixel = (b * grid.out_h + M * ty + i) * grid.out_w + M * tx + j;
        dst[i][j] = out + pixel * N;
        res[i][j] = residual ? residual + pixel * N : nullptr;
      }
    const float* src = m + static_cast<std::size_t>(lt) * N;
    for (int n = 0; n < body; n += simd::kLanes) {
      simd::Batch s[A * A], y[M][M];
      for (int p = 0; p < A * A; ++p) s[p] = xsimd::load_unaligned(src + p * position_stride + n);
      transform_output<M>(s, y);
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
      float s[A * A], y[M][M];
      for (int p = 0; p < A * A; ++p) s[p] = src[p * position_stride + n];
      transform_output<M>(s, y);
      for (int i = 0; i < rows; ++i)
        for (int j = 0; j < cols; ++j) {
          const float r = y[i][j] + (bias ? bias[n] : 0.0f) + (residual ? res[i][j][n] : 0.0f);
          dst[i][j][n] = clamped ? std::min(std::max(r, clamp.lo), clamp.hi) : r;
        }
    }
  }
}

// Tiles per chunk: the chunk's transformed input and products ([α²][tc][C + N] floats) within
// ~768 KiB of the 1 MiB L2, but at least 48 rows per product, below which reading the transformed
// weights (C·N floats per position) for each chunk costs more than the chunk's multiplies.
int chunk_tiles(int positions, int C, int N) {
  constexpr int kCacheFloats = 768 * 1024 / 4;
  constexpr int kMinRows = 48;
  return std::max(kMinRows, kCacheFloats / (positions * (C + N)));
}

template <int M>
void run_winograd(const ConvGeometry& g, const float* in, const WinogradWeights& weights,
                  const float* bias, Clamp clamp, float* out, ThreadPool* pool, const float* residual) {
  constexpr int kPositions = Transforms<M>::kAlpha * Transforms<M>::kAlpha;
  const TileGrid grid(g, M);
  const int C = g.channels, N = weights.out_channels;
  const int threads = pool ? pool->size() : 1;
  // Every thread gets a chunk when there are few tiles.
  const int tc = static_cast<int>(std::min<std::int64_t>(
      chunk_tiles(kPositions, C, N), std::max<std::int64_t>(1, (grid.count + threads - 1) / threads)));
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
      transform_input_chunk<M>(g, grid, in, t0, rows, v);
      // M_ξ[rows, N] = V_ξ[rows, C] · U_ξ[N, C]ᵀ; position ξ's rows are rows·C floats apart.
      for (int p = 0; p < kPositions; ++p)
        linear(v + static_cast<std::size_t>(p) * rows * C, C, rows, weights.transformed[p],
               m + static_cast<std::size_t>(p) * rows * N, N, {}, nullptr);
      transform_output_chunk<M>(grid, N, m, t0, rows, bias, residual, clamp, out);
    }
  };
  if (tasks <= 1) {
    run_chunks(0);
  } else {
    pool->run(tasks, run_chunks);
  }
}

template <int M>
std::vector<PackedMatrix> transform_weights(const float* weight, int N, int C, ThreadPool* pool) {
  constexpr int A = Transforms<M>::kAlpha;
  std::vector<std::vector<float>> u(A * A, std::vector<float>(static_cast<std::size_t>(N) * C));
  for (int n = 0; n < N; ++n)
    for (int c = 0; c < C; ++c) {
      double g[3][3];
      for (int ky = 0; ky < 3; ++ky)
        for (int kx = 0; kx < 3; ++kx)
          g[ky][kx] = weight[((static_cast<std::size_t>(n) * 3 + ky) * 3 + kx) * C + c];
      double gg[A][3];  // G g, column by column
      for (int kx = 0; kx < 3; ++kx) {
        const double column[3] = {g[0][kx], g[1][kx], g[2][kx]};
        double out[A];
        Transforms<M>::weight(column, out);
        for (int i = 0; i < A; ++i) gg[i][kx] = out[i];
      }
      for (int i = 0; i < A; ++i) {  // (G g) Gᵀ, row by row
        double row[A];
        Transforms<M>::weight(gg[i], row);
        for (int j = 0; j < A; ++j) u[A * i + j][static_cast<std::size_t>(n) * C + c] = static_cast<float>(row[j]);
      }
    }
  std::vector<PackedMatrix> packed;
  for (const auto& position : u) packed.push_back(PackedMatrix::pack(position.data(), N, C, C, pool));
  return packed;
}

}  // namespace

WinogradWeights WinogradWeights::pack(const float* weight, int out_channels, int in_channels,
                                      int tile, ThreadPool* pool) {
  if (out_channels <= 0 || in_channels <= 0 || (tile != 2 && tile != 4))
    throw std::invalid_argument("WinogradWeights::pack: " + std::to_string(out_channels) + " outputs, " +
                                std::to_string(in_channels) + " inputs, tile " + std::to_string(tile));
  WinogradWeights w;
  w.out_channels = out_channels;
  w.in_channels = in_channels;
  w.tile = tile;
  w.transformed = tile == 2 ? transform_weights<2>(weight, out_channels, in_channels, pool)
                            : transform_weights<4>(weight, out_channels, in_channels, pool);
  return w;
}

int winograd_tile_for(int in_channels, int out_channels) {
  return in_channels <= 128 && out_channels <= 128 ? 4 : 2;
}

bool winograd_applies(const ConvGeometry& g) { return g.kernel == 3 && g.stride == 1; }

bool winograd_pays_off(const ConvGeometry& g, const WinogradWeights& weights) {
  // VITSCOPE_DISABLE_WINOGRAD=1 runs every convolution as im2col + GEMM (for timing one against
  // the other in the same binary). Read once.
  static const bool disabled = kernels_disabled_by_env_value(std::getenv("VITSCOPE_DISABLE_WINOGRAD"));
  return !disabled && winograd_applies(g) && TileGrid(g, weights.tile).count >= 24;
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
  if (weights.tile == 4) {
    run_winograd<4>(g, in, weights, bias, clamp, out, pool, residual);
  } else {
    run_winograd<2>(g, in, weights, bias, clamp, out, pool, residual);
  }
}

}  // namespace vitscope::kernels
