// vitscope batch: classify every image under the given folders into a CSV or JSONL result file that
// survives interruption, resumes, and splits across processes or machines with --shard.
#include <algorithm>
#include <iostream>
#include <unordered_set>

#include "vitscope/batch/inputs.hpp"
#include "vitscope/batch/pipeline.hpp"
#include "vitscope/batch/resume.hpp"
#include "cli/batch_summary.hpp"
#include "cli/draft_hint.hpp"
#include "cli/commands.hpp"
#include "cli/interrupt.hpp"
#include "cli/model_options.hpp"
#include "cli/progress.hpp"
#include "vitscope/models/predictions.hpp"

namespace vitscope::cli {

using namespace vitscope::batch;  // the batch library this command runs
namespace {

struct BatchOptions {
  ModelOptions model;
  std::vector<std::string> paths;
  std::string out;
  int topk = 5;
  int batch = 8;
  int decode_threads = -1;  // 0: on the model's threads; -1: chosen from the model threads and cores
  bool resume = false;
  std::string shard;
  bool fail_fast = false;
  bool quiet = false;
  double progress_every = 5;
  double max_megapixels = 100;
  ImageReadFlags image_read;  // --exif, --decode
  bool list = false;
};

// Rows of one batch: top-k of each classified input, error rows for the others; failed inputs are
// also reported on stderr.
class ResultSink : public PipelineSink {
 public:
  ResultSink(const std::vector<std::string>& paths, const LoadedModel& loaded, const RowFormat& format,
             int topk, ResultFileWriter& file, Progress& progress)
      : paths_(paths), loaded_(loaded), format_(format), topk_(topk), file_(file), progress_(progress) {}

  std::string format(const std::vector<ModelOutcome>& outcomes) override {
    std::string text;
    for (const ModelOutcome& outcome : outcomes) {
      BatchRow row;
      row.path = paths_[outcome.index];
      row.error = outcome.error;
      row.model = loaded_.model->spec().name;
      row.sha256 = outcome.sha256;
      if (outcome.logits)
        row.predictions = top_k(outcome.logits, loaded_.model->num_classes(), topk_, loaded_.labels);
      else
        progress_.message("vitscope: error: " + outcome.error);
      text += format_.format(row);
    }
    return text;
  }
  void append(const std::string& text) override { file_.append(text); }
  void written(std::size_t ok, std::size_t failed) override { progress_.update(ok, failed); }

