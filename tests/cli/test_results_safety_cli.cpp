// Results that name every file exactly and that --resume and merge never damage: file names that
// are not UTF-8 in every JSON output, result files that are not vitscope's, a quote that never
// closes in the middle of a file, rows written with other settings.
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "cli/batch_test_support.hpp"
#include "vitscope/core/json_path.hpp"

using namespace vitscope::testing;
namespace fs = std::filesystem;
using Catch::Matchers::Contains;

namespace {

// Two Latin-1 names that the U+FFFD replacement would make one ("caf\xe9" and "caf\xe8").
std::vector<fs::path> add_latin1_names(const fs::path& dir, const fs::path& photo) {
  const std::vector<fs::path> names = {dir / "caf\xe9.jpg", dir / "caf\xe8.jpg"};
  for (const fs::path& name : names) fs::copy_file(photo, name);
  return names;
}

}  // namespace

TEST_CASE("file names that are not UTF-8: exact in JSON, JSON lines, compare.json; resume tells them apart",
          "[cli][results]") {
  const fs::path dir = fresh_dir("results_latin1");
  const std::vector<fs::path> photos = make_photo_folder(dir / "photos", 2, 5);
  const std::vector<fs::path> latin1 = add_latin1_names(dir / "photos", photos[0]);

  const RunResult classify = run_vitscope("classify --format json --model " + quote(tiny_model()) + " " +
                                          quote((dir / "photos").string()));
  INFO(classify.err);
  REQUIRE(classify.status == 0);
  const auto j = nlohmann::json::parse(classify.out);  // whole: nothing cut off
  REQUIRE(j.at("results").size() == 4);
  std::set<std::string> named;
  for (const auto& row : j.at("results")) named.insert(vitscope::get_path(row, "path"));
  for (const fs::path& p : latin1) CHECK(named.count(p.string()) == 1);
  CHECK(j.at("results")[0].at("path") == (dir / "photos" / "caf\xef\xbf\xbd.jpg").string());  // readable form

  const fs::path out = dir / "results.jsonl";
  REQUIRE(run_vitscope(batch_args(tiny_model(), dir / "photos", out, "--quiet")).status == 0);
  std::ifstream lines(out);
  std::set<std::string> stored;
  for (std::string line; std::getline(lines, line);) stored.insert(vitscope::get_path(nlohmann::json::parse(line), "path"));
  CHECK(stored.size() == 4);
  for (const fs::path& p : latin1) CHECK(stored.count(p.string()) == 1);
  const RunResult again = run_vitscope(batch_args(tiny_model(), dir / "photos", out, "--resume"));
  CHECK(again.status == 0);
  CHECK_THAT(again.err, Contains(": 0 images to classify (4 done earlier)"));

  const RunResult compare = run_vitscope("compare --no-erf --maps rollout,cam --vit " + quote(deit_tiny_model()) + " --out " +
                                         quote((dir / "compare").string()) + " " + quote(latin1[0].string()));
  INFO(compare.err);
  REQUIRE(compare.status == 0);
  std::ifstream report_in(dir / "compare" / "compare.json");
  const auto report = nlohmann::json::parse(report_in);
  CHECK(vitscope::get_path(report, "image") == latin1[0].string());
  CHECK(report.at("image_bytes") == vitscope::hex_of(latin1[0].string()));  // the README's name for it
}

TEST_CASE("--resume refuses what it did not write and never changes it", "[cli][results]") {
  const fs::path dir = fresh_dir("results_refusals");
  make_photo_folder(dir / "photos", 4, 11);
  struct Case {
    std::string name, content, message;
  };
  const fs::path good = dir / "good.csv";
  REQUIRE(run_vitscope(batch_args(tiny_model(), dir / "photos", good, "--quiet")).status == 0);
  std::string csv = read_file(good);
  // An unterminated quote in the second row: the rows after it must not be taken for a torn record.
  const std::size_t second = csv.find('\n', csv.find('\n') + 1) + 1;
  std::string stray = csv;
  stray.insert(stray.find(",ok,", second) + 1, "\"");
  for (const Case& c : {Case{"notes.jsonl", "my notes, not results", "line 1: not a vitscope result row"},
                        Case{"notes.csv", "my notes, not results", "not a vitscope result file"},
                        Case{"stray.csv", stray, "line 3: a record whose quote never closes"}}) {
    INFO(c.name);
    const fs::path file = dir / c.name;
    std::ofstream(file, std::ios::binary) << c.content;
    fs::copy_file(good.string() + ".settings.json", file.string() + ".settings.json");
    const RunResult run = run_vitscope(batch_args(tiny_model(), dir / "photos", file, "--resume"));
    CHECK(run.status == 2);
    CHECK_THAT(run.err, Contains(file.string()));
    CHECK_THAT(run.err, Contains(c.message));
    CHECK(read_file(file) == c.content);
  }
}

