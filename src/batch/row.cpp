#include "vitscope/batch/row.hpp"

#include <cstdio>
#include <cstdlib>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "vitscope/core/error.hpp"
#include "vitscope/core/json_path.hpp"

namespace vitscope::batch {
namespace {

bool ends_with(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() &&
         text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string probability_text(double probability) {
  char text[32];
  std::snprintf(text, sizeof text, "%.6g", probability);
  return text;
}

std::string csv_record(const BatchRow& row, int topk) {
  std::string line = csv_field(row.path) + ',' + (row.error.empty() ? "ok" : "error") + ',' +
                     csv_field(row.error) + ',' + csv_field(row.model) + ',' + row.sha256;
  for (int r = 0; r < topk; ++r) {
    if (r < static_cast<int>(row.predictions.size())) {
      const Prediction& p = row.predictions[r];
      line += ',' + std::to_string(p.class_index) + ',' + csv_field(p.label) + ',' +
              probability_text(p.probability);
    } else {
      line += ",,,";
    }
  }
  return line + '\n';
}

std::string json_record(const BatchRow& row) {
  nlohmann::ordered_json j;
  put_path(j, "path", row.path);  // and path_bytes, exact, when the name is not UTF-8
  j["status"] = row.error.empty() ? "ok" : "error";
  j["error"] = row.error;
  j["model"] = row.model;
  j["sha256"] = row.sha256;
  auto classes = nlohmann::ordered_json::array(), labels = nlohmann::ordered_json::array(),
       probabilities = nlohmann::ordered_json::array();
  for (const Prediction& p : row.predictions) {
    classes.push_back(p.class_index);
    labels.push_back(p.label);
    // The 6-digit value the CSV shows, so both formats carry the same numbers.
    probabilities.push_back(std::strtod(probability_text(p.probability).c_str(), nullptr));
  }
  j["classes"] = std::move(classes);
  j["labels"] = std::move(labels);
  j["probabilities"] = std::move(probabilities);
  // Other fields (an error naming the file) may hold invalid UTF-8 too: replaced, never thrown on.
  return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + '\n';
}

StoredRow parse_csv_row(const std::string& record, std::size_t columns) {
  const std::vector<std::string> fields = split_csv_record(record);
  if (fields.size() != columns)
    throw std::runtime_error("has " + std::to_string(fields.size()) + " fields, the header " +
                             std::to_string(columns));
  StoredRow row;
  row.path = fields[0];
  if (fields[1] != "ok" && fields[1] != "error")
    throw std::runtime_error("status is \"" + printable(fields[1]) + "\", not ok or error");
  row.ok = fields[1] == "ok";
  row.model = fields[3];
  for (std::size_t c = 5; c < fields.size(); c += 3)
    if (!fields[c].empty()) ++row.predictions;
  return row;
}

StoredRow parse_json_row(const std::string& record) {
  const nlohmann::json j = nlohmann::json::parse(record);  // parse_error carries the position
  StoredRow row;
  row.path = get_path(j, "path");
  const std::string status = j.at("status").get<std::string>();
  if (status != "ok" && status != "error")
    throw std::runtime_error("status is \"" + printable(status) + "\", not ok or error");
  row.ok = status == "ok";
  row.model = j.at("model").get<std::string>();
  row.predictions = j.at("classes").size();
  return row;
}

}  // namespace

ResultFormat result_format_of(const std::string& path) {
  if (ends_with(path, ".csv")) return ResultFormat::Csv;
  if (ends_with(path, ".jsonl")) return ResultFormat::Jsonl;
  throw ConfigError(path + ": the result file must be named *.csv or *.jsonl");
}

std::string stored_path(ResultFormat, const std::string& path) { return path; }

std::string RowFormat::header() const {
  if (format_ == ResultFormat::Jsonl) return "";
  std::string line = "path,status,error,model,sha256";
  for (int r = 1; r <= topk_; ++r) {
    const std::string n = std::to_string(r);
    line += ",class_" + n + ",label_" + n + ",probability_" + n;
  }
  return line + '\n';
}

std::string RowFormat::format(const BatchRow& row) const {
  return format_ == ResultFormat::Csv ? csv_record(row, topk_) : json_record(row);
}

StoredRow parse_stored_row(ResultFormat format, const std::string& record, std::size_t csv_columns) {
  return format == ResultFormat::Csv ? parse_csv_row(record, csv_columns) : parse_json_row(record);
}

std::vector<std::string> split_csv_record(const std::string& record) {
  std::vector<std::string> fields(1);
  bool quoted = false;
  std::size_t end = record.size();
  if (end > 0 && record[end - 1] == '\n') --end;
  for (std::size_t i = 0; i < end; ++i) {
    const char c = record[i];
    if (quoted) {
      if (c == '"' && i + 1 < end && record[i + 1] == '"') {
        fields.back() += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        fields.back() += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      fields.emplace_back();
    } else {
      fields.back() += c;
    }
  }
  return fields;
}

std::string csv_field(const std::string& value) {
  if (value.find_first_of(",\"\r\n") == std::string::npos) return value;
  std::string quoted = "\"";
  for (char ch : value) {
    if (ch == '"') quoted += '"';
    quoted += ch;
  }
  return quoted + "\"";
}

}  // namespace vitscope::batch
