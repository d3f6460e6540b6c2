#include "vitscope/batch/pipeline.hpp"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <optional>
#include <thread>

#include "batch/bounded_queue.hpp"
#include "vitscope/batch/runner.hpp"

namespace vitscope::batch {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Formatted rows of one batch, on their way to the writer.
struct WriteItem {
  std::string text;
  std::size_t ok = 0, failed = 0;
};

// How many batches the writer may lag behind the model (each one is only text).
constexpr std::size_t kWriteQueueBatches = 2;

class Pipeline {
 public:
  Pipeline(const ImageClassifier& model, Session& session, const std::vector<std::string>& paths,
           const PipelineOptions& options, PipelineSink& sink, PipelineStats& stats)
      : model_(model),
        session_(session),
        paths_(paths),
        options_(options),
        sink_(sink),
        stats_(stats),
        batch_(static_cast<std::size_t>(std::max(1, options.batch_size))),
        window_(batch_ * static_cast<std::size_t>(std::max(2, options.queue_batches))),
        slots_(window_),
        write_queue_(kWriteQueueBatches) {}

  void run() {
    const auto start = Clock::now();
    stats_.prepared_on_model_threads = options_.prepare_pool != nullptr;
    stats_.decode_threads = options_.prepare_pool ? options_.prepare_pool->size()
                                                  : std::max(1, options_.decode_threads);
    std::thread writer([this] { write_loop(); });
    std::vector<std::thread> workers;
    if (!options_.prepare_pool) {
      for (int t = 0; t < stats_.decode_threads; ++t) workers.emplace_back([this] { decode_loop(); });
    }

    std::exception_ptr model_error;
    try {
      model_loop();
    } catch (...) {
      model_error = std::current_exception();
      stats_.stop = PipelineStats::Stop::Failed;
    }
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    space_free_.notify_all();
    write_queue_.close();  // the writer still writes what it was given
    writer.join();
    for (std::thread& worker : workers) worker.join();
    stats_.seconds = seconds_since(start);
    if (writer_error_) {
      stats_.stop = PipelineStats::Stop::Failed;
      std::rethrow_exception(writer_error_);
    }
    if (model_error) std::rethrow_exception(model_error);
  }

 private:
  struct Slot {
    bool ready = false;
    PreparedImage image;
  };

  void decode_loop() {
    const PreprocessConfig& config = model_.spec().preprocess;
    for (;;) {
      std::size_t index;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        space_free_.wait(lock, [&] {
          return stopping_ || next_claim_ >= paths_.size() || next_claim_ < consumed_ + window_;
        });
        if (stopping_ || next_claim_ >= paths_.size()) return;
        index = next_claim_++;
      }
      PreparedImage image = prepare_image(paths_[index], options_.load, config);
      {
        std::lock_guard<std::mutex> lock(mutex_);
        stats_.prepare += image.times;
        ++stats_.prepared;
        slots_[index % window_] = Slot{true, std::move(image)};
      }
      slot_ready_.notify_all();
    }
  }

  // Takes the prepared images of [first, end) out of the window, in order, and frees their slots.
  std::vector<PreparedImage> take(std::size_t first, std::size_t end) {
    std::vector<PreparedImage> images;
    const auto wait_start = Clock::now();
    std::unique_lock<std::mutex> lock(mutex_);
    for (std::size_t i = first; i < end; ++i) {
      Slot& slot = slots_[i % window_];
      slot_ready_.wait(lock, [&] { return slot.ready; });
      images.push_back(std::move(slot.image));
      slot = Slot{};
    }
    stats_.model_waiting += seconds_since(wait_start);
    consumed_ = end;
    lock.unlock();
    space_free_.notify_all();
    return images;
  }

  // Without decode threads: the prepared images of [first, end), preparing the next chunk of
  // inputs on the pool when they run out. A chunk of at least four images per thread keeps the
  // threads evenly loaded (images differ in size), and one image's CPU time is small next to a
  // forward pass, so the cores are never left idle for long.
  std::vector<PreparedImage> prepare_here(std::size_t first, std::size_t end) {
    ThreadPool& pool = *options_.prepare_pool;
    const std::size_t prepared_end = ahead_first_ + ahead_.size();
    if (end > prepared_end) {
      const std::size_t chunk = std::max(batch_, 4 * static_cast<std::size_t>(pool.size()));
      const std::size_t to = std::min(paths_.size(), std::max(end, prepared_end + chunk));
      std::vector<PreparedImage> fresh(to - prepared_end);
      const PreprocessConfig& config = model_.spec().preprocess;
      const auto start = Clock::now();
      pool.run(static_cast<int>(fresh.size()), [&](int i) {
        fresh[static_cast<std::size_t>(i)] =
            prepare_image(paths_[prepared_end + static_cast<std::size_t>(i)], options_.load, config);
      });
      stats_.model_waiting += seconds_since(start);
      for (PreparedImage& image : fresh) {
        stats_.prepare += image.times;
        ahead_.push_back(std::move(image));
      }
      stats_.prepared += fresh.size();
    }
    std::vector<PreparedImage> images;
    for (std::size_t i = first; i < end; ++i) {
      images.push_back(std::move(ahead_.front()));
      ahead_.pop_front();
      ++ahead_first_;
    }
    return images;
  }

