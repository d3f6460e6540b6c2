#include "cli/report.hpp"

#include "vitscope/batch/row.hpp"

#include <cstdio>

#include <nlohmann/json.hpp>

#include "vitscope/core/json_path.hpp"

namespace vitscope::cli {

using batch::csv_field;
namespace {

std::string percent(double probability) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%6.2f%%", 100.0 * probability);
  return buf;
}

class TextWriter : public ResultWriter {
 public:
  explicit TextWriter(std::ostream& out) : out_(out) {}
  void write(const ResultRow& row) override {
    out_ << row.path << '\n';
    if (!row.ok()) {
      out_ << "  error: " << row.error << '\n';
    } else {
      for (const Prediction& p : row.predictions)
        out_ << "  " << percent(p.probability) << "  " << p.label << " (" << p.class_index << ")\n";
    }
    out_.flush();
  }

 private:
  std::ostream& out_;
};

class JsonWriter : public ResultWriter {
 public:
  JsonWriter(std::ostream& out, std::string model, int topk)
      : out_(out), model_(std::move(model)), topk_(topk) {}
  void begin() override {
    out_ << "{\"model\":" << nlohmann::json(model_).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << ",\"topk\":" << topk_
         << ",\"results\":[\n";
    out_.flush();
  }
  void write(const ResultRow& row) override {
    nlohmann::json j;
    put_path(j, "path", row.path);  // exact bytes in path_bytes when not UTF-8
    j["status"] = row.ok() ? "ok" : "error";
    if (row.ok()) {
      j["predictions"] = nlohmann::json::array();
      int rank = 1;
      for (const Prediction& p : row.predictions)
        j["predictions"].push_back({{"rank", rank++},
                                    {"class_index", p.class_index},
                                    {"label", p.label},
                                    {"probability", p.probability}});
    } else {
      j["error"] = row.error;
    }
    // Other strings (an error naming the file) may hold its bytes too: replaced, never thrown on.
    out_ << (first_ ? "" : ",\n") << j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    first_ = false;
    out_.flush();
  }
  void end(int ok_count, int error_count) override {
    out_ << "\n],\"summary\":{\"ok\":" << ok_count << ",\"errors\":" << error_count << "}}\n";
    out_.flush();
  }

 private:
  std::ostream& out_;
  std::string model_;
  int topk_;
  bool first_ = true;
};

class CsvWriter : public ResultWriter {
 public:
  CsvWriter(std::ostream& out, std::string model, int topk)
      : out_(out), model_(std::move(model)), topk_(topk) {}
  void begin() override {
    out_ << "path,status,error,model";
    for (int r = 1; r <= topk_; ++r)
      out_ << ",class_" << r << ",label_" << r << ",probability_" << r;
    out_ << '\n';
    out_.flush();
  }
  void write(const ResultRow& row) override {
    out_ << csv_field(row.path) << ',' << (row.ok() ? "ok" : "error") << ','
         << csv_field(row.error) << ',' << csv_field(model_);
    for (int r = 0; r < topk_; ++r) {
      if (r < static_cast<int>(row.predictions.size())) {
        const Prediction& p = row.predictions[r];
        char prob[32];
        std::snprintf(prob, sizeof prob, "%.6g", p.probability);
        out_ << ',' << p.class_index << ',' << csv_field(p.label) << ',' << prob;
      } else {
        out_ << ",,,";
      }
    }
    out_ << '\n';
    out_.flush();
  }

 private:
  std::ostream& out_;
  std::string model_;
  int topk_;
};

}  // namespace

std::unique_ptr<ResultWriter> make_result_writer(const std::string& format, std::ostream& out,
                                                 const std::string& model_name, int topk) {
  if (format == "json") return std::make_unique<JsonWriter>(out, model_name, topk);
  if (format == "csv") return std::make_unique<CsvWriter>(out, model_name, topk);
  return std::make_unique<TextWriter>(out);
}

}  // namespace vitscope::cli
