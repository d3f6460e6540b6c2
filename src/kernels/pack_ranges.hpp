#pragma once
// What both weight packers (fp32 panels, bf16 pairs) share: the shape check, and packing ranges of
// panels on a pool's threads.
#include <algorithm>
#include <cstddef>
#include <stdexcept>
#include <string>

#include "kernels/parallel.hpp"

namespace vitscope::kernels::gemm_detail {

// std::invalid_argument "<what>: bad shape n=.. k=.. ldb=.." for an impossible b[n, k] (stride ldb).
inline void check_pack_shape(const char* what, int n, int k, int ldb) {
  if (n < 0 || k < 0 || ldb < k)
    throw std::invalid_argument(std::string(what) + ": bad shape n=" + std::to_string(n) +
                                " k=" + std::to_string(k) + " ldb=" + std::to_string(ldb));
}

// Calls pack(j0, j1) for ranges of rows [j0, j1) of an n-row weight, cut at whole panels of
// panel_rows rows, one range per thread of pool. Panels are independent: a range of panels is a
// range of rows of the weight and of packed memory. At least 4 panels per thread (a few µs each),
// so small matrices stay on the calling thread.
template <class Pack>
void pack_panel_ranges(ThreadPool* pool, int n, int panel_rows, const Pack& pack) {
  const std::size_t panels = static_cast<std::size_t>((n + panel_rows - 1) / panel_rows);
  parallel_ranges(pool, panels, 4, [&](std::size_t first, std::size_t end) {
    pack(static_cast<int>(first) * panel_rows, std::min(n, static_cast<int>(end) * panel_rows));
  });
}

}  // namespace vitscope::kernels::gemm_detail
