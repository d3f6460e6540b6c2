#pragma once
// A fixed set of worker threads created once and reused by every kernel call.
#include <functional>
#include <memory>

namespace vitscope {

class ThreadPool {
 public:
  // num_threads counts the calling thread: ThreadPool(1) runs everything inline.
  explicit ThreadPool(int num_threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const;

  // Calls task(i) for every i in [0, num_tasks), spread over the threads (the caller takes part),
  // and returns when all have finished. Exceptions thrown by a task are rethrown here (the first
  // one; tasks not yet started when it was thrown are skipped). A run() issued from inside a task
  // (of any pool) runs inline on that thread; runs from several outside threads take turns.
  void run(int num_tasks, const std::function<void(int)>& task);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// Threads available to this process (hardware concurrency, at least 1).
int hardware_threads();

}  // namespace vitscope
