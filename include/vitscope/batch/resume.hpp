#pragma once
// Starting or resuming a result file. A run appends to it; --resume skips the inputs that already
// have an ok row, drops the error rows of earlier runs (those inputs are tried again) and cuts off a
// partial last record that an interrupted run left, so a completed resumed file holds each input
// once. It changes nothing else: a file that is not a result file, a record it cannot parse, or
// rows written with other settings (settings.hpp) stop it with an error naming the file.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_set>

#include "vitscope/batch/output.hpp"
#include "vitscope/batch/row.hpp"
#include "vitscope/batch/settings.hpp"

namespace vitscope::batch {

struct PreviousResults {
  std::unordered_set<std::string> done;  // paths with an ok row
  std::uint64_t error_rows = 0;          // rows with status error (their inputs are retried)
  ResultFileScan scan;
};

// What this run expects of an earlier run's rows.
struct ResultExpectations {
  RowFormat format;
  std::string model;
  std::optional<std::size_t> predictions;  // classes per ok row, when known
  bool resume = false;
  // This run's settings; open_results checks an existing file's against them and writes them
  // beside a new one (nullopt: neither, for a run that only reads).
  std::optional<RunSettings> settings;
};

// Reads the file without changing it. Without resume a file with content is refused; with resume
// its header must be this run's and every ok row must come from the same model with the same number
// of classes. OutputError otherwise, naming the file.
PreviousResults read_previous_results(const std::string& path, const ResultExpectations& expect);

struct OpenedResults {
  std::unique_ptr<ResultFileWriter> writer;
  PreviousResults previous;
};

// Locks the file, reads it as above and makes it ready for appending: the header written when
// missing, error rows removed (the file rewritten to a temporary that is renamed over it), a partial
// last record cut off.
OpenedResults open_results(const std::string& path, const ResultExpectations& expect);

}  // namespace vitscope::batch
