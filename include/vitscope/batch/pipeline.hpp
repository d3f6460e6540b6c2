#pragma once
// The batch run's pipeline:
//
//   decode workers (read, SHA-256, decode, preprocess; separate threads from the model's pool)
//     → a window of prepared images, at most queue_batches × batch_size ahead of the model
//   or, when the model's threads already take every core (PipelineOptions::prepare_pool), the
//   same preparation on the model's own threads, a chunk of images at a time between forward
//   passes: a decode thread would only take a core from the model mid-pass and evict its caches
//     → the model thread (the caller): batches of batch_size inputs in input order, forward pass,
//       rows formatted
//     → a bounded queue of formatted batches → the writer thread (append + fdatasync)
//
// Memory is bounded by the window and the queue, whatever the number of inputs. Rows leave in input
// order, a batch at a time, so what is written is always a prefix of the inputs.
#include <atomic>
#include <cstddef>
#include <string>
#include <vector>

#include "vitscope/batch/prepare.hpp"
#include "vitscope/models/classifier.hpp"
#include "vitscope/io/image.hpp"

namespace vitscope::batch {

struct PipelineOptions {
  int batch_size = 8;
  int decode_threads = 1;
  // When set (the model's pool), images are prepared on it between forward passes and there are
  // no decode threads.
  ThreadPool* prepare_pool = nullptr;
  int queue_batches = 3;  // prepared images held ahead of the model, in batches (at least 2)
  ImageLoadOptions load;
  bool fail_fast = false;                     // stop after the batch holding the first failure
  const std::atomic<bool>* cancel = nullptr;  // when set: stop before the next batch
};

// One input as the model left it.
struct ModelOutcome {
  std::size_t index = 0;  // into the inputs
  std::string sha256;
  std::string error;              // empty when classified
  const float* logits = nullptr;  // [num_classes] when classified; valid during the call only
};

class PipelineSink {
 public:
  virtual ~PipelineSink() = default;
  // Model thread, once per batch, in input order: the text to append for these outcomes.
  virtual std::string format(const std::vector<ModelOutcome>& outcomes) = 0;
  // Writer thread: appends the text durably; an exception stops the run and is rethrown.
  virtual void append(const std::string& text) = 0;
  // Writer thread, after each append: rows written so far.
  virtual void written(std::size_t ok, std::size_t failed) = 0;
};

struct PipelineStats {
  enum class Stop { Completed, FailFast, Cancelled, Failed };
  Stop stop = Stop::Completed;
  std::size_t ok = 0, failed = 0;  // rows written
  double seconds = 0;              // wall time of the run
  std::size_t prepared = 0;        // inputs read and decoded (some may not reach the model)
  PrepareTimes prepare;            // summed over the decode workers
  int decode_threads = 1;          // threads preparing images (the model's, with prepare_pool)
  bool prepared_on_model_threads = false;
  // When set (the model's pool), images are prepared on it between forward passes and there are
  // no decode threads.
  ThreadPool* prepare_pool = nullptr;
  std::size_t modelled = 0;  // inputs through the model thread
  double model = 0;          // forward passes (and top-k, formatting)
  double model_waiting = 0;  // model thread waiting for prepared images (or preparing them)
  double write = 0;          // appends, fdatasync included
};

// Runs every input through the model and hands the rows to the sink. Rethrows the first exception
// of the model or the sink after every batch before it has been written; `stats` is filled either
// way.
void run_pipeline(const ImageClassifier& model, Session& session, const std::vector<std::string>& paths,
                  const PipelineOptions& options, PipelineSink& sink, PipelineStats& stats);

}  // namespace vitscope::batch
