// End-to-end tests of `vitscope batch` on the real binary and the real DeiT-Tiny weights: the rows,
// their independence of batch size and threads, bad inputs, options, progress and --fail-fast.
#include <sys/stat.h>

#include "cli/batch_test_support.hpp"

using namespace vitscope::testing;
using Catch::Matchers::Contains;

namespace {

// The shared photo a copy made by make_photo_folder was taken from.
std::string source_photo(const std::string& path) { return fs::path(path).filename().string().substr(8); }

}  // namespace

TEST_CASE("batch: one row per photo, the sha256 of its bytes and the reference result", "[cli][batch]") {
  const fs::path dir = fresh_dir("batch_rows");
  const std::vector<fs::path> photos = make_photo_folder(dir / "photos", 8, 0);
  const fs::path out = dir / "results.csv";
  const RunResult run = run_vitscope(batch_args(reference_model(), dir / "photos", out, "--batch 3"));
  INFO(run.err);
  REQUIRE(run.status == 0);
  const ResultRecords results = read_records(out);
  CHECK(results.header ==
        "path,status,error,model,sha256,class_1,label_1,probability_1,class_2,label_2,probability_2,"
        "class_3,label_3,probability_3,class_4,label_4,probability_4,class_5,label_5,probability_5\n");
  CHECK(results.partial.empty());
  REQUIRE(results.records.size() == photos.size());
  for (std::size_t i = 0; i < photos.size(); ++i) {
    const auto fields = row_fields(results.header, results.records[i]);
    INFO(results.records[i]);
    CHECK(fields.at("path") == photos[i].string());  // discovery order: sorted
    CHECK(fields.at("status") == "ok");
    CHECK(fields.at("error").empty());
    CHECK(fields.at("model") == reference_model_name());
    CHECK(fields.at("sha256") == photo_digests().at(source_photo(photos[i].string())));
    CHECK(without_path(results.records[i]) == reference_records(reference_model()).at(fields.at("sha256")));
  }
  // The summary names the counts, the throughput and the slowest stage.
  CHECK_THAT(run.err, Contains("8 images in"));
  CHECK_THAT(run.err, Contains("8 ok, 0 failed"));
  CHECK_THAT(run.err, Contains("images/s"));
  CHECK_THAT(run.err, Contains("slowest stage: "));
}

TEST_CASE("batch: rows agree with classify, and JSONL carries the same values", "[cli][batch]") {
  const fs::path dir = fresh_dir("batch_jsonl");
  make_photo_folder(dir / "photos", 4, 8);
  const RunResult jsonl = run_vitscope(batch_args(reference_model(), dir / "photos", dir / "r.jsonl", "--topk 3 --quiet"));
  INFO(jsonl.err);
  REQUIRE(jsonl.status == 0);
  const RunResult classify = run_vitscope("classify --format json --topk 3 --model " + quote(reference_model()) +
                                          " " + quote((dir / "photos").string()));
  REQUIRE(classify.status == 0);
  const auto expected = nlohmann::json::parse(classify.out).at("results");
  const ResultRecords results = read_records(dir / "r.jsonl");
  REQUIRE(results.records.size() == 4);
  REQUIRE(expected.size() == 4);
  for (std::size_t i = 0; i < 4; ++i) {
    const auto row = nlohmann::json::parse(results.records[i]);
    INFO(results.records[i]);
    CHECK(row.at("path") == expected[i].at("path"));
    CHECK(row.at("status") == "ok");
    CHECK(row.at("sha256") == photo_digests().at(source_photo(row.at("path"))));
    REQUIRE(row.at("classes").size() == 3);
    for (std::size_t r = 0; r < 3; ++r) {
      const auto& p = expected[i].at("predictions")[r];
      CHECK(row.at("classes")[r] == p.at("class_index"));
      CHECK(row.at("labels")[r] == p.at("label"));
      char six_digits[32];
      std::snprintf(six_digits, sizeof six_digits, "%.6g", p.at("probability").get<double>());
      CHECK(row.at("probabilities")[r].get<double>() == std::stod(six_digits));
    }
  }
}

