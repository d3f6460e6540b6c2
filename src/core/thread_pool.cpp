// ThreadPool: workers created once; run() hands out task indices through one atomic word.
//
// Every GEMM of a forward pass goes through run(), so the hand-off is cheap: idle workers spin for
// a short while before they block on a condition variable, and the caller takes part in the work
// and spins before it blocks waiting for the last task. run() returns as soon as every task has
// finished; it never waits for a worker that is still asleep and took no task.
//
// The job word packs (generation << 32) | next_index. A task index is claimed with a
// compare-exchange that also checks the generation, so a worker that wakes late can never claim an
// index of a newer job with the task pointer or task count of an older one (see publish()).
#include "vitscope/core/thread_pool.hpp"

#include <sched.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace vitscope {
namespace {

using Task = std::function<void(int)>;

constexpr std::uint64_t kIndexMask = 0xffffffffu;
// Index value that closes a generation for claiming while the next job is being set up.
constexpr std::uint64_t kClosed = kIndexMask;
// How long an idle worker (or the waiting caller) spins before it blocks. Long enough to bridge the
// gap between two kernels of a forward pass, short enough not to burn a core while the program
// idles.
constexpr auto kSpinTime = std::chrono::microseconds(200);

// True on pool workers, and on a caller while it runs tasks: a nested run() then runs inline
// instead of waiting on threads that are busy with the outer job.
thread_local bool tls_inside_pool = false;

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#else
  std::this_thread::yield();
#endif
}

// Spins until done() is true or kSpinTime has passed; returns done().
template <class Done>
bool spin_until(Done done) {
  const auto deadline = std::chrono::steady_clock::now() + kSpinTime;
  for (int i = 0;; ++i) {
    if (done()) return true;
    cpu_relax();
    if ((i & 63) == 63 && std::chrono::steady_clock::now() > deadline) return done();
  }
}

std::uint32_t generation_of(std::uint64_t word) { return static_cast<std::uint32_t>(word >> 32); }

}  // namespace

struct ThreadPool::State {
  std::vector<std::thread> workers;

  std::atomic<std::uint64_t> job{0};  // (generation << 32) | next index to claim
  std::atomic<const Task*> task{nullptr};
  std::atomic<int> num_tasks{0};
  std::atomic<int> finished{0};  // tasks of the current job that have completed (or been skipped)
  std::atomic<bool> failed{false};
  std::atomic<bool> stopping{false};

  std::mutex run_mutex;  // one job at a time when several threads share the pool
  std::mutex mutex;
  std::condition_variable work_ready;  // a new generation was published, or stopping
  std::condition_variable job_done;    // finished reached num_tasks
  std::exception_ptr error;            // first exception of the current job; guarded by mutex

  // Makes a new job claimable. Closing the old generation first means that any thread still holding
  // the old job word fails its compare-exchange before it could pair an old index with the new
  // task pointer or count (those stores happen after the close and are published by the final
  // store).
  void publish(const Task& t, int n) {
    const std::uint64_t next_gen = (job.load(std::memory_order_relaxed) >> 32) + 1;
    job.store((next_gen << 32) | kClosed, std::memory_order_seq_cst);
    task.store(&t, std::memory_order_release);
    num_tasks.store(n, std::memory_order_release);
    finished.store(0, std::memory_order_relaxed);
    failed.store(false, std::memory_order_relaxed);
    {
      std::lock_guard<std::mutex> lock(mutex);  // pairs with the predicate check in worker_loop
      job.store(((next_gen & kIndexMask) << 32), std::memory_order_release);
    }
    work_ready.notify_all();
  }

