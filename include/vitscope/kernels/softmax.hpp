#pragma once
#include "vitscope/core/thread_pool.hpp"

namespace vitscope::kernels {

// x[rows, cols] (row stride ld) ← softmax over each row, in place; max-subtracted, fp32.
void softmax_rows(float* x, int rows, int cols, int ld, ThreadPool* pool);

}  // namespace vitscope::kernels
