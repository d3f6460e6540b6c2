// Loop nest of the blocked GEMM: threads over output tiles, then K blocks, then B panels, then A
// panels, with the micro-kernel innermost.
#include "kernels/gemm_driver.hpp"

#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "kernels/gemm_epilogue.hpp"
#include "kernels/gemm_layout.hpp"
#include "kernels/gemm_micro_kernel.hpp"
#include "kernels/prefetch.hpp"
#include "kernels/simd.hpp"

namespace vitscope::kernels::gemm_detail {
namespace {

// Per-thread working memory, grown on first use and kept: no allocation per call once warm.
struct Scratch {
  simd::AlignedVector a_panels;  // packed A block: [mc/kMR][kc][kMR]
  simd::AlignedVector partial;   // sums between K blocks: [mc/kMR][nc/kNR][kMR][kNR]
};

float* ensure(simd::AlignedVector& v, std::size_t size) {
  if (v.size() < size) v.resize(size);
  return v.data();
}

using MicroKernel = void (*)(int, const float*, int, const float*, const MicroTileIo&);

// The micro-kernel of a last, packed panel of rows < kMR rows (1 to kMR − 1): as many rows as it
// has, not kMR.
template <int NV>
MicroKernel packed_rows_kernel_of(int rows) {
  static_assert(kMR == 6, "one kernel per row count below kMR");
  switch (rows) {
    case 1: return micro_kernel<NV, false, 1>;
    case 2: return micro_kernel<NV, false, 2>;
    case 3: return micro_kernel<NV, false, 3>;
    case 4: return micro_kernel<NV, false, 4>;
    default: return micro_kernel<NV, false, 5>;
  }
}

MicroKernel packed_rows_kernel(int rows, bool narrow) {
  return narrow ? packed_rows_kernel_of<1>(rows) : packed_rows_kernel_of<kNV>(rows);
}

// A single K block whose B panels take at most this many bytes goes A-panel-outer (see run_tile).
constexpr std::size_t kRowsOuterBytes = 256 * 1024;

// Computes out[i0 : i0+mc, j0 : j0+nc] over the whole of K.
void run_tile(const GemmProblem& g, int i0, int mc, int j0, int nc, Scratch& scratch) {
  const int panels_m = ceil_div(mc, kMR), panels_n = ceil_div(nc, kNR);
  const int k_blocks = std::max(1, ceil_div(g.k, kKC));
  const int kc_max = ceil_div(g.k, k_blocks);  // equal blocks: no thin last block
  float* a_panels =
      ensure(scratch.a_panels, static_cast<std::size_t>(panels_m) * kMR * std::max(kc_max, 1));
  float* partial = k_blocks > 1 ? ensure(scratch.partial,
                                         static_cast<std::size_t>(panels_m) * panels_n * kMR * kNR)
                                : nullptr;
  alignas(simd::kAlignment) float bias_tail[kNR];

  for (int block = 0; block < k_blocks; ++block) {
    const int pc = block * kc_max;
    const int kc = std::min(kc_max, g.k - pc);
    const bool first = block == 0, last = block == k_blocks - 1;
    const float* a_block = g.a + static_cast<std::ptrdiff_t>(i0) * g.lda + pc;
    // A is read in place but for a last, partial panel (its rows past M would be out of bounds),
    // packed at its place in a_panels; rounding to bf16 needs a packed copy of all of it.
    const int first_packed_row = g.round_a_to_bf16 ? 0 : mc / kMR * kMR;
    const float* a_to_pack = a_block + static_cast<std::ptrdiff_t>(first_packed_row) * g.lda;
    float* a_packed_at = a_panels + static_cast<std::size_t>(first_packed_row) * kc;
    if (g.round_a_to_bf16) {
      pack_a_rounded_to_bf16(a_to_pack, g.lda, mc - first_packed_row, kc, a_packed_at);
    } else {
      pack_a(a_to_pack, g.lda, mc - first_packed_row, kc, a_packed_at);
    }

    // One micro-tile: A panel ip against B panel jp over this K block; next_bp (next_bytes long,
    // null: none) is the B micro-panel to ask for a slice of, (next_ip, next_jp) the micro-tile
    // computed next, whose output lines are prefetched.
    auto micro_tile = [&](int ip, int jp, const float* next_bp, std::size_t next_bytes, int next_ip,
                          int next_jp) {
      const int j = j0 + jp * kNR;
      const int cols = std::min(kNR, g.n - j);
      // Panel j / kNR of B, from row pc of the reduction on.
      const float* bp =
          g.b_packed + static_cast<std::ptrdiff_t>(j) * g.k + static_cast<std::ptrdiff_t>(pc) * kNR;
      if (next_bp) prefetch_slice(next_bp, next_bytes, ip, panels_m);
      const int i = i0 + ip * kMR;
      if (last && next_ip < panels_m && next_jp < panels_n) {  // its output (see prefetch.hpp)
        const int ni = i0 + next_ip * kMR, nj = j0 + next_jp * kNR;
        prefetch_tile(g.out + static_cast<std::ptrdiff_t>(ni) * g.ldo + nj,
                      residual_tile(g.epilogue, ni, nj, g.ldo), g.ldo, std::min(kMR, g.m - ni),
                      static_cast<std::size_t>(std::min(kNR, g.n - nj)) * sizeof(float));
      }
      MicroTileIo io;
      io.epilogue = &g.epilogue;
      io.ldo = g.ldo;
      io.cols = cols;
      if (last) io.bias = panel_bias(g.epilogue.bias, j, cols, bias_tail);
      float* tile_partial =
          partial ? partial + (static_cast<std::size_t>(ip) * panels_n + jp) * kMR * kNR : nullptr;
      io.partial_in = first ? nullptr : tile_partial;
      io.partial_out = last ? nullptr : tile_partial;
      io.out = g.out + static_cast<std::ptrdiff_t>(i) * g.ldo + j;
      io.residual = residual_tile(g.epilogue, i, j, g.ldo);
      io.rows = std::min(kMR, g.m - i);
      const bool in_place = ip * kMR < first_packed_row;
      const float* ap = in_place ? a_block + static_cast<std::ptrdiff_t>(ip) * kMR * g.lda
                                 : a_panels + static_cast<std::size_t>(ip) * kc * kMR;
      const bool narrow = kNV > 1 && cols <= kLanes;
      if (in_place) {
        if (narrow)
          micro_kernel<1, true>(kc, ap, g.lda, bp, io);
        else
          micro_kernel<kNV, true>(kc, ap, g.lda, bp, io);
      } else if (io.rows < kMR) {
        packed_rows_kernel(io.rows, narrow)(kc, ap, 0, bp, io);
      } else {
        if (narrow)
          micro_kernel<1>(kc, ap, 0, bp, io);
        else
          micro_kernel(kc, ap, 0, bp, io);
      }
    };

    if (k_blocks == 1 && static_cast<std::size_t>(kc) * nc * sizeof(float) <= kRowsOuterBytes) {
      // Short K: the tile's B panels stay in L2 whatever the order, so the A panels go outside
      // and each strip of kMR output rows (and its residual) is written left to right, as streams
      // the hardware prefetchers follow. B-panel-outer order wrote it in kNR-wide columns, and a
      // 1×1 convolution over 64 channels with a residual ran at 60% of its in-cache speed.
      for (int ip = 0; ip < panels_m; ++ip)
        for (int jp = 0; jp < panels_n; ++jp) {
          const bool row_end = jp + 1 == panels_n;
          micro_tile(ip, jp, nullptr, 0, row_end ? ip + 1 : ip, row_end ? 0 : jp + 1);
        }
      continue;
    }
    for (int jp = 0; jp < panels_n; ++jp) {
      // The B micro-panel the tile reads next, a slice per A pass (see prefetch.hpp).
      const int j = j0 + jp * kNR;
      const float* next_bp = nullptr;
      int next_kc = kc;
      if (jp + 1 < panels_n) {
        next_bp = g.b_packed + static_cast<std::ptrdiff_t>(j + kNR) * g.k +
                  static_cast<std::ptrdiff_t>(pc) * kNR;
      } else if (!last) {
        next_kc = std::min(kc_max, g.k - pc - kc);
        next_bp = g.b_packed + static_cast<std::ptrdiff_t>(j0) * g.k +
                  static_cast<std::ptrdiff_t>(pc + kc) * kNR;
      }
      const std::size_t next_bytes = static_cast<std::size_t>(next_kc) * kNR * sizeof(float);
      for (int ip = 0; ip < panels_m; ++ip) micro_tile(ip, jp, next_bp, next_bytes, ip + 1, jp);
    }
  }
}

}  // namespace

// Picks the tiling that minimises the estimated time: rounds of tiles over the threads, each tile
// costing its padded area plus a per-tile overhead (packing A, edge tiles, task hand-off).
TilePlan plan_tiles(int m, int n, int threads, int mr, int nr, int max_mc, int max_nc) {
  const int min_tm = ceil_div(m, max_mc),
            max_tm = std::max(min_tm, std::min(ceil_div(m, mr), 4 * min_tm * threads));
  const int min_tn = ceil_div(n, max_nc),
            max_tn = std::max(min_tn, std::min(ceil_div(n, nr), 4 * min_tn * threads));
  TilePlan best;
  std::int64_t best_cost = INT64_MAX;
  for (int tm = min_tm; tm <= max_tm; ++tm) {
    const int mc = round_up(ceil_div(m, tm), mr);
    if (tm > min_tm && (tm - 1) * mc >= m) continue;  // an empty tile row
    for (int tn = min_tn; tn <= max_tn; ++tn) {
      const int nc = round_up(ceil_div(n, tn), nr);
      if (tn > min_tn && (tn - 1) * nc >= n) continue;
      const std::int64_t rounds = ceil_div(tm * tn, threads);
      const std::int64_t cost = rounds * (std::int64_t{mc} + 2 * mr) * (nc + nr);
      if (cost < best_cost) {
        best_cost = cost;
        best = TilePlan{tm, tn, mc, nc};
      }
    }
  }
  return best;
}

int threads_for(int m, int n, int k, ThreadPool* pool) {
  if (!pool) return 1;
  // Below ~1 MFLOP per thread (~10 µs) handing tiles to another thread costs more than it saves.
  constexpr double kMinFlopsPerThread = 1 << 20;
  const double flops = 2.0 * m * n * std::max(k, 1);
  return static_cast<int>(std::clamp(flops / kMinFlopsPerThread, 1.0, double(pool->size())));
}

void run_gemm(const GemmProblem& g, ThreadPool* pool) {
  if (g.m <= 0 || g.n <= 0) return;
  for_each_tile(g.m, g.n, g.k, pool, kMR, kNR, kMC, kNC, [&](int i0, int mc, int j0, int nc) {
    thread_local Scratch scratch;
    run_tile(g, i0, mc, j0, nc, scratch);
  });
}

std::ptrdiff_t word_row_stride(int words) {
  constexpr int kLineWords = 16;  // 64-byte cache line
  int lines = std::max(1, ceil_div(words, kLineWords));
  if (lines % 2 == 0) ++lines;
  return static_cast<std::ptrdiff_t>(lines) * kLineWords;
}

void check_shape(bool ok, const char* what, int m, int n, int k) {
  if (!ok) {
    throw std::invalid_argument(std::string(what) + ": bad shape or stride (m=" + std::to_string(m) +
                                " n=" + std::to_string(n) + " k=" + std::to_string(k) + ")");
  }
}

}  // namespace vitscope::kernels::gemm_detail
