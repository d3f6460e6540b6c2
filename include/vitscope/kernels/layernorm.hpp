#pragma once
#include "vitscope/core/thread_pool.hpp"

namespace vitscope::kernels {

// out[rows, cols] = (x - mean) / sqrt(var + eps) · gamma[cols] + beta[cols], per row;
// two-pass (mean, then centred variance) as PyTorch does. x and out may alias.
void layernorm(const float* x, int ldx, float* out, int ldo, int rows, int cols,
               const float* gamma, const float* beta, float eps, ThreadPool* pool);

}  // namespace vitscope::kernels
