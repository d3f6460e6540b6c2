#pragma once
// The fuzz entry point of batch result files (fuzz_entry_points.hpp has the rules): a file scanned
// as CSV and as JSON lines (scan_result_file, what --resume and merge read), throwing OutputError.
// Apart from fuzz_entry_points.hpp because the reader is in the batch library.
#include "fuzz/fuzz_entry_points.hpp"
#include "vitscope/batch/output.hpp"

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

}  // namespace vitscope::fuzz
