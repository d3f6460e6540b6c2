// `vitscope batch --shard K/N` and `vitscope merge`: the shards cover the inputs exactly once, and
// merging them gives the rows of one unsharded run; duplicates and gaps are refused. The runs use
// the tiny test ViT.
#include <cstdint>

#include "cli/batch_test_support.hpp"

using namespace vitscope::testing;
using Catch::Matchers::Contains;

namespace {

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// FNV-1a 64, written here from its definition to check the shard assignment independently.
std::uint64_t fnv1a64(const std::string& text) {
  std::uint64_t h = 14695981039346656037ull;
  for (unsigned char c : text) h = (h ^ c) * 1099511628211ull;
  return h;
}

}  // namespace

TEST_CASE("batch --shard: N shards partition the inputs by FNV-1a of the relative path", "[cli][batch][shard]") {
  CHECK(fnv1a64("a") == 0xaf63dc4c8601ec8cull);  // the published test vector
  const fs::path dir = fresh_dir("batch_shard_list");
  const fs::path root = dir / "photos";
  make_photo_folder(root / "a", 20, 0);
  make_photo_folder(root / "b" / "c", 20, 20);
  const std::string args = " --list --out " + quote((dir / "r.csv").string());
  const RunResult all = run_vitscope("batch " + quote(root.string()) + args);
  INFO(all.err);
  REQUIRE(all.status == 0);
  const std::vector<std::string> everything = lines_of(all.out);
  REQUIRE(everything.size() == 40);
  for (const int n : {1, 3, 7}) {
    std::multiset<std::string> union_of_shards;
    for (int k = 1; k <= n; ++k) {
      const RunResult shard = run_vitscope("batch " + quote(root.string()) + args + " --shard " +
                                           std::to_string(k) + "/" + std::to_string(n));
      REQUIRE(shard.status == 0);
      for (const std::string& path : lines_of(shard.out)) {
        union_of_shards.insert(path);
        const std::string relative = path.substr(root.string().size() + 1);  // e.g. "b/c/img_003_..."
        CHECK(fnv1a64(relative) % n == static_cast<std::uint64_t>(k - 1));
      }
    }
    CHECK(union_of_shards == std::multiset<std::string>(everything.begin(), everything.end()));
  }
  // The relative path decides, not the folder's own location: the same tree elsewhere splits alike.
  fs::copy(root, dir / "moved", fs::copy_options::recursive);
  const RunResult here = run_vitscope("batch " + quote(root.string()) + args + " --shard 2/3");
  const RunResult there = run_vitscope("batch " + quote((dir / "moved").string()) + args + " --shard 2/3");
  std::vector<std::string> here_names, there_names;
  for (const auto& p : lines_of(here.out)) here_names.push_back(p.substr(root.string().size()));
  for (const auto& p : lines_of(there.out)) there_names.push_back(p.substr((dir / "moved").string().size()));
  CHECK(here_names == there_names);
}

TEST_CASE("batch --shard + merge: exactly the rows of one unsharded run", "[cli][batch][shard]") {
  const fs::path dir = fresh_dir("batch_shard_merge");
  const fs::path photos = dir / "photos";
  make_photo_folder(photos / "x", 15, 0);
  make_photo_folder(photos / "y", 15, 15);
  std::ofstream(photos / "y" / "broken.jpg") << "not a JPEG";  // error rows merge like the others
  const std::string model = " --model " + quote(tiny_model());
  for (const std::string ext : {"csv", "jsonl"}) {
    INFO(ext);
    const fs::path whole = dir / ("whole." + ext);
    REQUIRE(run_vitscope("batch " + quote(photos.string()) + model + " --quiet --out " + quote(whole.string())).status == 1);
    std::vector<std::string> shard_files;
    std::size_t rows = 0;
    for (int k = 1; k <= 3; ++k) {
      const fs::path shard = dir / ("shard" + std::to_string(k) + "." + ext);
      const RunResult r = run_vitscope("batch " + quote(photos.string()) + model + " --quiet --threads 1 --batch 3 --shard " +
                                       std::to_string(k) + "/3 --out " + quote(shard.string()));
      CHECK((r.status == 0 || r.status == 1));
      rows += read_records(shard).records.size();
      shard_files.push_back(quote(shard.string()));
    }
    CHECK(rows == 31);
    const fs::path merged = dir / ("merged." + ext);
    const RunResult merge = run_vitscope("merge " + quote(merged.string()) + " " + shard_files[2] + " " + shard_files[0] +
                                         " " + shard_files[1] + " --expect " + quote(photos.string()));
    INFO(merge.err);
    REQUIRE(merge.status == 0);
    CHECK_THAT(merge.err, Contains("31 rows (30 ok, 1 failed) from 3 files, no gaps"));
    CHECK(read_file(merged) == read_file(whole));  // byte for byte, rows in the same order
  }
}

