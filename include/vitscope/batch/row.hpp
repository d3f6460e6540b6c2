#pragma once
// The rows of `vitscope batch` result files, one per input, as CSV records or JSON lines:
//   path, status (ok | error), error, model, sha256, then the top-k classes, labels, probabilities
// (CSV: class_1,label_1,probability_1,...; JSONL: "classes", "labels", "probabilities" arrays, and
// "path_bytes" after "path" when the name is not UTF-8).
// Probabilities are written with 6 significant digits, identically in both formats.
#include <cstddef>
#include <string>
#include <vector>

#include "vitscope/models/predictions.hpp"

namespace vitscope::batch {

enum class ResultFormat { Csv, Jsonl };

// From the file name: *.csv or *.jsonl; ConfigError otherwise.
ResultFormat result_format_of(const std::string& path);

struct BatchRow {
  std::string path;
  std::string error;   // empty when the input was classified
  std::string model;
  std::string sha256;  // of the bytes read; empty when the file could not be read
  std::vector<Prediction> predictions;
};

class RowFormat {
 public:
  RowFormat(ResultFormat format, int topk) : format_(format), topk_(topk) {}
  ResultFormat format() const { return format_; }
  // The CSV header line (with its newline); empty for JSONL.
  std::string header() const;
  // One record, ending with a newline (CSV fields may hold quoted newlines of their own).
  std::string format(const BatchRow& row) const;

 private:
  ResultFormat format_;
  int topk_;
};

// A path as a row of this format stores it: exactly, in both formats (CSV fields are bytes; a JSON
// line whose name is not UTF-8 carries its exact bytes in "path_bytes", core/json_path.hpp).
// Resuming and merging compare paths in this form.
std::string stored_path(ResultFormat format, const std::string& path);

// What resuming and merging need to know of a stored record.
struct StoredRow {
  std::string path;
  bool ok = false;
  std::string model;
  std::size_t predictions = 0;  // classes given (JSONL); CSV: non-empty class columns
};

// Parses one complete record (newline included or not); throws std::runtime_error naming the
// problem when it is not a result row. csv_columns: the header's field count (CSV only).
StoredRow parse_stored_row(ResultFormat format, const std::string& record, std::size_t csv_columns);

// RFC 4180 field: quoted when it holds a comma, quote, CR or LF.
std::string csv_field(const std::string& value);

// RFC 4180 fields of one CSV record (a trailing newline is ignored).
std::vector<std::string> split_csv_record(const std::string& record);

}  // namespace vitscope::batch
