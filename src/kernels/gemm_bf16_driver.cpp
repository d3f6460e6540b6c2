// The bf16 GEMM: A converted to bf16 pairs once per call, then threads over output tiles, each
// through the loop nest of gemm_word_tile.hpp with the vdpbf16ps micro-kernel innermost. The
// micro-kernel leaves fp32 sums in a per-thread buffer; the shared fp32 epilogue finishes them.
#include "kernels/gemm_bf16_driver.hpp"
#include "kernels/packed_memory.hpp"

#include <algorithm>
#include <cstddef>
#include <tuple>
#include <vector>

#include "kernels/gemm_bf16_layout.hpp"
#include "kernels/gemm_epilogue.hpp"
#include "kernels/gemm_layout.hpp"
#include "kernels/gemm_word_tile.hpp"
#include "kernels/parallel.hpp"
#include "kernels/simd.hpp"
#include "vitscope/kernels/gemm_bf16.hpp"

namespace vitscope::kernels::gemm_bf16_detail {

using gemm_detail::ceil_div;
using gemm_detail::round_up;

std::size_t packed_b_pairs_size(int n, int k) {
  return static_cast<std::size_t>(round_up(n, kNR)) * static_cast<std::size_t>(ceil_div(k, 2));
}

namespace {

using PairVector = memory_detail::PackedPairs;

// A as bf16 pairs: [round_up(m, kMR)][lda2], zero rows past m. Kept by the calling thread and
// grown on first use; workers only read it while the caller waits in run().
const std::uint32_t* convert_a(const Bf16GemmProblem& g, std::ptrdiff_t lda2, ThreadPool* pool) {
  thread_local PairVector scratch;
  const std::size_t rows = static_cast<std::size_t>(round_up(g.m, kMR));
  if (scratch.size() < rows * lda2) scratch.resize(rows * lda2);
  std::uint32_t* pairs = scratch.data();
  std::fill(pairs + static_cast<std::size_t>(g.m) * lda2, pairs + rows * lda2, 0u);
  // Conversion streams memory at a few bytes per cycle: split it only past ~64k elements a thread.
  const std::size_t min_rows = std::max(1, (1 << 16) / std::max(g.k, 1));
  parallel_ranges(pool, static_cast<std::size_t>(g.m), min_rows,
                  [&](std::size_t begin, std::size_t end) {
                    avx512bf16::convert_a(g.a + static_cast<std::ptrdiff_t>(begin) * g.lda, g.lda,
                                          static_cast<int>(end - begin), g.k,
                                          pairs + begin * lda2, lda2);
                  });
  return pairs;
}

constexpr int kRowBatches = kNR / simd::kLanes;
static_assert(kNR % simd::kLanes == 0, "a micro-tile row is whole batches");

// out[rows, cols] (=|+=) act(alpha · sums + bias) from one micro-tile of sums [kMR][kNR]. Columns
// past cols may hold stale sums (dot_panels skips whole vectors there); they are dropped.
void finish_tile(const float* sums, int rows, int cols, const float* bias, const float* residual,
                 float* out, int ldo, const gemm_detail::Epilogue& epilogue) {
  for (int r = 0; r < rows; ++r) {
    simd::Batch x[kRowBatches];
    for (int v = 0; v < kRowBatches; ++v) {
      x[v] = xsimd::load_unaligned(sums + r * kNR + v * simd::kLanes);
    }
    const std::ptrdiff_t row = static_cast<std::ptrdiff_t>(r) * ldo;
    gemm_detail::finish_row(x, bias, residual ? residual + row : nullptr, out + row, cols, epilogue);
  }
}

}  // namespace

void run_gemm_bf16(const Bf16GemmProblem& g, ThreadPool* pool) {
  if (g.m <= 0 || g.n <= 0) return;
  const std::ptrdiff_t lda2 = gemm_detail::word_row_stride(ceil_div(g.k, 2));
  const std::uint32_t* a_pairs = convert_a(g, lda2, pool);

  gemm_detail::for_each_tile(g.m, g.n, g.k, pool, kMR, kNR, kMC, kNC,
                             [&](int i0, int mc, int j0, int nc) {
                               thread_local simd::AlignedVector scratch;
                               gemm_detail::run_word_tile<kMR, kNR, float>(
                                   g, ceil_div(g.k, 2), kKC2, a_pairs, lda2, g.b_pairs, i0, mc, j0, nc, scratch,
                                   avx512bf16::dot_panels,
                                   [&](const float* sums, int i, int rows, int j, int cols, const float* bias) {
                                     finish_tile(sums, rows, cols, bias, gemm_detail::residual_tile(g.epilogue, i, j, g.ldo),
                                                 g.out + static_cast<std::ptrdiff_t>(i) * g.ldo + j, g.ldo, g.epilogue);
                                   });
                             });
}

}  // namespace vitscope::kernels::gemm_bf16_detail
