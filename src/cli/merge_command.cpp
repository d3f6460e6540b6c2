// vitscope merge: joins the result files of sharded (or resumed-elsewhere) batch runs into one,
// refusing duplicates and, given the folders the runs covered, gaps.
#include <unistd.h>

#include <algorithm>
#include <optional>
#include <filesystem>
#include <iostream>
#include <set>
#include <unordered_map>

#include "vitscope/batch/inputs.hpp"
#include "vitscope/batch/output.hpp"
#include "vitscope/batch/settings.hpp"
#include "cli/commands.hpp"
#include "vitscope/core/error.hpp"
#include "vitscope/io/discover.hpp"

namespace vitscope::cli {

using namespace vitscope::batch;  // the batch library this command runs
namespace {

struct MergeOptions {
  std::string out;
  std::vector<std::string> inputs;
  std::vector<std::string> expect;
};

struct MergedRow {
  std::string path;
  std::string key;  // comparable_path(path)
  std::string record;
  bool ok = false;
};

constexpr std::size_t kExamples = 10;

// Reports a list of problems: the count, then the first few.
void report(const std::string& what, const std::vector<std::string>& lines) {
  std::cerr << "vitscope: error: " << lines.size() << ' ' << what << '\n';
  for (std::size_t i = 0; i < lines.size() && i < kExamples; ++i) std::cerr << "  " << lines[i] << '\n';
  if (lines.size() > kExamples) std::cerr << "  ...\n";
}

// A path in the one form rows and --expect are compared in: absolute (a relative name taken from the
// current folder, where the shards are taken to have run), then normal, so dir/x, ./dir/x and
// $PWD/dir/x are one file. Names stay bytes: nothing is decoded.
std::string comparable_path(const std::string& path) {
  std::error_code error;
  const std::filesystem::path absolute = std::filesystem::absolute(path, error);
  return normal_path(error ? path : absolute.string());
}

bool same_file(const std::string& a, const std::string& b) {
  std::error_code error;
  return a == b || std::filesystem::equivalent(a, b, error);
}

int run_merge(const MergeOptions& options) {
  const ResultFormat format = result_format_of(options.out);
  std::string header;
  std::vector<MergedRow> rows;
  std::unordered_map<std::string, std::size_t> first_source;  // comparable path → index of its input file
  std::vector<std::string> duplicates;
  std::set<std::string> models;
  for (std::size_t source = 0; source < options.inputs.size(); ++source) {
    const std::string& input = options.inputs[source];
    if (result_format_of(input) != format)
      throw ConfigError(input + ": not the format of " + options.out + " (both .csv or both .jsonl)");
    if (same_file(input, options.out)) throw ConfigError(input + ": is also the output file");
    const ResultFileScan scan = scan_result_file(input, format, [&](const StoredRow& row,
                                                                    const std::string& record) {
      const std::string key = comparable_path(row.path);
      const auto [at, inserted] = first_source.emplace(key, source);
      if (!inserted) {
        duplicates.push_back(row.path + " (in " + options.inputs[at->second] + " and " + input + ")");
        return;
      }
      models.insert(row.model);
      rows.push_back({row.path, key, record, row.ok});
    });
    if (!scan.exists) throw ConfigError(input + ": no such file");
    if (source == 0) header = scan.header;
    if (scan.header != header)
      throw ConfigError(input + ": its CSV header differs from " + options.inputs[0] + "'s (another --topk?)");
    if (scan.torn())
      std::cerr << "vitscope: warning: " << input << ": ignoring a partial last record (the run was "
                << "interrupted; --resume completes it)\n";
  }

  // The shards' settings (weights, precision, preprocessing) must agree; the merged file gets them.
  std::optional<RunSettings> settings;
  std::vector<std::string> without_settings;
  for (const std::string& input : options.inputs) {
    const std::optional<RunSettings> s = read_settings(input);
    if (!s) {
      without_settings.push_back(input);
      continue;
    }
    if (!settings) {
      settings = s;
    } else if (const std::string difference = settings_difference(*settings, *s); !difference.empty()) {
      throw ConfigError(input + ": written with other settings than the files before it (" + difference + ")");
    }
  }
  if (settings && !without_settings.empty())
    throw ConfigError(without_settings.front() + ": has no " + settings_path(without_settings.front()) +
                      " beside it while other inputs have theirs: its settings cannot be checked");
  if (!settings)
    std::cerr << "vitscope: warning: no input has a settings file beside it; the weights, precision and "
                 "preprocessing of the rows are not checked\n";

  bool consistent = true;
  if (!duplicates.empty()) {
    report("paths have more than one row:", duplicates);
    consistent = false;
  }
  if (models.size() > 1) {
    std::string names;
    for (const std::string& m : models) names += (names.empty() ? "" : ", ") + m;
    std::cerr << "vitscope: error: the rows come from several models: " << names << '\n';
    consistent = false;
  }
  if (!options.expect.empty()) {
    // Rows in discovery order, as one unsharded run over the same folders writes them.
    std::unordered_map<std::string, std::size_t> position;
    std::vector<std::string> missing;
    for (const BatchInput& input : discover_batch_inputs(options.expect)) {
      const std::string path = stored_path(format, input.path), key = comparable_path(path);
      position.emplace(key, position.size());
      if (!first_source.count(key)) missing.push_back(path);
    }
    std::vector<std::string> unexpected;
    for (const MergedRow& row : rows)
      if (!position.count(row.key)) unexpected.push_back(row.path);
    if (!missing.empty()) report("files under --expect have no row (a shard missing or incomplete?):", missing);
    if (!unexpected.empty()) report("rows are for files not under --expect:", unexpected);
    consistent = consistent && missing.empty() && unexpected.empty();
    if (consistent)
      std::sort(rows.begin(), rows.end(), [&](const MergedRow& a, const MergedRow& b) {
        return position.at(a.key) < position.at(b.key);
      });
  } else {
    std::sort(rows.begin(), rows.end(), [](const MergedRow& a, const MergedRow& b) { return a.path < b.path; });
  }
  if (!consistent) {
    std::cerr << "vitscope: " << options.out << " not written\n";
    return kExitSomeInputsFailed;
  }

  const std::string temporary = options.out + ".merge-" + std::to_string(::getpid());
  ResultFileWriter writer(temporary, ResultFileWriter::Mode::Truncate);
  std::size_t ok = 0;
  try {
    std::string chunk = header;
    for (const MergedRow& row : rows) {
      chunk += row.record;
      ok += row.ok;
      if (chunk.size() >= (1u << 20)) writer.append(chunk), chunk.clear();
    }
    writer.append(chunk);
    if (settings) write_settings(options.out, *settings);
    writer.rename_to(options.out);
  } catch (...) {
    ::unlink(temporary.c_str());
    throw;
  }
  std::cerr << "vitscope merge: " << rows.size() << " rows (" << ok << " ok, " << rows.size() - ok
            << " failed) from " << options.inputs.size() << " files"
            << (options.expect.empty() ? " (not checked for gaps: give --expect DIR...)" : ", no gaps")
            << "; written to " << options.out << '\n';
  return kExitOk;
}

}  // namespace

Subcommand add_merge_command(CLI::App& app) {
  auto o = std::make_shared<MergeOptions>();
  CLI::App* cmd = app.add_subcommand(
      "merge", "Join the result files of sharded batch runs, refusing duplicate rows and (with --expect) gaps");
  cmd->add_option("out", o->out, "Merged result file (*.csv or *.jsonl, as the inputs)")->required();
  cmd->add_option("inputs", o->inputs, "Result files of the shards")->required();
  cmd->add_option("--expect", o->expect,
                  "The folders (or files) the shards were run on: every image under them must have "
                  "exactly one row, and rows come out in the order one unsharded run writes them");
  return {cmd, [o] { return run_merge(*o); }};
}

}  // namespace vitscope::cli