  // Claims and runs tasks of generation gen until none is left.
  void work_on(std::uint32_t gen) {
    std::uint64_t word = job.load(std::memory_order_acquire);
    for (;;) {
      if (generation_of(word) != gen) return;
      const Task* t = task.load(std::memory_order_acquire);
      const int n = num_tasks.load(std::memory_order_acquire);
      const std::uint64_t index = word & kIndexMask;
      if (index >= static_cast<std::uint64_t>(n)) return;  // all claimed (or kClosed)
      if (!job.compare_exchange_weak(word, word + 1, std::memory_order_acq_rel,
                                     std::memory_order_acquire)) {
        continue;  // word now holds the current value
      }
      run_one(*t, static_cast<int>(index), n);
      word = job.load(std::memory_order_acquire);
    }
  }

  void run_one(const Task& t, int index, int n) {
    if (!failed.load(std::memory_order_relaxed)) {
      try {
        t(index);
      } catch (...) {
        std::lock_guard<std::mutex> lock(mutex);
        if (!error) error = std::current_exception();
        failed.store(true, std::memory_order_relaxed);  // remaining tasks are skipped
      }
    }
    // The last completion wakes a blocked caller. Locking before notifying closes the window
    // between the caller's predicate check and its wait. Nothing of this job is touched after the
    // increment except the (then harmless) notification.
    if (finished.fetch_add(1, std::memory_order_acq_rel) + 1 == n) {
      std::lock_guard<std::mutex> lock(mutex);
      job_done.notify_all();
    }
  }

  void worker_loop() {
    tls_inside_pool = true;
    std::uint32_t seen = 0;
    std::uint64_t observed = 0;
    for (;;) {
      // A generation still being set up (kClosed) is not news yet: publish() notifies again when it
      // opens, and a worker that took it for news would then sleep through it.
      auto has_news = [&] {
        if (stopping.load(std::memory_order_acquire)) return true;
        observed = job.load(std::memory_order_acquire);
        return generation_of(observed) != seen && (observed & kIndexMask) != kClosed;
      };
      if (!spin_until(has_news)) {
        std::unique_lock<std::mutex> lock(mutex);
        work_ready.wait(lock, has_news);
      }
      if (stopping.load(std::memory_order_acquire)) return;
      seen = generation_of(observed);
      work_on(seen);
    }
  }
};

ThreadPool::ThreadPool(int num_threads) : state_(std::make_unique<State>()) {
  const int workers = num_threads > 1 ? num_threads - 1 : 0;
  state_->workers.reserve(workers);
  for (int i = 0; i < workers; ++i) {
    state_->workers.emplace_back([s = state_.get()] { s->worker_loop(); });
  }
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(state_->mutex);
    state_->stopping.store(true, std::memory_order_release);
  }
  state_->work_ready.notify_all();
  for (auto& w : state_->workers) w.join();
}

int ThreadPool::size() const { return static_cast<int>(state_->workers.size()) + 1; }

void ThreadPool::run(int num_tasks, const std::function<void(int)>& task) {
  if (num_tasks <= 0) return;
  State& s = *state_;
  if (s.workers.empty() || num_tasks == 1 || tls_inside_pool) {
    for (int i = 0; i < num_tasks; ++i) task(i);
    return;
  }

  std::lock_guard<std::mutex> one_job_at_a_time(s.run_mutex);
  s.publish(task, num_tasks);
  const std::uint32_t gen = generation_of(s.job.load(std::memory_order_relaxed));
  tls_inside_pool = true;
  s.work_on(gen);
  tls_inside_pool = false;

  auto all_finished = [&] { return s.finished.load(std::memory_order_acquire) == num_tasks; };
  if (!spin_until(all_finished)) {
    std::unique_lock<std::mutex> lock(s.mutex);
    s.job_done.wait(lock, all_finished);
  }

  if (s.failed.load(std::memory_order_relaxed)) {
    std::exception_ptr error;
    {
      std::lock_guard<std::mutex> lock(s.mutex);
      std::swap(error, s.error);
    }
    std::rethrow_exception(error);
  }
}

int hardware_threads() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    const int n = CPU_COUNT(&set);
    if (n > 0) return n;
  }
  const unsigned n = std::thread::hardware_concurrency();
  return n > 0 ? static_cast<int>(n) : 1;
}

}  // namespace vitscope
