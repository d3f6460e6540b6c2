// The batch library's pure parts: result rows written and read back in both formats, CSV quoting,
// shards that split any set of names into disjoint parts, and input discovery.
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "batch/fake_model.hpp"
#include "vitscope/batch/inputs.hpp"
#include "vitscope/batch/output.hpp"
#include "vitscope/batch/row.hpp"
#include "vitscope/batch/shard.hpp"
#include "vitscope/core/error.hpp"

using namespace vitscope;
using namespace vitscope::batch;
using Catch::Matchers::Contains;

TEST_CASE("A formatted row parses back to what was written, in CSV and JSON lines", "[batch][rows]") {
  const ResultFormat format = GENERATE(ResultFormat::Csv, ResultFormat::Jsonl);
  const RowFormat rows(format, 3);
  BatchRow ok{"photos/a, \"quoted\"\nname.jpg", "", "deit_tiny", std::string(64, 'a'),
              {{281, "tabby, tabby cat", 0.5f}, {282, "tiger cat", 0.25f}}};
  BatchRow failed{"photos/b.jpg", "photos/b.jpg: empty file (0 bytes)", "deit_tiny", "", {}};
  const std::string header = rows.header();
  const std::size_t columns = format == ResultFormat::Csv ? split_csv_record(header).size() : 0;
  CHECK(columns == (format == ResultFormat::Csv ? 5u + 3 * 3 : 0u));

  const StoredRow back = parse_stored_row(format, rows.format(ok), columns);
  CHECK(back.path == ok.path);
  CHECK(back.ok);
  CHECK(back.model == "deit_tiny");
  CHECK(back.predictions == 2);
  const StoredRow back_failed = parse_stored_row(format, rows.format(failed), columns);
  CHECK(back_failed.path == failed.path);
  CHECK_FALSE(back_failed.ok);
  CHECK_THROWS(parse_stored_row(format, "not a row\n", columns));
}

TEST_CASE("CSV fields are quoted exactly when they must be", "[batch][rows]") {
  CHECK(csv_field("plain") == "plain");
  CHECK(csv_field("a,b") == "\"a,b\"");
  CHECK(csv_field("say \"hi\"") == "\"say \"\"hi\"\"\"");
  CHECK(csv_field("two\nlines") == "\"two\nlines\"");
  CHECK(split_csv_record("a,\"b,c\",\"d\"\"e\"\n") == std::vector<std::string>{"a", "b,c", "d\"e"});
  CHECK(result_format_of("out.csv") == ResultFormat::Csv);
  CHECK(result_format_of("out.jsonl") == ResultFormat::Jsonl);
  CHECK_THROWS_AS(result_format_of("out.txt"), ConfigError);
}

namespace {

// Scans a result file holding `text`, as --resume of `expect` reads it.
ResultFileScan scan_text(ResultFormat format, const std::string& text, const TailExpectations& expect) {
  const std::filesystem::path file = std::filesystem::temp_directory_path() /
                                     ("vitscope_tail_" + std::to_string(::getpid()) +
                                      (format == ResultFormat::Csv ? ".csv" : ".jsonl"));
  std::ofstream(file, std::ios::binary | std::ios::trunc) << text;
  struct Remove {
    std::filesystem::path file;
    ~Remove() { std::filesystem::remove(file); }
  } remove{file};
  return scan_result_file(file.string(), format, [](const StoredRow&, const std::string&) {}, expect);
}

}  // namespace