TEST_CASE("batch: the rows do not depend on the batch size, the threads or the decode threads", "[cli][batch]") {
  const fs::path dir = fresh_dir("batch_invariance");
  make_photo_folder(dir / "photos", 11, 12);
  const RunResult one = run_vitscope(batch_args(reference_model(), dir / "photos", dir / "b1.csv", "--batch 1 --threads 1 --quiet"));
  // --decode-threads 0: the images are prepared on the model's threads between batches.
  const RunResult eight = run_vitscope(
      batch_args(reference_model(), dir / "photos", dir / "b8.csv", "--batch 8 --threads 2 --decode-threads 0 --quiet"));
  const RunResult three = run_vitscope(
      batch_args(reference_model(), dir / "photos", dir / "b3.csv", "--batch 3 --threads 2 --decode-threads 3 --quiet"));
  INFO(one.err << eight.err << three.err);
  REQUIRE(one.status == 0);
  REQUIRE(eight.status == 0);
  REQUIRE(three.status == 0);
  const std::string reference = read_file(dir / "b1.csv");
  CHECK(read_records(dir / "b1.csv").records.size() == 11);
  CHECK(read_file(dir / "b8.csv") == reference);
  CHECK(read_file(dir / "b3.csv") == reference);
  CHECK(eight.err.find("(on the 2 model threads between batches)") != std::string::npos);
  CHECK(three.err.find("(on 3 decode threads)") != std::string::npos);
}

TEST_CASE("batch: each bad file gets its own error row; no result lands on another file", "[cli][batch]") {
  const fs::path dir = fresh_dir("batch_bad");
  const fs::path photos = dir / "photos";
  make_photo_folder(photos, 5, 18);
  // Bad files sorted in between the good ones, so that each batch holds both.
  std::ofstream(photos / "img_001a_empty.jpg").close();
  const std::string jpeg = read_file(photos / ("img_003_" + shared_photos()[21].filename().string()));
  std::ofstream(photos / "img_003a_truncated.jpg", std::ios::binary) << jpeg.substr(0, jpeg.size() / 2);
  std::ofstream(photos / "img_004a_notes.jpg") << "a text file, not a JPEG\n";
  std::ofstream(photos / "img_004b_README.txt") << "not an image and not named like one: skipped\n";
  const fs::path fifo = dir / "pipe.jpg";
  REQUIRE(::mkfifo(fifo.c_str(), 0644) == 0);  // given as a file argument; must not hang the run

  const fs::path out = dir / "results.csv";
  const RunResult run = run_vitscope("batch " + quote(photos.string()) + " " + quote(fifo.string()) + " --model " +
                                     quote(reference_model()) + " --batch 4 --out " + quote(out.string()));
  INFO(run.err);
  CHECK(run.status == 1);
  const ResultRecords results = read_records(out);
  const auto rows = records_by_path(results);
  REQUIRE(rows.size() == 9);  // 5 photos, 3 bad files, the FIFO; README.txt is no input
  int ok = 0;
  for (const auto& [path, record] : rows) {
    const auto fields = row_fields(results.header, record);
    if (fields.at("status") != "ok") continue;
    ++ok;
    CHECK(fields.at("sha256") == photo_digests().at(source_photo(path)));
    CHECK(without_path(record) == reference_records(reference_model()).at(fields.at("sha256")));
  }
  CHECK(ok == 5);
  auto error_of = [&](const fs::path& file) {
    const auto fields = row_fields(results.header, rows.at(file.string()));
    CHECK(fields.at("status") == "error");
    CHECK(fields.at("class_1").empty());
    const std::string message = fields.at("error");
    CHECK_THAT(message, Contains(file.string() + ": "));
    CHECK(message.find('\n') == std::string::npos);
    CHECK_THAT(run.err, Contains(message));  // also reported on stderr
    return std::make_pair(message, fields.at("sha256"));
  };
  const auto [empty_error, empty_sha] = error_of(photos / "img_001a_empty.jpg");
  CHECK_THAT(empty_error, Contains("empty file"));
  CHECK(empty_sha == sha256sum(photos / "img_001a_empty.jpg"));
  const auto [truncated_error, truncated_sha] = error_of(photos / "img_003a_truncated.jpg");
  CHECK_THAT(truncated_error, Contains("JPEG"));
  CHECK(truncated_sha == sha256sum(photos / "img_003a_truncated.jpg"));
  CHECK_THAT(error_of(photos / "img_004a_notes.jpg").first, Contains("not an image"));
  CHECK_THAT(error_of(fifo).first, Contains("not a regular file"));
  CHECK_THAT(run.err, Contains("5 ok, 4 failed"));
}

TEST_CASE("batch: --fail-fast stops after the batch holding the first failure", "[cli][batch]") {
  const fs::path dir = fresh_dir("batch_fail_fast");
  make_photo_folder(dir / "photos", 16, 0);
  std::ofstream(dir / "photos" / "img_005a_broken.jpg") << "not a JPEG";  // input 6 of 17
  const fs::path out = dir / "results.csv";
  const RunResult run = run_vitscope(batch_args(tiny_model(), dir / "photos", out, "--batch 4 --fail-fast"));
  INFO(run.err);
  CHECK(run.status == 1);
  CHECK_THAT(run.err, Contains("--fail-fast"));
  const ResultRecords results = read_records(out);
  REQUIRE(results.records.size() == 8);  // batches [0, 4) and [4, 8)
  CHECK(row_fields(results.header, results.records[6]).at("status") == "error");
  CHECK(results.partial.empty());
}

