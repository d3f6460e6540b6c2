#include "vitscope/batch/resume.hpp"

#include <unistd.h>

namespace vitscope::batch {
namespace {

// Rewrites path with its header and ok rows only; the returned writer appends to the new file.
std::unique_ptr<ResultFileWriter> rewrite_without_errors(const std::string& path,
                                                         const ResultFileScan& scan,
                                                         ResultFormat format) {
  const std::string temporary = path + ".rewrite-" + std::to_string(::getpid());
  auto writer = std::make_unique<ResultFileWriter>(temporary, ResultFileWriter::Mode::Truncate);
  try {
    std::string chunk = scan.header;
    constexpr std::size_t kChunkBytes = 1 << 20;
    scan_result_file(path, format, [&](const StoredRow& row, const std::string& record) {
      if (!row.ok) return;
      chunk += record;
      if (chunk.size() >= kChunkBytes) writer->append(chunk), chunk.clear();
    });
    writer->append(chunk);
    writer->rename_to(path);
  } catch (...) {
    ::unlink(temporary.c_str());
    throw;
  }
  return writer;
}

}  // namespace

PreviousResults read_previous_results(const std::string& path, const ResultExpectations& expect) {
  PreviousResults previous;
  std::string mismatch;  // the first row that does not fit this run, reported after the header
  previous.scan = scan_result_file(path, expect.format.format(), [&](const StoredRow& row,
                                                                     const std::string&) {
    if (!expect.resume) return;
    if (!row.ok) {
      ++previous.error_rows;
      return;
    }
    if (mismatch.empty() && row.model != expect.model)
      mismatch = "holds results of model " + row.model + ", this run uses " + expect.model;
    if (mismatch.empty() && expect.predictions && row.predictions != *expect.predictions)
      mismatch = "holds rows with " + std::to_string(row.predictions) + " classes, this run writes " +
                 std::to_string(*expect.predictions) + " (--topk differs)";
    previous.done.insert(row.path);
  }, expect.resume ? TailExpectations{expect.model, expect.predictions.value_or(0), expect.format.header()}
                   : TailExpectations{});
  const ResultFileScan& scan = previous.scan;
  if (scan.file_bytes > 0 && !expect.resume)
    throw OutputError(path + ": already exists; --resume completes it, or remove it first");
  if (!scan.header.empty() && scan.header != expect.format.header())
    throw OutputError(path + ": its CSV header differs from this run's (--topk differs?); give "
                      "another --out");
  if (!mismatch.empty()) throw OutputError(path + ": " + mismatch + "; give another --out");
  return previous;
}

OpenedResults open_results(const std::string& path, const ResultExpectations& expect) {
  OpenedResults opened;
  opened.writer = std::make_unique<ResultFileWriter>(path, ResultFileWriter::Mode::Append);
  opened.previous = read_previous_results(path, expect);
  const ResultFileScan& scan = opened.previous.scan;
  if (expect.settings) {
    if (scan.rows > 0) {
      const std::optional<RunSettings> in_file = read_settings(path);
      if (!in_file)
        throw OutputError(path + ": has no " + settings_path(path) + " beside it, so the weights, precision and "
                          "preprocessing of its rows are unknown; give another --out");
      const std::string difference = settings_difference(*in_file, *expect.settings);
      if (!difference.empty())
        throw OutputError(path + ": written with other settings (" + difference + "); give another --out");
    } else {
      write_settings(path, *expect.settings);
    }
  }
  const ResultFormat format = expect.format.format();
  const std::string header = expect.format.header();
  if (opened.previous.error_rows > 0) {
    opened.writer = rewrite_without_errors(path, scan, format);
  } else if (scan.torn()) {
    opened.writer->truncate(scan.complete_bytes);
  }
  if (format == ResultFormat::Csv && scan.header.empty()) {
    // A new file, or one whose header was itself cut short.
    opened.writer->truncate(0);
    opened.writer->append(header);
  }
  return opened;
}

}  // namespace vitscope::batch
