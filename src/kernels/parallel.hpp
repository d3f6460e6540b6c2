#pragma once
// Splitting the rows of an element-wise or row-wise kernel over a thread pool.
#include <algorithm>
#include <cstddef>

#include "vitscope/core/thread_pool.hpp"

namespace vitscope::kernels {

// Calls body(begin, end) on consecutive ranges covering [0, count), one range per thread of pool.
// Work below min_per_task items per range runs on the calling thread alone: for small kernels the
// hand-off would cost more than it saves.
template <class Body>
void parallel_ranges(ThreadPool* pool, std::size_t count, std::size_t min_per_task,
                     const Body& body) {
  const std::size_t threads = pool ? static_cast<std::size_t>(pool->size()) : 1;
  const std::size_t tasks = std::min(threads, count / std::max<std::size_t>(min_per_task, 1));
  if (tasks <= 1) {
    if (count > 0) body(std::size_t{0}, count);
    return;
  }
  const std::size_t per_task = (count + tasks - 1) / tasks;
  pool->run(static_cast<int>(tasks), [&](int t) {
    const std::size_t begin = static_cast<std::size_t>(t) * per_task;
    const std::size_t end = std::min(count, begin + per_task);
    if (begin < end) body(begin, end);
  });
}

}  // namespace vitscope::kernels
