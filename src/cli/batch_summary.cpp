#include "cli/batch_summary.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>

namespace vitscope::cli {

using batch::PipelineStats;
using batch::PrepareTimes;
namespace {

double ms_per(double seconds, std::size_t count) {
  return count > 0 ? 1e3 * seconds / static_cast<double>(count) : 0.0;
}

}  // namespace

std::string count_of(std::size_t count, const std::string& noun) {
  return std::to_string(count) + " " + noun + (count == 1 ? "" : "s");
}

std::string batch_summary(const PipelineStats& s, const SummaryContext& context) {
  const std::size_t written = s.ok + s.failed;
  char line[768];
  std::string text;
  std::snprintf(line, sizeof line, "vitscope batch: %s in %.1f s (%.1f images/s): %zu ok, %zu failed",
                count_of(written, "image").c_str(), s.seconds, s.seconds > 0 ? static_cast<double>(written) / s.seconds : 0.0,
                s.ok, s.failed);
  text += line;
  if (context.done_earlier > 0) text += "; " + std::to_string(context.done_earlier) + " done earlier";
  text += "; results in " + context.out_path + "\n";

  const PrepareTimes& p = s.prepare;
  // A stage's time per image divided by the threads it runs on: the largest bounds the throughput.
  const double decode_stage =
      ms_per(p.read + p.hash + p.decode + p.preprocess, s.prepared) / std::max(1, s.decode_threads);
  const double model_stage = ms_per(s.model, s.modelled);
  const double write_stage = ms_per(s.write, written);
  const char* slowest = "model";
  if (decode_stage > model_stage && decode_stage >= write_stage) slowest = "reading and decoding";
  else if (write_stage > model_stage) slowest = "writing";
  const std::string where =
      s.prepared_on_model_threads
          ? "on the " + count_of(static_cast<std::size_t>(s.decode_threads), "model thread") +
                " between batches"
          : "on " + count_of(static_cast<std::size_t>(s.decode_threads), "decode thread");
  char waited[96];
  std::snprintf(waited, sizeof waited,
                s.prepared_on_model_threads ? "the model's threads spent %.1f s preparing images"
                                            : "the model waited %.1f s for images",
                s.model_waiting);
  std::snprintf(line, sizeof line,
                "time per image: read %.2f ms, sha256 %.2f ms, decode %.2f ms, preprocess %.2f ms "
                "(%s), model %.2f ms, write %.2f ms; slowest stage: %s (%s)\n",
                ms_per(p.read, s.prepared), ms_per(p.hash, s.prepared), ms_per(p.decode, s.prepared),
                ms_per(p.preprocess, s.prepared), where.c_str(), model_stage, write_stage, slowest, waited);
  text += line;

  switch (s.stop) {
    case PipelineStats::Stop::Completed: break;
    case PipelineStats::Stop::FailFast:
      text += "vitscope batch: stopped at the first failed input (--fail-fast)\n";
      break;
    case PipelineStats::Stop::Cancelled:
      text += std::string("vitscope batch: interrupted by ") +
              (context.interrupt_signal > 0 ? strsignal(context.interrupt_signal) : "a signal") +
              "; the rows written are kept and --resume completes the run\n";
      break;
    case PipelineStats::Stop::Failed:
      text += "vitscope batch: stopped by the error below; the " + std::to_string(written) +
              " rows written are kept\n";
      break;
  }
  return text;
}

}  // namespace vitscope::cli
