#pragma once
// What `vitscope batch` adds to its summary when decoding and preprocessing took most of the run's
// CPU time and JPEGs were decoded exactly: how much faster --decode draft decodes and preprocesses
// this run's own JPEGs (a draft-decoded image is also smaller to resize), timed on a sample of them
// after the run, and what that would make of the run's throughput.
#include <string>
#include <vector>

#include "vitscope/batch/pipeline.hpp"
#include "vitscope/io/image.hpp"
#include "vitscope/preprocess/preprocess.hpp"

namespace vitscope::cli {

struct DraftHintInputs {
  const batch::PipelineStats* stats = nullptr;
  const std::vector<std::string>* paths = nullptr;  // the run's inputs
  ImageLoadOptions exact;                           // as the run loaded them
  ImageLoadOptions draft;                           // the same with --decode draft
  PreprocessConfig preprocess;
  int model_threads = 1;
};

// The share of decoding and preprocessing in the run's CPU time (reading, hashing, decoding,
// preprocessing on every thread, plus the forward passes times the model's threads): above one
// half the hint is given. Empty
// when there is nothing to say (a draft run, a short or interrupted run, no JPEG among the sample).
std::string draft_hint(const DraftHintInputs& inputs);

}  // namespace vitscope::cli
