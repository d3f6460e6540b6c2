// ThreadPool: every index runs exactly once, exceptions reach the caller, the pool survives many
// consecutive jobs, and nested runs do not deadlock.
#include <atomic>
#include <stdexcept>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "vitscope/core/thread_pool.hpp"

namespace vitscope {
namespace {

TEST_CASE("hardware_threads is at least 1", "[thread_pool]") { CHECK(hardware_threads() >= 1); }

TEST_CASE("every task index runs exactly once", "[thread_pool]") {
  for (int threads : {1, 2, 3, 8}) {
    ThreadPool pool(threads);
    CHECK(pool.size() == threads);
    for (int tasks : {0, 1, 2, 3, 7, 64, 1000}) {
      INFO("threads=" << threads << " tasks=" << tasks);
      std::vector<std::atomic<int>> runs(tasks);
      pool.run(tasks, [&](int i) { runs[i].fetch_add(1); });
      int wrong = 0;
      for (auto& r : runs) wrong += r.load() != 1;
      CHECK(wrong == 0);
    }
  }
}

TEST_CASE("ThreadPool(1) runs tasks inline on the calling thread", "[thread_pool]") {
  ThreadPool pool(1);
  const auto caller = std::this_thread::get_id();
  int other_thread = 0;
  pool.run(10, [&](int) { other_thread += std::this_thread::get_id() != caller; });
  CHECK(other_thread == 0);
}

TEST_CASE("more than one thread takes part", "[thread_pool]") {
  ThreadPool pool(2);
  // Tasks that wait until two distinct threads have arrived can only finish if the worker joins in.
  std::atomic<int> arrived{0};
  pool.run(2, [&](int) {
    arrived.fetch_add(1);
    while (arrived.load() < 2) std::this_thread::yield();
  });
  CHECK(arrived.load() == 2);
}

TEST_CASE("an exception thrown by a task is rethrown by run", "[thread_pool]") {
  for (int threads : {1, 2}) {
    INFO("threads=" << threads);
    ThreadPool pool(threads);
    for (int failing : {0, 5, 99}) {
      CHECK_THROWS_WITH(
          pool.run(100,
                   [&](int i) {
                     if (i == failing)
                       throw std::runtime_error("task " + std::to_string(i) + " failed");
                   }),
          "task " + std::to_string(failing) + " failed");
    }
    // The pool stays usable after a failed job.
    std::atomic<int> sum{0};
    pool.run(100, [&](int i) { sum.fetch_add(i); });
    CHECK(sum.load() == 4950);
  }
}

TEST_CASE("many consecutive small jobs", "[thread_pool]") {
  ThreadPool pool(2);
  std::vector<int> out(4);
  long long total = 0;
  for (int job = 0; job < 20000; ++job) {
    pool.run(4, [&](int i) { out[i] = job + i; });
    for (int v : out) total += v;
  }
  // Σ_job (4·job + 6)
  CHECK(total == 4LL * (19999LL * 20000 / 2) + 6LL * 20000);
}

TEST_CASE("a run nested inside a task runs inline instead of deadlocking", "[thread_pool]") {
  ThreadPool pool(2);
  std::vector<std::atomic<int>> runs(4 * 8);
  pool.run(
      4, [&](int outer) { pool.run(8, [&](int inner) { runs[outer * 8 + inner].fetch_add(1); }); });
  int wrong = 0;
  for (auto& r : runs) wrong += r.load() != 1;
  CHECK(wrong == 0);
}

TEST_CASE("two threads may share one pool", "[thread_pool]") {
  ThreadPool pool(2);
  std::atomic<long> sum{0};
  auto client = [&] {
    for (int job = 0; job < 500; ++job) pool.run(3, [&](int i) { sum.fetch_add(i + 1); });
  };
  std::thread other(client);
  client();
  other.join();
  CHECK(sum.load() == 2 * 500 * 6);
}

}  // namespace
}  // namespace vitscope
