#pragma once
// Result files that survive interruption. Rows are appended a batch at a time and forced to disk
// (fdatasync) before the next batch, so after Ctrl-C, kill -9 or a power cut the file holds whole
// rows plus at most one partial record at its end; the reader leaves that record out, and the
// writer cuts it off before appending. A failed append (disk full, I/O error) cuts the file back to
// its last whole row before the error is thrown.
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>

#include "vitscope/batch/row.hpp"

namespace vitscope::batch {

// The result file cannot be opened, locked or written: "<path>: <problem>". Exit status 2.
class OutputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct ResultFileScan {
  bool exists = false;
  std::string header;               // CSV: the first record, newline included; empty for JSONL
  std::size_t csv_columns = 0;
  std::uint64_t complete_bytes = 0;  // the header and the whole records
  std::uint64_t file_bytes = 0;
  std::uint64_t rows = 0;
  bool torn() const { return file_bytes > complete_bytes; }
};

// What the bytes after the last whole record (a record an interrupted run left partial) may be the
// start of: a row of `model` (empty: of any model) with at most `predictions` classes (0: any
// number) or, in a CSV file without its header yet, `csv_header` (empty: the header of any --topk).
struct TailExpectations {
  std::string model;
  std::size_t predictions = 0;
  std::string csv_header;
};

// Called for each whole row after the header, with the record's text (newline included).
using StoredRowCallback = std::function<void(const StoredRow& row, const std::string& record)>;

// Reads a result file record by record (streamed; the file may be large). A missing file scans as
// empty. A CSV file must start with the result header. Throws OutputError "<path>: line N: ..."
// (N as an editor counts lines) for a whole record that is not a result row, for bytes after the
// last whole record that are not the start of one as `tail` describes, and when the file cannot be
// read.
ResultFileScan scan_result_file(const std::string& path, ResultFormat format,
                                const StoredRowCallback& on_row, const TailExpectations& tail = {});

class ResultFileWriter {
 public:
  enum class Mode { Append, Truncate };
  // Opens (creating) a regular file and takes an exclusive lock on it (flock), so that two runs
  // cannot write one file. OutputError "<path>: cannot open for writing: <reason>".
  ResultFileWriter(const std::string& path, Mode mode);
  ~ResultFileWriter();
  ResultFileWriter(const ResultFileWriter&) = delete;
  ResultFileWriter& operator=(const ResultFileWriter&) = delete;

  const std::string& path() const { return path_; }
  std::uint64_t size() const { return size_; }
  // Cuts the file to its first `size` bytes and forces that to disk.
  void truncate(std::uint64_t size);
  // Writes text at the end and forces it to disk. On failure the file is cut back to its previous
  // size and OutputError "<path>: cannot write: <reason>" is thrown.
  void append(const std::string& text);
  // Renames the file over `target` (atomically, the directory entry forced to disk); this writer
  // then appends to `target`.
  void rename_to(const std::string& target);

 private:
  std::string path_;
  int fd_ = -1;
  std::uint64_t size_ = 0;
};

}  // namespace vitscope::batch