 private:
  const std::vector<std::string>& paths_;
  const LoadedModel& loaded_;
  const RowFormat& format_;
  int topk_;
  ResultFileWriter& file_;
  Progress& progress_;
};

// The inputs of this shard without a row in `done`.
std::vector<std::string> paths_to_process(const BatchOptions& options, ResultFormat format,
                                          const std::unordered_set<std::string>& done,
                                          std::size_t& discovered) {
  std::vector<BatchInput> inputs = discover_batch_inputs(options.paths);
  discovered = inputs.size();
  if (!options.shard.empty()) inputs = select_shard(inputs, parse_shard(options.shard));
  std::vector<std::string> paths;
  for (BatchInput& input : inputs)
    if (!done.count(stored_path(format, input.path))) paths.push_back(std::move(input.path));
  return paths;
}

// --list: the files this invocation would classify, without loading the model or writing anything.
int list_inputs(const BatchOptions& options, const ResultExpectations& expect) {
  const PreviousResults previous = read_previous_results(options.out, expect);
  std::size_t discovered = 0;
  for (const std::string& path : paths_to_process(options, expect.format.format(), previous.done, discovered))
    std::cout << path << '\n';
  return kExitOk;
}

int run_batch(const BatchOptions& options) {
  if (!options.shard.empty()) parse_shard(options.shard);  // a bad --shard fails before any work
  ResultExpectations expect{RowFormat(result_format_of(options.out), options.topk),
                            resolve_model(options.model).name, std::nullopt, options.resume, std::nullopt};
  if (options.list) return list_inputs(options, expect);

  LoadedModel loaded = load_model(options.model);
  check_topk(options.topk, *loaded.model);
  expect.model = loaded.model->spec().name;
  expect.predictions = static_cast<std::size_t>(std::min(options.topk, loaded.model->num_classes()));
  expect.settings = settings_of(loaded.model->spec(), static_cast<int>(*expect.predictions), parse_exif_mode(options.image_read.exif), parse_decode_mode(options.image_read.decode));
  OpenedResults results = open_results(options.out, expect);
  std::size_t discovered = 0;
  const std::vector<std::string> paths =
      paths_to_process(options, expect.format.format(), results.previous.done, discovered);
  if (discovered == 0) {
    std::cerr << "vitscope: error: no images found in the given paths\n";
    return kExitSomeInputsFailed;
  }

  PipelineOptions pipeline;
  pipeline.batch_size = options.batch;
  // By default, when the model has every core, images are prepared on its threads between
  // forward passes; otherwise one decode thread per four model threads runs beside it.
  const int model_threads = loaded.pool->size();
  if (options.decode_threads == 0 || (options.decode_threads < 0 && model_threads >= hardware_threads())) {
    pipeline.prepare_pool = loaded.pool.get();
  } else {
    pipeline.decode_threads =
        options.decode_threads > 0 ? options.decode_threads : std::max(1, (model_threads + 3) / 4);
  }
  pipeline.load = image_load_options(options.image_read, {loaded.model->spec().preprocess}, options.max_megapixels);
  pipeline.fail_fast = options.fail_fast;
  const InterruptFlag interrupt;
  pipeline.cancel = &interrupt.flag();

  const std::size_t done_earlier = results.previous.done.size();
  if (!options.quiet)
    std::cerr << "vitscope batch: " << count_of(paths.size(), "image") << " to classify"
              << (done_earlier > 0 ? " (" + std::to_string(done_earlier) + " done earlier)" : "")
              << " with " << expect.model << ", batch " << options.batch << ", "
              << count_of(static_cast<std::size_t>(model_threads), "model thread") << ", "
              << (pipeline.prepare_pool
                      ? std::string("images prepared on the model threads between batches")
                      : count_of(static_cast<std::size_t>(pipeline.decode_threads), "decode thread"))
              << '\n';
  Progress progress(paths.size(), Progress::mode_for_stderr(options.quiet), options.progress_every,
                    std::cerr);
  ResultSink sink(paths, loaded, expect.format, options.topk, *results.writer, progress);
  PipelineStats stats;
  SummaryContext context{done_earlier, options.out, 0};
  try {
    run_pipeline(*loaded.model, loaded.session, paths, pipeline, sink, stats);
  } catch (...) {
    progress.finish();
    std::cerr << batch_summary(stats, context);
    throw;  // printed by main as one line, exit status 2
  }
  progress.finish();
  context.interrupt_signal = interrupt.signal();
  std::cerr << batch_summary(stats, context);
  if (!interrupt.flag().load()) {
    ImageReadFlags as_draft = options.image_read;
    as_draft.decode = "draft";
    std::cerr << draft_hint({&stats, &paths, pipeline.load,
                             image_load_options(as_draft, {loaded.model->spec().preprocess}, options.max_megapixels),
                             loaded.model->spec().preprocess, model_threads});
  }
  if (stats.stop == PipelineStats::Stop::Cancelled) return 128 + interrupt.signal();
  return stats.failed > 0 ? kExitSomeInputsFailed : kExitOk;
}

}  // namespace

Subcommand add_batch_command(CLI::App& app) {
  auto o = std::make_shared<BatchOptions>();
  CLI::App* cmd = app.add_subcommand(
      "batch", "Classify every image under the given folders into a CSV or JSONL file (resumable, shardable)");
  add_model_options(*cmd, o->model);
  cmd->add_option("paths", o->paths, "Folders (searched recursively; images recognised by content) or files")
      ->required();
  cmd->add_option("--out,-o", o->out, "Result file, *.csv or *.jsonl; rows are appended a batch at a time")
      ->required();
  cmd->add_option("--topk,-k", o->topk, "Classes per image")->check(CLI::Range(1, 100000))->capture_default_str();
  cmd->add_option("--batch,-b", o->batch, "Images per forward pass")->check(CLI::Range(1, 4096))->capture_default_str();
  cmd->add_option("--decode-threads", o->decode_threads,
                  "Threads reading and decoding images beside the model; 0: none, the images are prepared on the "
                  "model's threads between batches (default: 0 when the model's threads take every core, otherwise "
                  "one per four model threads)")
      ->check(CLI::Range(0, 1024));
  cmd->add_flag("--resume", o->resume,
                "Complete an existing result file: skip inputs with an ok row, retry the failed ones");
  cmd->add_option("--shard", o->shard,
                  "K/N: classify only part K of N (by a hash of each file's path below its folder)");
  cmd->add_flag("--fail-fast", o->fail_fast, "Stop after the batch holding the first failed input");
  cmd->add_flag("--quiet,-q", o->quiet, "No progress and no per-file error lines on stderr");
  cmd->add_option("--progress-every", o->progress_every,
                  "Seconds between progress lines when stderr is not a terminal")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  add_image_read_options(*cmd, o->image_read);
  cmd->add_option("--max-megapixels", o->max_megapixels,
                  "Refuse images larger than this many megapixels (1e-6 to 1e6), before decoding them")
      ->check(megapixel_limit())
      ->capture_default_str();
  cmd->add_flag("--list", o->list,
                "Print the files this run would classify (after --shard and --resume) and exit");
  return {cmd, [o] { return run_batch(*o); }};
}

}  // namespace vitscope::cli
