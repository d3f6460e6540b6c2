#pragma once
// The blocked, threaded GEMM loop nest shared by linear(), gemm_abt() and gemm_ab():
//   out[M,N] (=|+=) act(alpha · a[M,K] · b[N,K]ᵀ + bias[N]),  b given as packed panels.
// Its tiling and thread-count choices are shared with the bf16 driver (gemm_bf16_driver.cpp).
#include <algorithm>
#include <cmath>
#include <cstddef>

#include "vitscope/core/thread_pool.hpp"

namespace vitscope::kernels::gemm_detail {

// Applied to each output element once its dot product is complete, in this order.
struct Epilogue {
  float alpha = 1.0f;           // scale of the product
  const float* bias = nullptr;  // [N] or null
  bool gelu = false;            // exact (erf) GELU
  const float* residual = nullptr;  // [M,N], row stride ldo, added, or null
  bool accumulate = false;      // out += result instead of out = result
  float lo = -INFINITY, hi = INFINITY;  // clamp, last
  bool clamped() const { return lo != -INFINITY || hi != INFINITY; }
};

// What every product names, whatever form its B operand takes.
struct ProductOperands {
  int m = 0, n = 0, k = 0;
  const float* a = nullptr;  // [M,K], row stride lda
  int lda = 0;
  float* out = nullptr;  // [M,N], row stride ldo
  int ldo = 0;
  Epilogue epilogue;
};

struct GemmProblem : ProductOperands {
  const float* b_packed = nullptr;  // packed_b_size(n, k) floats, layout of gemm_layout.hpp
  // Round A to bf16 while packing it (fp32 emulation of a bf16 product; b_packed then holds
  // bf16-rounded values too). Otherwise A is read in place (see gemm_layout.hpp).
  bool round_a_to_bf16 = false;
};

// Computes the problem, splitting the output into tiles shared out over pool (null: this thread).
void run_gemm(const GemmProblem& problem, ThreadPool* pool);

// Threads worth using for a product of m·n·k multiply-adds: more than one only when each gets
// enough work to repay the hand-off.
int threads_for(int m, int n, int k, ThreadPool* pool);

// How the output is cut into tiles: tm × tn tiles of (at most) mc × nc, mc a multiple of the
// micro-tile height and nc of its width.
struct TilePlan {
  int tm = 1, tn = 1, mc = 0, nc = 0;
};

// The tiling of out[m,n] over `threads` with the least estimated time, for micro-tiles mr × nr and
// tiles of at most max_mc × max_nc.
TilePlan plan_tiles(int m, int n, int threads, int mr, int nr, int max_mc, int max_nc);

// Cuts out[m,n] into the tiles plan_tiles chooses and calls tile(i0, mc, j0, nc) for each, spread
// over pool when the product is worth more than one thread: the loop both drivers share.
template <class Tile>
void for_each_tile(int m, int n, int k, ThreadPool* pool, int mr, int nr, int max_mc, int max_nc,
                   const Tile& tile) {
  const int threads = threads_for(m, n, k, pool);
  const TilePlan plan = plan_tiles(m, n, threads, mr, nr, max_mc, max_nc);
  auto run = [&](int t) {
    const int i0 = t / plan.tn * plan.mc, j0 = t % plan.tn * plan.nc;
    tile(i0, std::min(plan.mc, m - i0), j0, std::min(plan.nc, n - j0));
  };
  const int tasks = plan.tm * plan.tn;
  if (threads > 1 && tasks > 1) {
    pool->run(tasks, run);
  } else {
    for (int t = 0; t < tasks; ++t) run(t);
  }
}

// Row stride, in 32-bit words, of an operand converted to `words` words a row (bf16 pairs, int8
// quads): whole cache lines, and an odd number of them, so that the rows a micro-kernel streams fall
// in different L1 sets (a stride of a multiple of 4 KiB would put them all in one set).
std::ptrdiff_t word_row_stride(int words);

// std::invalid_argument "<what>: bad shape or stride (m=.. n=.. k=..)" unless ok.
void check_shape(bool ok, const char* what, int m, int n, int k);

}  // namespace vitscope::kernels::gemm_detail
