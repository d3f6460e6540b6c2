// A loaded model is immutable: sessions run it from several threads at once and each gets exactly
// the results it gets alone. Also built with ThreadSanitizer (scripts/test.sh --tsan).
#include <thread>
#include <vector>

#include "test_cnn_cases.hpp"
#include "test_helpers.hpp"
#include "vit_golden_case.hpp"
#include "vitscope/models/cnn.hpp"
#include "vitscope/models/vit.hpp"

using namespace vitscope;
using namespace vitscope::testing;

namespace {

constexpr int kRounds = 3;

// Runs `run(session, round)` on two threads at once, each with its own session (on its own
// one-thread pool or, with shared_pool, both on one pool of two threads), kRounds times, and returns
// every result in the order [thread][round].
template <class Run>
std::vector<std::vector<xt::xtensor<float, 2>>> run_concurrently(Run run, ThreadPool* shared_pool) {
  std::vector<std::vector<xt::xtensor<float, 2>>> results(2);
  std::vector<std::thread> threads;
  for (int t = 0; t < 2; ++t)
    threads.emplace_back([&, t] {
      Session session(shared_pool);
      for (int round = 0; round < kRounds; ++round) results[t].push_back(run(session, t));
    });
  for (std::thread& thread : threads) thread.join();
  return results;
}

void check_bitwise(const std::vector<std::vector<xt::xtensor<float, 2>>>& results,
                   const std::vector<xt::xtensor<float, 2>>& alone) {
  for (std::size_t t = 0; t < results.size(); ++t)
    for (const xt::xtensor<float, 2>& r : results[t]) {
      CAPTURE(t);
      REQUIRE(r.shape() == alone[t].shape());
      CHECK(max_abs_difference(r, alone[t]).max_abs == 0.0);
    }
}

}  // namespace

TEST_CASE("Two sessions run one ViT at once and get bitwise the results of one", "[models][sessions]") {
  GoldenCase c = open_case("tokens197");
  const auto model = VitModel::load(c.weights, c.spec, nullptr);
  const xt::xtensor<float, 4> input = input_of(c);
  // Thread 0 runs the plain model; thread 1 a windowed variant that records everything, so that
  // the two share no code path they could hide a race in.
  VitForwardOptions variant;
  variant.window = 5;
  variant.record_attention = variant.record_tokens = true;
  auto run = [&](Session& session, int t) {
    return t == 0 ? model->forward(input, session) : model->forward(input, session, variant);
  };
  Session solo;
  const std::vector<xt::xtensor<float, 2>> alone{run(solo, 0), run(solo, 1)};
  SECTION("each session on the calling thread") { check_bitwise(run_concurrently(run, nullptr), alone); }
  SECTION("both sessions on one shared pool") {
    ThreadPool pool(2);
    Session pooled(&pool);
    const std::vector<xt::xtensor<float, 2>> alone_pooled{run(pooled, 0), run(pooled, 1)};
    check_bitwise(run_concurrently(run, &pool), alone_pooled);
    // The thread count does not change the bits either.
    for (int t = 0; t < 2; ++t) CHECK(max_abs_difference(alone_pooled[t], alone[t]).max_abs == 0.0);
  }
}

TEST_CASE("Two sessions run one CNN at once and get bitwise the results of one", "[models][sessions]") {
  const CnnCase c = open_cnn_case("mobilenet_v1");
  const auto model = c.load(nullptr);
  const xt::xtensor<float, 4> input = c.input();
  auto run = [&](Session& session, int t) {
    return model->forward(input, session, /*record_features=*/t == 1);
  };
  Session solo;
  const std::vector<xt::xtensor<float, 2>> alone{run(solo, 0), run(solo, 1)};
  check_bitwise(run_concurrently(run, nullptr), alone);
}

TEST_CASE("A session serves several models, each with its own state", "[models][sessions]") {
  GoldenCase vit_case = open_case("square");
  const CnnCase cnn_case = open_cnn_case("resnet18");
  const auto vit = VitModel::load(vit_case.weights, vit_case.spec, nullptr);
  const auto cnn = cnn_case.load(nullptr);
  Session session;
  const xt::xtensor<float, 2> vit_first = vit->forward(input_of(vit_case), session);
  const xt::xtensor<float, 2> cnn_first = cnn->forward(cnn_case.input(), session);
  CHECK(max_abs_difference(vit->forward(input_of(vit_case), session), vit_first).max_abs == 0.0);
  CHECK(max_abs_difference(cnn->forward(cnn_case.input(), session), cnn_first).max_abs == 0.0);
}