TEST_CASE("merge: duplicate rows and gaps are reported and nothing is written", "[cli][batch][shard]") {
  const fs::path dir = fresh_dir("batch_merge_problems");
  const fs::path photos = dir / "photos";
  const std::vector<fs::path> made = make_photo_folder(photos, 12, 33);
  const std::string model = " --model " + quote(tiny_model());
  std::vector<std::string> shards;
  for (int k = 1; k <= 2; ++k) {
    const fs::path shard = dir / ("s" + std::to_string(k) + ".csv");
    REQUIRE(run_vitscope("batch " + quote(photos.string()) + model + " --quiet --shard " + std::to_string(k) +
                         "/2 --out " + quote(shard.string())).status == 0);
    shards.push_back(shard.string());
  }
  const std::size_t second_rows = read_records(shards[1]).records.size();
  REQUIRE(second_rows > 0);
  const fs::path out = dir / "merged.csv";

  const RunResult duplicate = run_vitscope("merge " + quote(out.string()) + " " + quote(shards[0]) + " " +
                                           quote(shards[1]) + " " + quote(shards[1]));
  CHECK(duplicate.status == 1);
  CHECK_THAT(duplicate.err, Contains(std::to_string(second_rows) + " paths have more than one row"));
  CHECK_THAT(duplicate.err, Contains("(in " + shards[1] + " and " + shards[1] + ")"));
  CHECK_THAT(duplicate.err, Contains("not written"));
  CHECK(!fs::exists(out));

  const RunResult gap = run_vitscope("merge " + quote(out.string()) + " " + quote(shards[0]) + " --expect " +
                                     quote(photos.string()));
  CHECK(gap.status == 1);
  CHECK_THAT(gap.err, Contains(std::to_string(second_rows) + " files under --expect have no row"));
  const std::string first_missing = read_records(shards[1]).records[0];
  CHECK_THAT(gap.err, Contains(row_fields(read_records(shards[1]).header, first_missing).at("path")));
  CHECK(!fs::exists(out));

  // Rows for files outside --expect are a mismatch too.
  const RunResult unexpected = run_vitscope("merge " + quote(out.string()) + " " + quote(shards[0]) + " " +
                                            quote(shards[1]) + " --expect " + quote(made[0].string()));
  CHECK(unexpected.status == 1);
  CHECK_THAT(unexpected.err, Contains("11 rows are for files not under --expect"));
  CHECK(!fs::exists(out));

  // Without --expect, gaps cannot be known: the join is written and says so.
  const RunResult unchecked = run_vitscope("merge " + quote(out.string()) + " " + quote(shards[0]));
  CHECK(unchecked.status == 0);
  CHECK_THAT(unchecked.err, Contains("not checked for gaps"));

  // A torn last record in a shard (an interrupted run) is left out with a warning; --expect then
  // reports that input as missing.
  const std::string text = read_file(shards[1]);
  std::ofstream(shards[1], std::ios::binary | std::ios::trunc) << text.substr(0, text.size() - 10);
  fs::remove(out);
  const RunResult torn = run_vitscope("merge " + quote(out.string()) + " " + quote(shards[0]) + " " + quote(shards[1]) +
                                      " --expect " + quote(photos.string()));
  CHECK(torn.status == 1);
  CHECK_THAT(torn.err, Contains(shards[1] + ": ignoring a partial last record"));
  CHECK_THAT(torn.err, Contains("1 files under --expect have no row"));
  CHECK(!fs::exists(out));

  const RunResult mixed = run_vitscope("merge " + quote((dir / "m.jsonl").string()) + " " + quote(shards[0]));
  CHECK(mixed.status == 2);
  CHECK_THAT(mixed.err, Contains("not the format of"));
}
