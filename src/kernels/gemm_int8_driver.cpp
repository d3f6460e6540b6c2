// The int8 GEMM: A quantised per row into unsigned quads once per call, then threads over output
// tiles, each through the loop nest of gemm_word_tile.hpp with the micro-kernel of the backend
// innermost leaving int32 sums in a per-thread buffer; the epilogue turns them into floats
// (offset, both scales) and hands them to the shared fp32 epilogue (bias, GELU, store).
#include "kernels/gemm_int8_driver.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <vector>

#include "kernels/gemm_epilogue.hpp"
#include "kernels/gemm_int8_layout.hpp"
#include "kernels/gemm_int8_quantize.hpp"
#include "kernels/gemm_layout.hpp"
#include "kernels/gemm_word_tile.hpp"
#include "kernels/parallel.hpp"
#include "kernels/simd.hpp"
#include "vitscope/kernels/gemm_int8.hpp"

namespace vitscope::kernels::gemm_int8_detail {

using gemm_detail::ceil_div;
using gemm_detail::round_up;

std::size_t packed_b_quads_size(int n, int k) {
  return static_cast<std::size_t>(round_up(n, kNR)) * static_cast<std::size_t>(ceil_div(k, 4));
}

namespace {

// One row of a quantised into unsigned quads (qa + 128; bytes past k are 128, and add nothing
// since B is zero there) and its scale.
void quantize_row_to_quads(const float* a, int k, std::uint32_t* quads, float* scale) {
  auto* bytes = reinterpret_cast<std::uint8_t*>(quads);
  *scale = quantize_row(a, k, bytes, 128);
  for (int i = k; i < 4 * ceil_div(k, 4); ++i) bytes[i] = 128;
}

struct QuantisedA {
  const std::uint32_t* quads;
  const float* scales;  // [round_up(m, kMR)], 0 past m
};

// A as unsigned quads [round_up(m, kMR)][lda4] (zero rows past m) and its row scales, in memory
// kept by the calling thread; workers only read it while the caller waits in run().
QuantisedA quantize_a(const Int8GemmProblem& g, std::ptrdiff_t lda4, ThreadPool* pool) {
  thread_local std::vector<std::uint32_t> quads;
  thread_local std::vector<float> scales;
  const std::size_t rows = static_cast<std::size_t>(round_up(g.m, kMR));
  if (quads.size() < rows * lda4) quads.resize(rows * lda4);
  if (scales.size() < rows) scales.resize(rows);
  std::fill(quads.begin() + static_cast<std::ptrdiff_t>(g.m * lda4), quads.begin() + static_cast<std::ptrdiff_t>(rows * lda4), 0u);
  std::fill(scales.begin() + g.m, scales.begin() + static_cast<std::ptrdiff_t>(rows), 0.0f);
  // From 8192 values a thread (a 197-token activation of width 192 is ~38k, ~10 µs to quantise):
  // quantising it on one thread while the others wait cost DeiT-Tiny's 2-thread pass ~2%.
  const std::size_t min_rows = std::max(1, (1 << 13) / std::max(g.k, 1));
  std::uint32_t* q = quads.data();
  float* s = scales.data();
  parallel_ranges(pool, static_cast<std::size_t>(g.m), min_rows, [&](std::size_t begin, std::size_t end) {
    for (std::size_t r = begin; r < end; ++r)
      quantize_row_to_quads(g.a + static_cast<std::ptrdiff_t>(r) * g.lda, g.k, q + r * lda4, s + r);
  });
  return {q, s};
}

constexpr int kRowBatches = kNR / simd::kLanes;
static_assert(kNR % simd::kLanes == 0, "a micro-tile row is whole batches");

// out[rows, cols] (=|+=) act(s_a[r] · s_b[c] · (sum[r][c] − offset[c]) + bias[c]) from one
// micro-tile of int32 sums [kMR][kNR]; b_scales, offsets and bias hold kNR values (zero past cols).
void finish_tile(const std::int32_t* sums, int rows, int cols, const float* a_scales, const float* b_scales,
                 const std::int32_t* offsets, const float* bias, const float* residual, float* out, int ldo,
                 const gemm_detail::Epilogue& epilogue) {
  for (int r = 0; r < rows; ++r) {
    simd::Batch x[kRowBatches];
    const simd::Batch a_scale(a_scales[r]);
    for (int v = 0; v < kRowBatches; ++v) {
      using IntBatch = xsimd::batch<std::int32_t>;
      const int c = v * simd::kLanes;
      // The exact integer Σ qa·qb, converted to float (rounded to nearest even past 2^24).
      const IntBatch sum = IntBatch::load_unaligned(sums + r * kNR + c) - IntBatch::load_unaligned(offsets + c);
      x[v] = xsimd::batch_cast<float>(sum) * (a_scale * xsimd::load_unaligned(b_scales + c));
    }
    const std::ptrdiff_t row = static_cast<std::ptrdiff_t>(r) * ldo;
    gemm_detail::finish_row(x, bias, residual ? residual + row : nullptr, out + row, cols, epilogue);
  }
}

}  // namespace

void run_gemm_int8(const Int8GemmProblem& g, bool vnni, ThreadPool* pool) {
  if (g.m <= 0 || g.n <= 0) return;
  const std::ptrdiff_t lda4 = gemm_detail::word_row_stride(ceil_div(g.k, 4));
  const QuantisedA qa = quantize_a(g, lda4, pool);
  const auto dot_panels = vnni ? avx512vnni::dot_panels : portable::dot_panels;
  gemm_detail::for_each_tile(g.m, g.n, g.k, pool, kMR, kNR, kMC, kNC, [&](int i0, int mc, int j0, int nc) {
    thread_local std::vector<std::int32_t> scratch;
    gemm_detail::run_word_tile<kMR, kNR, std::int32_t>(
        g, ceil_div(g.k, 4), kKC4, qa.quads, lda4, g.b_quads, i0, mc, j0, nc, scratch, dot_panels,
        [&](const std::int32_t* sums, int i, int rows, int j, int cols, const float* bias) {
          finish_tile(sums, rows, cols, qa.scales + i, g.b_scales + j, g.b_offsets + j, bias,
                      gemm_detail::residual_tile(g.epilogue, i, j, g.ldo),
                      g.out + static_cast<std::ptrdiff_t>(i) * g.ldo + j, g.ldo, g.epilogue);
        });
  });
}

}  // namespace vitscope::kernels::gemm_int8_detail
