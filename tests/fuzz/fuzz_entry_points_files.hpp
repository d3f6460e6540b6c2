#pragma once
// The fuzz entry points of the files vitscope reads back (fuzz_entry_points.hpp has the rules):
//   result_file: a batch result file, scanned as CSV and as JSON lines (what --resume and merge
//                read: scan_result_file), throwing OutputError;
//   manifest:    a model manifest (ModelRegistry::load), throwing ConfigError.
// Kept apart from fuzz_entry_points.hpp because these readers live in the batch and models
// libraries, which the io tests do not link.
#include "fuzz/fuzz_entry_points.hpp"
#include "vitscope/batch/output.hpp"
#include "vitscope/models/model_registry.hpp"

namespace vitscope::fuzz {

inline Outcome fuzz_result_file(const std::uint8_t* data, std::size_t size) {
  static const ScratchFile scratch("result_file");
  const std::string& path = scratch.write(data, size);
  Outcome outcome = Outcome::Refused;  // accepted when either format accepts it
  for (const batch::ResultFormat format : {batch::ResultFormat::Csv, batch::ResultFormat::Jsonl}) {
    try {
      std::uint64_t rows = 0;
      const batch::ResultFileScan scan =
          batch::scan_result_file(path, format, [&](const batch::StoredRow&, const std::string& record) {
            require(!record.empty() && record.back() == '\n', "a whole record that does not end with a newline");
            ++rows;
          });
      require(scan.file_bytes == size, "scan read " + std::to_string(scan.file_bytes) + " of " + std::to_string(size) + " bytes");
      require(scan.complete_bytes <= scan.file_bytes, "more complete bytes than bytes");
      require(scan.rows == rows, "row count differs from the rows seen");
      if (format == batch::ResultFormat::Csv && rows > 0) require(!scan.header.empty(), "CSV rows without a header");
      outcome = Outcome::Accepted;
    } catch (const batch::OutputError& e) {
      check_error_message(e.what(), path);
    }
  }
  return outcome;
}

inline Outcome fuzz_manifest(const std::uint8_t* data, std::size_t size) {
  static const ScratchFile scratch("manifest");
  const std::string& path = scratch.write(data, size);
  try {
    const ModelRegistry registry = ModelRegistry::load(path);
    for (const std::string& name : registry.names()) require(registry.contains(name), "a listed model is not found");
    return Outcome::Accepted;
  } catch (const ConfigError& e) {
    check_error_message(e.what(), path);
    return Outcome::Refused;
  }
}

}  // namespace vitscope::fuzz