TEST_CASE("--resume cuts off only a partial row as this run writes it, and names the line", "[cli][results]") {
  const fs::path dir = fresh_dir("results_tails");
  make_photo_folder(dir / "photos", 3, 14);
  const fs::path good_csv = dir / "good.csv", good_jsonl = dir / "good.jsonl";
  REQUIRE(run_vitscope(batch_args(tiny_model(), dir / "photos", good_csv, "--quiet")).status == 0);
  REQUIRE(run_vitscope(batch_args(tiny_model(), dir / "photos", good_jsonl, "--quiet")).status == 0);
  struct Case {
    fs::path good;
    std::string tail, message;
  };
  // Text after the last whole row (no newline): someone's, not what an interrupted run leaves.
  for (const Case& c : {Case{good_csv, "hello, world", "line 5: not a vitscope result row (status \" world\""},
                        Case{good_csv, "imgs/x.JPEG,ok,,other_model,abc", "line 5: not a vitscope result row (model \"other_model\""},
                        Case{good_jsonl, "{\"path\":\"note\",\"mine\":1}", "line 4: not a vitscope result row"},
                        // a whole record that is not a row: named by its first line, past a quoted newline
                        Case{good_csv, "\"two\nlines\",error,x,tokens197,,,,,,,,,,,,,,,,\nhello\n", "line 7: not a vitscope result row"}}) {
    INFO(c.tail);
    const fs::path file = dir / ("tail" + c.good.extension().string());
    const std::string content = read_file(c.good) + c.tail;
    std::ofstream(file, std::ios::binary | std::ios::trunc) << content;
    fs::copy_file(c.good.string() + ".settings.json", file.string() + ".settings.json", fs::copy_options::overwrite_existing);
    const RunResult run = run_vitscope(batch_args(tiny_model(), dir / "photos", file, "--resume"));
    CHECK(run.status == 2);
    CHECK_THAT(run.err, Contains(file.string() + ": " + c.message));
    CHECK(std::count(run.err.begin(), run.err.end(), '\n') == 1);
    CHECK(read_file(file) == content);
  }
  // The start of a row of this run is what an interruption leaves: cut off.
  const fs::path torn = dir / "torn.csv";
  const std::string complete = read_file(good_csv);
  std::ofstream(torn, std::ios::binary) << complete << "imgs/x.JPEG,ok,,tokens1";
  fs::copy_file(good_csv.string() + ".settings.json", torn.string() + ".settings.json");
  const RunResult resumed = run_vitscope(batch_args(tiny_model(), dir / "photos", torn, "--resume --quiet"));
  CHECK(resumed.status == 0);
  CHECK(read_file(torn) == complete);
}

TEST_CASE("--resume and merge refuse rows written with other settings", "[cli][results]") {
  const fs::path dir = fresh_dir("results_settings");
  make_photo_folder(dir / "photos", 4, 21);
  const fs::path out = dir / "results.csv";
  REQUIRE(run_vitscope(batch_args(tiny_model(), dir / "photos", out, "--quiet --shard 1/2")).status == 0);
  const std::string before = read_file(out);
  const RunResult bf16 = run_vitscope(batch_args(tiny_model(), dir / "photos", out, "--resume --precision bf16"));
  CHECK(bf16.status == 2);
  CHECK_THAT(bf16.err, Contains("written with other settings (precision: fp32 in the file, bf16 in this run)"));
  // Other weights under the same model name: the digest differs.
  const fs::path copy = dir / "tokens197.safetensors";
  std::string weights = read_file(tiny_model());
  weights[weights.size() - 1] ^= 1;
  std::ofstream(copy, std::ios::binary) << weights;
  const RunResult other = run_vitscope(batch_args(copy.string(), dir / "photos", out, "--resume"));
  CHECK(other.status == 2);
  CHECK_THAT(other.err, Contains("weights (sha256)"));
  CHECK(read_file(out) == before);
  // The same weights read with another head count, or named by another class-name file.
  const RunResult heads = run_vitscope(batch_args(tiny_model(), dir / "photos", out, "--resume --heads 1"));
  CHECK(heads.status == 2);
  CHECK_THAT(heads.err, Contains("written with other settings (model: vit, heads"));
  const fs::path names = dir / "names.txt";
  {
    std::ofstream list(names);
    for (int i = 0; i < 16; ++i) list << "name" << i << '\n';  // the test ViT has 16 classes
  }
  const RunResult labels = run_vitscope(batch_args(tiny_model(), dir / "photos", out,
                                                   "--resume --class-names " + quote(names.string())));
  CHECK(labels.status == 2);
  CHECK_THAT(labels.err, Contains("class names (sha256)"));
  CHECK(read_file(out) == before);
  // Without its settings file nothing can be checked: refused too.
  fs::rename(out.string() + ".settings.json", dir / "kept.json");
  const RunResult lost = run_vitscope(batch_args(tiny_model(), dir / "photos", out, "--resume"));
  CHECK(lost.status == 2);
  CHECK_THAT(lost.err, Contains("settings.json beside it"));
  fs::rename(dir / "kept.json", out.string() + ".settings.json");

  // Two shards in different precisions do not merge.
  const fs::path shard2 = dir / "shard2.csv";
  REQUIRE(run_vitscope(batch_args(tiny_model(), dir / "photos", shard2, "--quiet --shard 2/2 --precision bf16")).status == 0);
  const RunResult merge = run_vitscope("merge " + quote((dir / "merged.csv").string()) + " " + quote(out.string()) +
                                       " " + quote(shard2.string()));
  CHECK(merge.status == 2);
  CHECK_THAT(merge.err, Contains("written with other settings than the files before it (precision"));
  CHECK(!fs::exists(dir / "merged.csv"));
  // The same precision merges, and the merged file carries the settings.
  REQUIRE(run_vitscope(batch_args(tiny_model(), dir / "photos", dir / "shard2b.csv", "--quiet --shard 2/2")).status == 0);
  const RunResult merged = run_vitscope("merge " + quote((dir / "merged.csv").string()) + " " + quote(out.string()) +
                                        " " + quote((dir / "shard2b.csv").string()));
  INFO(merged.err);
  CHECK(merged.status == 0);
  CHECK(read_file(dir / "merged.csv.settings.json") == read_file(out.string() + ".settings.json"));
}

