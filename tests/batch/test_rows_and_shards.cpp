// The batch library's pure parts: result rows written and read back in both formats, CSV quoting,
// shards that split any set of names into disjoint parts, and input discovery.
#include <set>
#include <string>
#include <vector>

#include "batch/fake_model.hpp"
#include "vitscope/batch/inputs.hpp"
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
