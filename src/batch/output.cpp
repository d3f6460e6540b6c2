#include "vitscope/batch/output.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <algorithm>
#include <cstring>
#include <filesystem>
#include <vector>

#include "partial_record.hpp"

namespace vitscope::batch {
namespace {

const char kCsvHeaderStart[] = "path,status,error,model,sha256";

std::string reason() { return std::strerror(errno); }

// Forces a directory entry (a new or renamed file) to disk; best effort, some file systems
// refuse fsync on directories.
void sync_directory_of(const std::string& path) {
  std::string dir = std::filesystem::path(path).parent_path().string();
  if (dir.empty()) dir = ".";
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

// Splits a byte stream into records: CSV records end at a newline outside quotes, JSON lines at
// any newline (JSON escapes newlines inside strings).
class RecordSplitter {
 public:
  explicit RecordSplitter(ResultFormat format) : csv_(format == ResultFormat::Csv) {}
  const std::string& pending() const { return pending_; }  // the bytes after the last record
  // Appends bytes; calls on_record(text) for each record completed by them.
  template <class OnRecord>
  void feed(const char* data, std::size_t size, OnRecord on_record) {
    for (std::size_t i = 0; i < size; ++i) {
      const char c = data[i];
      pending_ += c;
      if (csv_ && c == '"') quoted_ = !quoted_;  // "" inside quotes toggles twice: no change
      if (c == '\n' && !quoted_) {
        on_record(pending_);
        pending_.clear();
      }
    }
  }

 private:
  bool csv_;
  bool quoted_ = false;
  std::string pending_;
};

// text starts like `start` (as far as text goes).
bool starts_like(const std::string& text, const std::string& start) {
  const std::size_t n = std::min(text.size(), start.size());
  return text.compare(0, n, start, 0, n) == 0;
}

// A quoted field may hold newlines, so a partial CSV record may span lines; but a line after its
// first that is a whole result row by itself means an unterminated quote swallowed rows.
void check_no_swallowed_rows(const std::string& where, ResultFormat format, const std::string& tail,
                             const ResultFileScan& scan) {
  if (format != ResultFormat::Csv) return;
  std::size_t start = tail.find('\n');
  while (start != std::string::npos) {
    const std::size_t end = tail.find('\n', start + 1);
    const std::string line = tail.substr(start + 1, end == std::string::npos ? std::string::npos : end - start);
    try {
      if (end != std::string::npos) {
        parse_stored_row(format, line, scan.csv_columns);
        throw OutputError(where + "a record whose quote never closes runs over the rows after it; fix or "
                          "remove that line (--resume cuts off only a partial last record)");
      }
    } catch (const OutputError&) {
      throw;
    } catch (const std::exception&) {
      // not a row by itself: a continuation of the quoted field
    }
    start = end;
  }
}

// The bytes after the last whole record must be the start of one record as a run writes it (the
// run was interrupted mid-write): of the CSV header, or of a row, never whole rows after an
// unterminated quote, nor another file's text. Anything else is refused, naming its line.
void check_partial_record(const std::string& path, ResultFormat format, const std::string& tail,
                          const ResultFileScan& scan, std::uint64_t lines_before, const TailExpectations& expect) {
  if (tail.empty()) return;
  const std::string where = path + ": line " + std::to_string(lines_before + 1) + ": ";
  const std::string only_partial = "; fix or remove that line (--resume cuts off only a partial last record "
                                   "as a run writes it)";
  if (format == ResultFormat::Csv && scan.header.empty()) {
    if (!starts_like(tail, kCsvHeaderStart))
      throw OutputError(path + ": not a vitscope result file (the CSV header does not start with " +
                        kCsvHeaderStart + ")");
    const std::string problem = partial_header_problem(tail, expect);
    if (!problem.empty()) throw OutputError(where + problem + only_partial);
    return;
  }
  check_no_swallowed_rows(where, format, tail, scan);
  const std::string problem = partial_row_problem(format, tail, scan.csv_columns, expect);
  if (!problem.empty()) throw OutputError(where + "not a vitscope result row (" + problem + ")" + only_partial);
}

}  // namespace

ResultFileScan scan_result_file(const std::string& path, ResultFormat format,
                                const StoredRowCallback& on_row, const TailExpectations& tail) {
  ResultFileScan scan;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return scan;
    throw OutputError(path + ": cannot open: " + reason());
  }
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat info {};
  if (::fstat(fd, &info) != 0 || !S_ISREG(info.st_mode))
    throw OutputError(path + ": not a regular file");
  scan.exists = true;