TEST_CASE("Every start of a row as a run writes it may be cut off as a partial record; other text may not",
          "[batch][rows]") {
  const ResultFormat format = GENERATE(ResultFormat::Csv, ResultFormat::Jsonl);
  const RowFormat rows(format, 3);
  const TailExpectations expect{"deit_tiny", 3, rows.header()};
  const std::vector<BatchRow> written = {
      {"photos/a, \"quoted\"\nname.jpg", "", "deit_tiny", std::string(64, 'a'),
       {{281, "tabby, \"tabby\" cat", 0.5f}, {282, "tiger cat", 1e-5f}, {7, "caf\xe9", 0.25f}}},
      {"photos/caf\xe9.jpg", "photos/caf\xe9.jpg: cannot decode \"x\"\x01", "deit_tiny", "", {}},
      {"photos/c.jpg", "photos/c.jpg: model deit_tiny gave a non-finite logit (NaN or infinity)", "deit_tiny",
       std::string(64, 'f'), {}}};
  const std::string whole = rows.header() + rows.format(written[0]);
  for (const BatchRow& row : written) {
    const std::string record = rows.format(row);
    for (std::size_t n = 1; n < record.size(); ++n) {
      INFO(record.substr(0, n));
      const ResultFileScan scan = scan_text(format, whole + record.substr(0, n), expect);
      CHECK(scan.complete_bytes == whole.size());
    }
  }
  for (std::size_t n = 1; n < rows.header().size(); ++n)
    if (format == ResultFormat::Csv) CHECK_NOTHROW(scan_text(format, rows.header().substr(0, n), expect));

  const std::vector<std::string> refused =
      format == ResultFormat::Csv
          ? std::vector<std::string>{"hello, world", "photos/x.jpg,ok,,other_model,abc", "photos/x.jpg,okay",
                                     "photos/x.jpg,ok,oops", "photos/x.jpg,ok,,deit_tiny,xyz",
                                     "\"plain\",ok", "photos/x.jpg,error,,deit_tiny,,1",
                                     "photos/x.jpg,ok,,deit_tiny,,1,a,0.5,2,b,0.5,3,c,0.5,4"}
          : std::vector<std::string>{"{\"path\":\"note\",\"mine\":1}", "{\"path\":\"a\",\"status\":\"fine",
                                     "{\"path\":\"a\",\"status\":\"ok\",\"error\":\"\",\"model\":\"other",
                                     "{\"path\":\"a\",\"status\":\"error\",\"error\":\"x\",\"model\":"
                                     "\"deit_tiny\",\"sha256\":\"\",\"classes\":[1",
                                     "[1,2,3]"};
  // The line an editor shows: the first row's quoted path holds a newline.
  const std::string line = format == ResultFormat::Csv ? "line 4: " : "line 2: ";
  for (const std::string& tail : refused) {
    INFO(tail);
    CHECK_THROWS_WITH(scan_text(format, whole + tail, expect), Contains(line + "not a vitscope result row"));
  }
}

TEST_CASE("Shards split any set of names into disjoint parts that cover it", "[batch][shard]") {
  CHECK(fnv1a64("") == 0xcbf29ce484222325ull);  // the FNV-1a offset basis
  CHECK(fnv1a64("a") == 0xaf63dc4c8601ec8cull);
  const int n = 4;
  std::vector<int> sizes(n, 0);
  for (int i = 0; i < 1000; ++i) {
    const std::string name = "folder/" + std::to_string(i) + ".jpg";
    int owners = 0;
    for (int k = 1; k <= n; ++k)
      if (Shard{k, n}.contains(name)) {
        ++owners;
        ++sizes[k - 1];
      }
    CHECK(owners == 1);
  }
  for (int size : sizes) CHECK(size > 150);  // roughly even: 250 expected
  CHECK(parse_shard("2/4").index == 2);
  CHECK_THROWS_AS(parse_shard("0/4"), ConfigError);
  CHECK_THROWS_AS(parse_shard("5/4"), ConfigError);
  CHECK_THROWS_AS(parse_shard("x"), ConfigError);
}

TEST_CASE("Inputs are discovered in sorted order, each once, named relative to their folder", "[batch][inputs]") {
  vitscope::testing::ImageFolder folder("inputs", 3);
  const std::string dir = std::filesystem::path(folder.paths[0]).parent_path().string();
  const std::vector<BatchInput> inputs = discover_batch_inputs({dir, folder.paths[1]});
  REQUIRE(inputs.size() == 3);  // the second argument is a file already found in the folder
  for (std::size_t i = 0; i < 3; ++i) {
    CHECK(inputs[i].path == folder.paths[i]);
    CHECK(inputs[i].relative == std::filesystem::path(folder.paths[i]).filename().string());
  }
  const std::vector<BatchInput> shard = select_shard(inputs, Shard{1, 1});
  CHECK(shard.size() == 3);
}
