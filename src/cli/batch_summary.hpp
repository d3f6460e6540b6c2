#pragma once
// The lines `vitscope batch` prints when it ends: counts, throughput, time per stage and the
// slowest stage, and why it stopped early if it did.
#include <string>

#include "vitscope/batch/pipeline.hpp"

namespace vitscope::cli {

struct SummaryContext {
  std::size_t done_earlier = 0;  // inputs skipped by --resume
  std::string out_path;
  int interrupt_signal = 0;      // the signal that stopped the run, if any
};

std::string batch_summary(const batch::PipelineStats& stats, const SummaryContext& context);

// "1 image", "2 images".
std::string count_of(std::size_t count, const std::string& noun);

}  // namespace vitscope::cli
