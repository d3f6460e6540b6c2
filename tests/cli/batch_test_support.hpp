#pragma once
// Helpers of the `vitscope batch` / `vitscope merge` tests: image folders made of the shared
// ImageNet photos, result files split into records, processes run in the background (to kill them),
// and reference rows from one plain run over the photos.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/cli_runner.hpp"
#include "models/test_helpers.hpp"

namespace vitscope::testing {

namespace fs = std::filesystem;

inline std::string deit_tiny_model() { return shared_path("models/deit_tiny_patch16_224.safetensors"); }

// A 2-block ViT with random weights and 16 classes from the golden data: for the tests of files,
// resuming and sharding, where any deterministic model will do and DeiT-Tiny would make the runs
// under the sanitizers slow.
inline std::string tiny_model() { return data_path("vit/tokens197.safetensors"); }

// The model of the batch tests whose rows are checked against a reference run: DeiT-Tiny, real
// weights, in the normal build; the 2-block test ViT under the sanitizers, where what is checked is
// the rows' plumbing and DeiT-Tiny's forward passes took most of the suite's time (its real-weights
// path runs under the sanitizers in the models suite).
inline std::string reference_model() {
#ifdef VITSCOPE_SANITIZER_BUILD
  return tiny_model();
#else
  return deit_tiny_model();
#endif
}
// The name its rows carry.
inline std::string reference_model_name() {
#ifdef VITSCOPE_SANITIZER_BUILD
  return "tokens197";
#else
  return "deit_tiny_patch16_224";
#endif
}

// The arguments of `vitscope batch` over one folder with one model, writing to `out`.
inline std::string batch_args(const std::string& model, const fs::path& dir, const fs::path& out,
                              const std::string& extra = "") {
  return "batch " + quote(dir.string()) + " --model " + quote(model) + " --out " + quote(out.string()) + " " + extra;
}

// The 100 shared ImageNet photos, sorted by path.
inline std::vector<fs::path> shared_photos() {
  const fs::path dir = shared_path("images/imagenet-100");
  std::vector<fs::path> photos;
  for (const auto& entry : fs::directory_iterator(dir))
    if (entry.path().extension() == ".JPEG") photos.push_back(entry.path());
  std::sort(photos.begin(), photos.end());
  REQUIRE(photos.size() == 100);
  return photos;
}

// Fills dir with `count` photos named img_000_<photo name>..., cycling through the shared photos
// from `first` on. Returns the files made, sorted.
inline std::vector<fs::path> make_photo_folder(const fs::path& dir, int count, int first = 0) {
  const std::vector<fs::path> photos = shared_photos();
  fs::create_directories(dir);
  std::vector<fs::path> made;
  for (int i = 0; i < count; ++i) {
    const fs::path& photo = photos[static_cast<std::size_t>(first + i) % photos.size()];
    char name[32];
    std::snprintf(name, sizeof name, "img_%03d_", i);
    made.push_back(dir / (name + photo.filename().string()));
    fs::copy_file(photo, made.back(), fs::copy_options::overwrite_existing);
  }
  return made;
}

// A result file split into records. CSV records end at a newline outside quotes.
struct ResultRecords {
  std::string header;                 // CSV: the first record; empty for JSONL
  std::vector<std::string> records;   // whole records, newline included
  std::string partial;                // bytes after the last whole record
};

inline ResultRecords split_records(const std::string& text, bool csv) {
  ResultRecords out;
  std::string current;
  bool quoted = false;
  for (const char c : text) {
    current += c;
    if (csv && c == '"') quoted = !quoted;
    if (c == '\n' && !quoted) {
      if (csv && out.header.empty() && out.records.empty()) out.header = current;
      else out.records.push_back(current);
      current.clear();
    }
  }
  out.partial = current;
  return out;
}

inline ResultRecords read_records(const fs::path& file) {
  return split_records(read_file(file), file.extension() == ".csv");
}

// RFC 4180 fields of one record.
inline std::vector<std::string> csv_fields(const std::string& record) {
  std::vector<std::string> fields(1);
  bool quoted = false;
  const std::size_t end = !record.empty() && record.back() == '\n' ? record.size() - 1 : record.size();
  for (std::size_t i = 0; i < end; ++i) {
    const char c = record[i];
    if (quoted && c == '"' && i + 1 < end && record[i + 1] == '"') fields.back() += '"', ++i;
    else if (c == '"') quoted = !quoted;
    else if (c == ',' && !quoted) fields.emplace_back();
    else fields.back() += c;
  }
  return fields;
}

// Fields of a CSV record or a JSON line, by name: path, status, error, sha256, ... (JSON arrays
// are given as their text).
inline std::map<std::string, std::string> row_fields(const std::string& header, const std::string& record) {
  std::map<std::string, std::string> fields;
  if (header.empty()) {
    const nlohmann::json row = nlohmann::json::parse(record);
    for (const std::string key : {"path", "status", "error", "model", "sha256"}) fields[key] = row.at(key);
    for (const std::string key : {"classes", "labels", "probabilities"}) fields[key] = row.at(key).dump();
    return fields;
  }
  const std::vector<std::string> names = csv_fields(header), values = csv_fields(record);
  REQUIRE(names.size() == values.size());
  for (std::size_t i = 0; i < names.size(); ++i) fields[names[i]] = values[i];
  return fields;
}

// The record with its path taken out (CSV: the first field; JSONL: the "path" member).
inline std::string without_path(const std::string& record) {
  if (!record.empty() && record[0] == '{') {
    nlohmann::ordered_json j = nlohmann::ordered_json::parse(record);
    j.erase("path");
    return j.dump();
  }
  std::size_t i = 0;
  if (record[0] == '"') {
    for (i = 1; i < record.size(); ++i) {
      if (record[i] == '"' && i + 1 < record.size() && record[i + 1] == '"') ++i;
      else if (record[i] == '"') break;
    }
  }
  return record.substr(record.find(',', i));
}

// Records by their path; a path seen twice fails the test.
inline std::map<std::string, std::string> records_by_path(const ResultRecords& results) {
  std::map<std::string, std::string> by_path;
  for (const std::string& record : results.records) {
    const std::string path = row_fields(results.header, record).at("path");
    INFO("duplicate row for " << path);
    REQUIRE(by_path.emplace(path, record).second);
  }
  return by_path;
}

// Runs a shell command, capturing stdout and stderr.
inline RunResult run_shell(const std::string& command) {
  static int counter = 0;
  const fs::path base = fs::temp_directory_path() /
                        ("vitscope_batch_sh_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
  const std::string out = base.string() + ".out", err = base.string() + ".err";
  const int raw = std::system(("(" + command + ") >" + quote(out) + " 2>" + quote(err) + " </dev/null").c_str());
  RunResult r;
  r.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  r.out = read_file(out);
  r.err = read_file(err);
  fs::remove(out);
  fs::remove(err);
  return r;
}

inline std::string vitscope_command(const std::string& args) { return quote(VITSCOPE_BINARY) + " " + args; }

// Root reads every file whatever its mode, so as root the run is made as user nobody (setpriv).
inline std::string unprivileged(const std::string& command) {
  if (::geteuid() != 0) return command;
  if (run_shell("command -v setpriv").status != 0)
    FAIL("running as root: this test needs setpriv (util-linux) to drop to an unprivileged user");
  return "setpriv --reuid=65534 --regid=65534 --clear-groups " + command;
}

// `vitscope <args>` started in the background, stderr to a file; the pid is vitscope's own.
struct BackgroundRun {
  pid_t pid = -1;
  fs::path err_file;

  explicit BackgroundRun(const std::string& args) {
    err_file = fs::temp_directory_path() / ("vitscope_batch_bg_" + std::to_string(::getpid()) + ".err");
    const std::string command = "exec " + vitscope_command(args) + " >/dev/null 2>" + quote(err_file.string()) +
                                " </dev/null";
    pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      ::execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
  }
  // Exit status, or 128 + signal when killed by one.
  int wait() {
    int raw = 0;
    REQUIRE(::waitpid(pid, &raw, 0) == pid);
    return WIFEXITED(raw) ? WEXITSTATUS(raw) : 128 + WTERMSIG(raw);
  }
  std::string err() const { return read_file(err_file); }
};

// Waits until the file holds at least `records` whole records after its header.
inline void wait_for_records(const fs::path& file, std::size_t records, BackgroundRun& run) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(5);
  while (read_records(file).records.size() < records) {
    int raw = 0;
    if (::waitpid(run.pid, &raw, WNOHANG) == run.pid)
      FAIL("vitscope ended before writing " << records << " rows: " << run.err());
    REQUIRE(std::chrono::steady_clock::now() < deadline);
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

// sha256sum's digest of a file (an implementation independent of vitscope's).
inline std::string sha256sum(const fs::path& file) {
  const RunResult r = run_shell("sha256sum " + quote(file.string()));
  REQUIRE(r.status == 0);
  return r.out.substr(0, 64);
}

// The shared photos' digests from their SHA256SUMS file, by file name.
inline const std::map<std::string, std::string>& photo_digests() {
  static const std::map<std::string, std::string> digests = [] {
    std::map<std::string, std::string> d;
    std::istringstream lines(read_file(shared_path("images/imagenet-100/SHA256SUMS")));
    std::string digest, name;
    while (lines >> digest >> name) d[fs::path(name.substr(name[0] == '*' ? 1 : 0)).filename().string()] = digest;
    return d;
  }();
  return digests;
}

// Photos the DeiT-Tiny tests use (the first of the shared photos), and all of them for the tiny model.
constexpr int kDeitPhotos = 24;

// One plain run (--batch 8, CSV, top-5) of a model (deit_tiny_model() or tiny_model()) over the
// shared photos: each photo's record without its path, by the photo's SHA-256. Every other run of
// that model must reproduce these records exactly.
inline const std::map<std::string, std::string>& reference_records(const std::string& model) {
  static std::map<std::string, std::map<std::string, std::string>> by_model;
  if (by_model.count(model)) return by_model.at(model);
  const bool deit = model == deit_tiny_model();  // fewer photos: DeiT-Tiny is slower
  const fs::path dir = fresh_dir(deit ? "batch_reference_deit" : "batch_reference_tiny");
  const int photos = deit ? kDeitPhotos : 100;
  make_photo_folder(dir / "photos", photos, 0);
  const fs::path out = dir / "reference.csv";
  const RunResult run = run_vitscope("batch " + quote((dir / "photos").string()) + " --model " + quote(model) +
                                     " --batch 8 --quiet --out " + quote(out.string()));
  INFO(run.err);
  REQUIRE(run.status == 0);
  const ResultRecords results = read_records(out);
  REQUIRE(results.records.size() == static_cast<std::size_t>(photos));
  std::map<std::string, std::string>& by_digest = by_model[model];
  for (const std::string& record : results.records)
    by_digest[row_fields(results.header, record).at("sha256")] = without_path(record);
  return by_digest;
}

}  // namespace vitscope::testing