  RecordSplitter splitter(format);
  std::uint64_t record_number = 0, lines = 0;
  auto on_record = [&](const std::string& record) {
    ++record_number;
    const std::uint64_t line = lines + 1;  // where the record starts; quoted newlines make it differ from its number
    lines += static_cast<std::uint64_t>(std::count(record.begin(), record.end(), '\n'));
    if (format == ResultFormat::Csv && record_number == 1) {
      if (record.compare(0, sizeof kCsvHeaderStart - 1, kCsvHeaderStart) != 0)
        throw OutputError(path + ": not a vitscope result file (the CSV header does not start with " +
                          kCsvHeaderStart + ")");
      scan.header = record;
      scan.csv_columns = split_csv_record(record).size();
    } else {
      StoredRow row;
      try {
        row = parse_stored_row(format, record, scan.csv_columns);
      } catch (const std::exception& e) {
        throw OutputError(path + ": line " + std::to_string(line) + ": not a vitscope result row (" + e.what() + ")");
      }
      ++scan.rows;
      on_row(row, record);
    }
    scan.complete_bytes += record.size();
  };
  std::vector<char> buffer(1 << 20);
  for (;;) {
    const ssize_t got = ::read(fd, buffer.data(), buffer.size());
    if (got < 0) {
      if (errno == EINTR) continue;
      throw OutputError(path + ": cannot read: " + reason());
    }
    if (got == 0) break;
    scan.file_bytes += static_cast<std::uint64_t>(got);
    splitter.feed(buffer.data(), static_cast<std::size_t>(got), on_record);
  }
  check_partial_record(path, format, splitter.pending(), scan, lines, tail);
  return scan;
}

ResultFileWriter::ResultFileWriter(const std::string& path, Mode mode) : path_(path) {
  const int flags = O_WRONLY | O_CREAT | O_CLOEXEC;
  fd_ = ::open(path.c_str(), flags | O_EXCL, 0644);
  const bool created = fd_ >= 0;
  if (!created && errno == EEXIST) fd_ = ::open(path.c_str(), flags, 0644);
  if (fd_ < 0) throw OutputError(path + ": cannot open for writing: " + reason());
  struct stat info {};
  if (::fstat(fd_, &info) != 0 || !S_ISREG(info.st_mode)) {
    ::close(fd_);
    throw OutputError(path + ": not a regular file");
  }
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    const std::string why = errno == EWOULDBLOCK ? "in use by another process" : reason();
    ::close(fd_);
    throw OutputError(path + ": cannot lock for writing: " + why);
  }
  size_ = static_cast<std::uint64_t>(info.st_size);
  if (created) sync_directory_of(path);
  if (mode == Mode::Truncate && size_ > 0) truncate(0);
}

ResultFileWriter::~ResultFileWriter() {
  if (fd_ >= 0) ::close(fd_);
}

void ResultFileWriter::truncate(std::uint64_t size) {
  if (::ftruncate(fd_, static_cast<off_t>(size)) != 0 || ::fdatasync(fd_) != 0)
    throw OutputError(path_ + ": cannot truncate: " + reason());
  size_ = size;
}

void ResultFileWriter::append(const std::string& text) {
  errno = 0;
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t wrote = ::pwrite(fd_, text.data() + done, text.size() - done,
                                   static_cast<off_t>(size_ + done));
    if (wrote < 0 && errno == EINTR) continue;
    if (wrote <= 0) break;
    done += static_cast<std::size_t>(wrote);
  }
  if (done == text.size() && ::fdatasync(fd_) == 0) {
    size_ += text.size();
    return;
  }
  const int error = errno != 0 ? errno : EIO;
  // Cutting back frees what part of the batch got written, so this works on a full disk too.
  if (::ftruncate(fd_, static_cast<off_t>(size_)) == 0) ::fdatasync(fd_);
  throw OutputError(path_ + ": cannot write: " + std::strerror(error));
}

void ResultFileWriter::rename_to(const std::string& target) {
  if (::rename(path_.c_str(), target.c_str()) != 0)
    throw OutputError(target + ": cannot replace with " + path_ + ": " + reason());
  sync_directory_of(target);
  path_ = target;
}

}  // namespace vitscope::batch