  void model_loop() {
    const PreprocessConfig& config = model_.spec().preprocess;
    const auto height = static_cast<std::size_t>(config.input_height);
    const auto width = static_cast<std::size_t>(config.input_width);
    const std::size_t classes = static_cast<std::size_t>(model_.num_classes());
    for (std::size_t first = 0; first < paths_.size(); first += batch_) {
      if (options_.cancel && options_.cancel->load()) {
        stats_.stop = PipelineStats::Stop::Cancelled;
        return;
      }
      const std::size_t end = std::min(paths_.size(), first + batch_);
      std::vector<PreparedImage> images =
          options_.prepare_pool ? prepare_here(first, end) : take(first, end);

      const auto start = Clock::now();
      std::vector<std::size_t> good;
      for (std::size_t i = 0; i < images.size(); ++i)
        if (images[i].error.empty()) good.push_back(i);
      xt::xtensor<float, 2> logits;
      if (!good.empty()) {
        auto batch = xt::xtensor<float, 4>::from_shape({good.size(), 3, height, width});
        const std::size_t image_size = 3 * height * width;
        for (std::size_t g = 0; g < good.size(); ++g) {
          const auto& tensor = images[good[g]].tensor;
          std::copy(tensor.begin(), tensor.end(), batch.begin() + static_cast<std::ptrdiff_t>(g * image_size));
        }
        logits = model_.forward(batch, session_);
      }
      WriteItem item;
      std::vector<ModelOutcome> outcomes(images.size());
      for (std::size_t i = 0, next_good = 0; i < images.size(); ++i) {
        ModelOutcome& outcome = outcomes[i];
        outcome.index = first + i;
        outcome.sha256 = std::move(images[i].sha256);
        outcome.error = std::move(images[i].error);
        if (outcome.error.empty()) {
          outcome.logits = logits.data() + next_good++ * classes;
          outcome.error = non_finite_logits_error(outcome.logits, static_cast<int>(classes), paths_[first + i],
                                                  model_.spec().name);
          if (!outcome.error.empty()) outcome.logits = nullptr;
        }
        if (outcome.error.empty()) {
          ++item.ok;
        } else {
          ++item.failed;
        }
      }
      item.text = sink_.format(outcomes);
      stats_.model += seconds_since(start);
      stats_.modelled += outcomes.size();

      const bool any_failed = item.failed > 0;
      if (!write_queue_.push(std::move(item))) return;  // the writer failed
      if (options_.fail_fast && any_failed) {
        stats_.stop = PipelineStats::Stop::FailFast;
        return;
      }
    }
  }

  void write_loop() {
    std::size_t ok = 0, failed = 0;
    while (std::optional<WriteItem> item = write_queue_.pop()) {
      try {
        const auto start = Clock::now();
        sink_.append(item->text);
        stats_.write += seconds_since(start);
        ok += item->ok;
        failed += item->failed;
        stats_.ok = ok;
        stats_.failed = failed;
        sink_.written(ok, failed);
      } catch (...) {
        writer_error_ = std::current_exception();
        write_queue_.close();  // later batches are dropped; the model loop sees the closed queue
        return;
      }
    }
  }

  const ImageClassifier& model_;
  Session& session_;
  const std::vector<std::string>& paths_;
  const PipelineOptions& options_;
  PipelineSink& sink_;
  PipelineStats& stats_;
  const std::size_t batch_;
  const std::size_t window_;

  std::mutex mutex_;  // guards the slots, the counters below and stats_.prepare
  std::condition_variable slot_ready_, space_free_;
  std::vector<Slot> slots_;    // input i lives in slot i % window_
  // Without decode threads: inputs [ahead_first_, ahead_first_ + ahead_.size()), prepared.
  std::deque<PreparedImage> ahead_;
  std::size_t ahead_first_ = 0;
  std::size_t next_claim_ = 0;  // next input a worker will take
  std::size_t consumed_ = 0;    // inputs taken by the model thread
  bool stopping_ = false;

  BoundedQueue<WriteItem> write_queue_;
  std::exception_ptr writer_error_;  // set by the writer thread before it ends; read after join
};

}  // namespace

void run_pipeline(const ImageClassifier& model, Session& session, const std::vector<std::string>& paths,
                  const PipelineOptions& options, PipelineSink& sink, PipelineStats& stats) {
  Pipeline(model, session, paths, options, sink, stats).run();
}

}  // namespace vitscope::batch