TEST_CASE("a path through a symlinked folder and .. names the file the system opens", "[cli][results]") {
  const fs::path dir = fresh_dir("results_symlink_dotdot");
  const std::vector<fs::path> photos = make_photo_folder(dir / "real", 1, 37);
  fs::create_directories(dir / "real" / "inner");
  fs::create_directories(dir / "dir");
  fs::create_directory_symlink(dir / "real" / "inner", dir / "dir" / "link");
  const std::string name = photos.front().filename().string();
  // dir/<name> holds no image: shortening dir/link/../<name> on paper would open it instead.
  { std::ofstream(dir / "dir" / name) << "not an image"; }
  const std::string given = "dir/link/../" + name;
  const RunResult classify = run_shell("cd " + quote(dir.string()) + " && " +
                                       vitscope_command("classify --model " + quote(tiny_model()) + " " + quote(given)));
  INFO(classify.out << classify.err);
  CHECK(classify.status == 0);
  CHECK(classify.out.rfind(given, 0) == 0);  // the row names the path as given
  const RunResult listed = run_shell("cd " + quote(dir.string()) + " && " +
                                     vitscope_command(batch_args(tiny_model(), "dir/link/..", "l.csv", "--list")));
  INFO(listed.out << listed.err);
  CHECK_THAT(listed.out, Contains("dir/link/../" + name));
  CHECK_THAT(listed.out, !Contains("dir/" + name));
}

TEST_CASE("dir/x and ./dir/x are one input; merge --expect ./dir or $PWD/dir accepts rows written as dir/...",
          "[cli][results]") {
  const fs::path dir = fresh_dir("results_same_input");
  make_photo_folder(dir / "photos", 3, 31);
  const std::string cd = "cd " + quote(dir.string()) + " && ";
  const RunResult classify = run_shell(cd + vitscope_command("classify --model " + quote(tiny_model()) +
                                                             " photos/img_000_* ./photos/img_000_* photos"));
  INFO(classify.err);
  REQUIRE(classify.status == 0);
  std::size_t rows = 0;
  for (std::size_t at = classify.out.find("photos/"); at != std::string::npos; at = classify.out.find("photos/", at + 1))
    if (at == 0 || classify.out[at - 1] == '\n') ++rows;
  CHECK(rows == 3);
  const RunResult batch = run_shell(cd + vitscope_command(batch_args(tiny_model(), "photos", "a.csv", "--quiet")));
  REQUIRE(batch.status == 0);
  const RunResult merge = run_shell(cd + vitscope_command("merge merged.csv a.csv --expect ./photos"));
  INFO(merge.err);
  CHECK(merge.status == 0);
  CHECK_THAT(merge.err, Contains("no gaps"));
  // The folder named absolutely: the same files as the rows' relative names.
  const RunResult absolute = run_shell(cd + vitscope_command("merge merged2.csv a.csv --expect " +
                                                             quote((dir / "photos").string())));
  INFO(absolute.err);
  CHECK(absolute.status == 0);
  CHECK_THAT(absolute.err, Contains("no gaps"));
  CHECK(read_file(dir / "merged2.csv") == read_file(dir / "a.csv"));
}
