#pragma once
// Writers for classify results: one row per input, in the order given, streamed as they come so
// that an interrupted run keeps what it printed. Errors are rows too.
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "vitscope/models/predictions.hpp"

namespace vitscope::cli {

struct ResultRow {
  std::string path;
  std::string error;  // empty when the input was classified
  std::vector<Prediction> predictions;
  bool ok() const { return error.empty(); }
};

class ResultWriter {
 public:
  virtual ~ResultWriter() = default;
  virtual void begin() {}
  virtual void write(const ResultRow& row) = 0;
  virtual void end(int ok_count, int error_count) { (void)ok_count, (void)error_count; }
};

// format: "text" | "json" | "csv"
std::unique_ptr<ResultWriter> make_result_writer(const std::string& format, std::ostream& out,
                                                 const std::string& model_name, int topk);

}  // namespace vitscope::cli
