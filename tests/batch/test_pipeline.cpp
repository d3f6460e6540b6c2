// The batch pipeline as a library: a fake classifier and a recording sink instead of a model and a
// result file, so that order, batching, failures, fail-fast, cancellation and errors from the
// model or the sink are checked without spawning the executable.
#include <atomic>
#include <string>
#include <vector>

#include "batch/fake_model.hpp"
#include "vitscope/batch/prepare.hpp"
#include "vitscope/batch/runner.hpp"
#include "vitscope/core/error.hpp"
#include "vitscope/core/thread_pool.hpp"

using namespace vitscope;
using namespace vitscope::testing;
using Catch::Matchers::Contains;

namespace {

// What RecordingSink must hold for these paths when every one of them is written.
std::vector<std::string> expected_lines(const FakeClassifier& model, const std::vector<std::string>& paths) {
  RecordingSink formatter;
  std::vector<std::string> lines;
  for (std::size_t i = 0; i < paths.size(); ++i) {
    batch::PreparedImage prepared = batch::prepare_image(paths[i], {}, model.spec().preprocess);
    batch::ModelOutcome outcome{i, prepared.sha256, prepared.error, nullptr};
    xt::xtensor<float, 2> logits;
    if (prepared.error.empty()) {
      xt::xtensor<float, 4> one = xt::xtensor<float, 4>::from_shape({1, 3, 32, 32});
      std::copy(prepared.tensor.begin(), prepared.tensor.end(), one.begin());
      logits = FakeClassifier::expected_logits(one);
      outcome.logits = logits.data();
    }
    std::string line = formatter.format({outcome});
    line.pop_back();
    lines.push_back(line);
  }
  return lines;
}

}  // namespace

TEST_CASE("Every input gets one row, in input order, in batches of at most batch_size", "[batch][pipeline]") {
  ImageFolder folder("order", 23, {4, 17});
  const FakeClassifier expected_model;
  const std::vector<std::string> expected = expected_lines(expected_model, folder.paths);
  struct Setup {
    const char* name;
    int batch_size, decode_threads;
    bool prepare_on_model_threads;
  };
  const Setup setup = GENERATE(Setup{"one decode thread, batch 8", 8, 1, false},
                               Setup{"two decode threads, batch 5", 5, 2, false},
                               Setup{"prepared on the model's pool, batch 3", 3, 1, true},
                               Setup{"batch 1", 1, 1, false});
  CAPTURE(setup.name);
  ThreadPool pool(2);
  Session session(&pool);
  FakeClassifier model;
  RecordingSink sink;
  batch::PipelineOptions options;
  options.batch_size = setup.batch_size;
  options.decode_threads = setup.decode_threads;
  options.prepare_pool = setup.prepare_on_model_threads ? &pool : nullptr;
  batch::PipelineStats stats;
  batch::run_pipeline(model, session, folder.paths, options, sink, stats);

  CHECK(stats.stop == batch::PipelineStats::Stop::Completed);
  CHECK(sink.lines() == expected);
  CHECK(stats.ok == 21);
  CHECK(stats.failed == 2);
  CHECK(sink.ok_reported == 21);
  CHECK(sink.failed_reported == 2);
  CHECK(stats.prepared_on_model_threads == setup.prepare_on_model_threads);
  std::size_t modelled = 0;
  for (std::size_t size : model.batch_sizes()) {
    CHECK(size >= 1);
    CHECK(size <= static_cast<std::size_t>(setup.batch_size));
    modelled += size;
  }
  CHECK(modelled == 21);  // the two empty files never reach the model
  CHECK_THAT(sink.lines()[4], Contains("004.jpg: empty file"));
}

TEST_CASE("fail_fast stops after the batch that holds the first failure", "[batch][pipeline]") {
  ImageFolder folder("fail_fast", 20, {6});
  FakeClassifier model;
  Session session;
  RecordingSink sink;
  batch::PipelineOptions options;
  options.batch_size = 4;
  options.fail_fast = true;
  batch::PipelineStats stats;
  batch::run_pipeline(model, session, folder.paths, options, sink, stats);
  CHECK(stats.stop == batch::PipelineStats::Stop::FailFast);
  REQUIRE(sink.lines().size() == 8);  // batches [0, 4) and [4, 8): the failure is input 6
  const std::vector<std::string> all = expected_lines(model, folder.paths);
  CHECK(sink.lines() == std::vector<std::string>(all.begin(), all.begin() + 8));
}

