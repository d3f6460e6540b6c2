#pragma once
#include <cstddef>

#include "vitscope/core/thread_pool.hpp"

namespace vitscope::kernels {

// x[n] ← x · Φ(x) = 0.5 · x · (1 + erf(x / √2)), in place (exact GELU, not the tanh approximation).
void gelu(float* x, std::size_t n, ThreadPool* pool);

}  // namespace vitscope::kernels