TEST_CASE("batch: progress lines on a pipe, a bar on a terminal, nothing with --quiet", "[cli][batch]") {
  const fs::path dir = fresh_dir("batch_progress");
  make_photo_folder(dir / "photos", 40, 30);
  std::ofstream(dir / "photos" / "img_000a_broken.jpg") << "not a JPEG";
  const std::string tiny = tiny_model();

  const RunResult lines = run_vitscope(batch_args(tiny, dir / "photos", dir / "a.csv", "--batch 1 --progress-every 0.02"));
  INFO(lines.err);
  CHECK(lines.status == 1);
  CHECK_THAT(lines.err, Contains("/41 images ("));
  CHECK_THAT(lines.err, Contains("images/s, ETA "));
  CHECK_THAT(lines.err, Contains("1 failed"));
  CHECK_THAT(lines.err, Contains("img_000a_broken.jpg: not an image"));
  CHECK(lines.err.find('\r') == std::string::npos);

  const RunResult quiet = run_vitscope(batch_args(tiny, dir / "photos", dir / "b.csv", "--batch 1 --quiet --progress-every 0.02"));
  CHECK(quiet.status == 1);
  CHECK(quiet.err.find("/41 images (") == std::string::npos);
  CHECK(quiet.err.find("img_000a_broken.jpg") == std::string::npos);
  CHECK_THAT(quiet.err, Contains("40 ok, 1 failed"));  // the summary stays

  // On a terminal (script(1) gives the run a pseudo-terminal): a bar redrawn in place.
  const fs::path typescript = dir / "typescript";
  const RunResult tty = run_shell("script -qec " + quote(vitscope_command(batch_args(tiny, dir / "photos", dir / "c.csv", "--batch 1"))) +
                                  " " + quote(typescript.string()));
  INFO(tty.out);
  CHECK(tty.status == 1);
  const std::string screen = read_file(typescript);
  CHECK_THAT(screen, Contains("\r["));
  CHECK_THAT(screen, Contains("] 41/41 images (100%)"));
  CHECK_THAT(screen, Contains("\x1b[K"));
}

TEST_CASE("batch: bad options and an unusable output path exit with status 2", "[cli][batch]") {
  const fs::path dir = fresh_dir("batch_options");
  make_photo_folder(dir / "photos", 2, 0);
  const std::string photos = quote((dir / "photos").string());
  for (const char* shard : {"0/3", "4/3", "3", "a/b", "1/0", "-1/2"}) {
    INFO(shard);
    const RunResult r = run_vitscope("batch " + photos + " --out " + quote((dir / "x.csv").string()) + " --shard " + shard);
    CHECK(r.status == 2);
    CHECK_THAT(r.err, Contains("--shard"));
  }
  const RunResult txt = run_vitscope("batch " + photos + " --out " + quote((dir / "x.txt").string()));
  CHECK(txt.status == 2);
  CHECK_THAT(txt.err, Contains("x.txt: the result file must be named *.csv or *.jsonl"));
  CHECK(run_vitscope("batch " + photos).status == 2);  // --out is required
  const std::string missing_dir = (dir / "no" / "such" / "dir" / "r.csv").string();
  const RunResult no_dir = run_vitscope(batch_args(tiny_model(), dir / "photos", missing_dir));
  CHECK(no_dir.status == 2);
  CHECK_THAT(no_dir.err, Contains(missing_dir + ": cannot open for writing: No such file or directory"));
  CHECK(no_dir.err.find('\n') == no_dir.err.size() - 1);  // one line
  fs::create_directories(dir / "no_images_here");
  std::ofstream(dir / "no_images_here" / "notes.txt") << "not an image";
  const RunResult empty = run_vitscope(batch_args(tiny_model(), dir / "no_images_here", dir / "e.csv"));
  CHECK(empty.status == 1);
  CHECK_THAT(empty.err, Contains("no images found"));
}

TEST_CASE("batch: --list prints the files a run would classify, in order, without the model", "[cli][batch]") {
  const fs::path dir = fresh_dir("batch_list");
  const std::vector<fs::path> photos = make_photo_folder(dir / "photos" / "sub", 5, 0);
  std::ofstream(dir / "photos" / "a.png") << "\x89PNG\r\n\x1a\n";  // recognised by content
  const RunResult listed = run_vitscope("batch " + quote((dir / "photos").string()) + " --list --out " +
                                        quote((dir / "r.csv").string()));
  INFO(listed.err);
  REQUIRE(listed.status == 0);
  std::string expected = (dir / "photos" / "a.png").string() + "\n";
  for (const fs::path& p : photos) expected += p.string() + "\n";
  CHECK(listed.out == expected);
  CHECK(!fs::exists(dir / "r.csv"));
}