TEST_CASE("A cancel request stops the run before the next batch; what is written is a prefix", "[batch][pipeline]") {
  ImageFolder folder("cancel", 12);
  FakeClassifier model;
  Session session;
  std::atomic<bool> cancel{true};  // asked before the run: no batch starts
  RecordingSink sink;
  batch::PipelineOptions options;
  options.batch_size = 4;
  options.cancel = &cancel;
  batch::PipelineStats stats;
  batch::run_pipeline(model, session, folder.paths, options, sink, stats);
  CHECK(stats.stop == batch::PipelineStats::Stop::Cancelled);
  CHECK(sink.lines().empty());
  CHECK(model.batch_sizes().empty());
}

namespace {

// Runs 12 images in batches of 4 through model and sink, which must fail with `message`; returns
// the run's statistics.
batch::PipelineStats run_failing(const FakeClassifier& model, RecordingSink& sink, const ImageFolder& folder,
                                 const char* message) {
  Session session;
  batch::PipelineOptions options;
  options.batch_size = 4;
  batch::PipelineStats stats;
  CHECK_THROWS_WITH(batch::run_pipeline(model, session, folder.paths, options, sink, stats), Contains(message));
  CHECK(stats.stop == batch::PipelineStats::Stop::Failed);
  return stats;
}

}  // namespace

TEST_CASE("A model that throws: the batches before it are written, then the error is rethrown", "[batch][pipeline]") {
  ImageFolder folder("model_throws", 12);
  FakeClassifier model(/*fail_on_call=*/2);
  RecordingSink sink;
  const batch::PipelineStats stats = run_failing(model, sink, folder, "fake model failure");
  const std::vector<std::string> all = expected_lines(model, folder.paths);
  CHECK(sink.lines() == std::vector<std::string>(all.begin(), all.begin() + 8));
  CHECK(stats.ok == 8);
}

TEST_CASE("A sink that cannot append stops the run and its error is rethrown", "[batch][pipeline]") {
  ImageFolder folder("sink_throws", 12);
  FakeClassifier model;
  RecordingSink sink(/*fail_on_append=*/1);
  const batch::PipelineStats stats = run_failing(model, sink, folder, "fake disk full");
  CHECK(sink.lines().size() == 4);  // the first batch only
  CHECK(stats.ok == 4);
}

TEST_CASE("run_in_batches over two models: both classify every image, in input order, errors to both",
          "[batch][runner]") {
  ImageFolder folder("runner_two", 7, {3});
  ThreadPool pool(2);
  Session first_session(&pool), second_session(&pool);
  FakeClassifier first, second;
  struct Result {
    std::size_t index;
    std::string error;
    float logit0;
  };
  std::vector<Result> first_results, second_results, alone_results;
  auto keep = [](std::vector<Result>& into) {
    return [&into](std::size_t i, const std::string& error, const float* logits) {
      into.push_back({i, error, logits ? logits[0] : -1.0f});
    };
  };
  batch::run_in_batches({{&first, &first_session, keep(first_results)}, {&second, &second_session, keep(second_results)}},
                        folder.paths, {});
  CHECK(first.batch_sizes() == second.batch_sizes());  // the same decoded batches
  FakeClassifier alone;
  batch::run_in_batches(alone, first_session, folder.paths, {}, keep(alone_results));
  REQUIRE(first_results.size() == 7);
  REQUIRE(second_results.size() == 7);
  REQUIRE(alone_results.size() == 7);
  for (std::size_t i = 0; i < 7; ++i) {
    CAPTURE(i);
    CHECK(first_results[i].index == i);
    CHECK(second_results[i].index == i);
    CHECK(first_results[i].error == alone_results[i].error);
    CHECK(second_results[i].error == alone_results[i].error);
    CHECK(first_results[i].logit0 == alone_results[i].logit0);
    CHECK(second_results[i].logit0 == alone_results[i].logit0);
    // Each row is its own image's: the fake model's logits of that image preprocessed alone.
    const batch::PreparedImage prepared = batch::prepare_image(folder.paths[i], {}, first.spec().preprocess);
    if (prepared.error.empty()) {
      xt::xtensor<float, 4> one = xt::xtensor<float, 4>::from_shape({1, 3, 32, 32});
      std::copy(prepared.tensor.begin(), prepared.tensor.end(), one.begin());
      CHECK(second_results[i].logit0 == FakeClassifier::expected_logits(one)(0, 0));
    } else {
      CHECK_FALSE(second_results[i].error.empty());
    }
  }
  CHECK_THAT(first_results[3].error, Contains(folder.paths[3]));
  CHECK(first_results[0].error.empty());

  FakeClassifier other_size(-1, 48);
  std::vector<Result> ignored;
  CHECK_THROWS_AS(batch::run_in_batches({{&first, &first_session, keep(ignored)}, {&other_size, &second_session, keep(ignored)}},
                                        folder.paths, {}),
                  ConfigError);
}
