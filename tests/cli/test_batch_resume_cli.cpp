// `vitscope batch` interrupted (SIGKILL, SIGINT, a torn last record) and resumed: the completed file
// holds the same rows as an uninterrupted run, each input once. The runs use the tiny test ViT;
// what is tested is the files, not the model.
#include <csignal>

#include "cli/batch_test_support.hpp"

using namespace vitscope::testing;
using Catch::Matchers::Contains;

namespace {

// Every record matches the reference run for its photo's bytes, and each photo has one.
void check_complete(const fs::path& out, const std::vector<fs::path>& photos) {
  const ResultRecords results = read_records(out);
  CHECK(results.partial.empty());
  const auto rows = records_by_path(results);
  CHECK(rows.size() == photos.size());
  for (const fs::path& photo : photos) {
    INFO(photo);
    REQUIRE(rows.count(photo.string()) == 1);
    const std::string& record = rows.at(photo.string());
    CHECK(without_path(record) == reference_records(tiny_model()).at(row_fields(results.header, record).at("sha256")));
  }
}

std::vector<std::string> sorted_records(const fs::path& out) {
  std::vector<std::string> records = read_records(out).records;
  std::sort(records.begin(), records.end());
  return records;
}

}  // namespace

TEST_CASE("batch: killed with SIGKILL twice, then resumed: the rows of an uninterrupted run", "[cli][batch][resume]") {
  const fs::path dir = fresh_dir("batch_sigkill");
  const std::vector<fs::path> photos = make_photo_folder(dir / "photos", 200, 0);
  const fs::path uninterrupted = dir / "uninterrupted.csv";
  const RunResult whole = run_vitscope(batch_args(tiny_model(), dir / "photos", uninterrupted, "--batch 4 --quiet"));
  INFO(whole.err);
  REQUIRE(whole.status == 0);

  const fs::path out = dir / "results.csv";
  std::size_t written_before_resume = 0;
  for (const std::size_t kill_at : {8u, 60u}) {
    BackgroundRun run(batch_args(tiny_model(), dir / "photos", out, "--batch 4 --threads 1 --resume"));
    wait_for_records(out, kill_at, run);
    REQUIRE(::kill(run.pid, SIGKILL) == 0);
    CHECK(run.wait() == 128 + SIGKILL);
    const ResultRecords left = read_records(out);
    INFO("records after the kill: " << left.records.size() << ", partial: " << left.partial.size() << " bytes");
    CHECK(left.records.size() >= kill_at);
    CHECK(left.records.size() < photos.size());
    // What was written is a prefix of the uninterrupted rows, in input order.
    const std::vector<std::string> expected = read_records(uninterrupted).records;
    for (std::size_t i = 0; i < left.records.size(); ++i) CHECK(left.records[i] == expected[i]);
    written_before_resume = left.records.size();
  }
  const RunResult resumed = run_vitscope(batch_args(tiny_model(), dir / "photos", out, "--batch 4 --resume"));
  INFO(resumed.err);
  CHECK(resumed.status == 0);
  CHECK_THAT(resumed.err, Contains("(" + std::to_string(written_before_resume) + " done earlier)"));
  check_complete(out, photos);
  CHECK(sorted_records(out) == sorted_records(uninterrupted));

  // Resuming a complete file classifies nothing and changes nothing.
  const std::string complete = read_file(out);
  const RunResult again = run_vitscope(batch_args(tiny_model(), dir / "photos", out, "--resume"));
  CHECK(again.status == 0);
  CHECK_THAT(again.err, Contains(": 0 images to classify (200 done earlier)"));
  CHECK(read_file(out) == complete);
}

TEST_CASE("batch: Ctrl-C stops after the current batch with whole rows; --resume completes", "[cli][batch][resume]") {
  const fs::path dir = fresh_dir("batch_sigint");
  const std::vector<fs::path> photos = make_photo_folder(dir / "photos", 200, 50);
  const fs::path out = dir / "results.jsonl";
  BackgroundRun run(batch_args(tiny_model(), dir / "photos", out, "--batch 4 --threads 1"));
  wait_for_records(out, 4, run);
  REQUIRE(::kill(run.pid, SIGINT) == 0);
  CHECK(run.wait() == 128 + SIGINT);
  CHECK_THAT(run.err(), Contains("interrupted by Interrupt"));
  CHECK_THAT(run.err(), Contains("--resume completes the run"));
  const ResultRecords left = read_records(out);
  CHECK(left.partial.empty());
  CHECK(left.records.size() % 4 == 0);
  CHECK(left.records.size() < photos.size());

  const RunResult resumed = run_vitscope(batch_args(tiny_model(), dir / "photos", out, "--batch 4 --resume --quiet"));
  INFO(resumed.err);
  CHECK(resumed.status == 0);
  const ResultRecords results = read_records(out);
  const auto rows = records_by_path(results);
  REQUIRE(rows.size() == photos.size());
  const RunResult uninterrupted = run_vitscope(batch_args(tiny_model(), dir / "photos", dir / "whole.jsonl", "--quiet"));
  REQUIRE(uninterrupted.status == 0);
  CHECK(sorted_records(out) == sorted_records(dir / "whole.jsonl"));
}

TEST_CASE("batch: a torn last record is ignored and cut off, even inside a quoted field", "[cli][batch][resume]") {
  const fs::path dir = fresh_dir("batch_torn");
  std::vector<fs::path> photos = make_photo_folder(dir / "photos", 5, 70);
  // Sorted last, and its CSV field is quoted and spans two lines.
  const fs::path odd = dir / "photos" / "zz odd, \"name\"\nwith a newline.jpg";
  fs::copy_file(photos[0], odd);
  photos.push_back(odd);
  const fs::path out = dir / "results.csv";
  const RunResult whole = run_vitscope(batch_args(tiny_model(), dir / "photos", out, "--quiet"));
  INFO(whole.err);
  REQUIRE(whole.status == 0);
  const std::string complete = read_file(out);
  const ResultRecords records = read_records(out);
  REQUIRE(records.records.size() == 6);
  CHECK(row_fields(records.header, records.records[5]).at("path") == odd.string());

  // Cut inside the quoted path, just after its newline: a line-based reader would see a whole line.
  const std::size_t last_start = complete.size() - records.records[5].size();
  const std::size_t cut = complete.find('\n', last_start) + 1;
  REQUIRE(cut < complete.size());
  std::ofstream(out, std::ios::binary | std::ios::trunc) << complete.substr(0, cut);
  const RunResult resumed = run_vitscope(batch_args(tiny_model(), dir / "photos", out, "--resume"));
  INFO(resumed.err);
  CHECK(resumed.status == 0);
  CHECK_THAT(resumed.err, Contains("1 image to classify (5 done earlier)"));
  CHECK(read_file(out) == complete);

  // Cut in the middle of an earlier record's probabilities: the same.
  const std::size_t third_end = records.header.size() + records.records[0].size() + records.records[1].size() +
                                records.records[2].size();
  std::ofstream(out, std::ios::binary | std::ios::trunc) << complete.substr(0, third_end - 9);
  const RunResult again = run_vitscope(batch_args(tiny_model(), dir / "photos", out, "--resume --quiet"));
  CHECK(again.status == 0);
  CHECK(read_file(out) == complete);
}

TEST_CASE("batch: --resume retries the inputs that failed, keeping one row per input", "[cli][batch][resume]") {
  const fs::path dir = fresh_dir("batch_retry");
  std::vector<fs::path> photos = make_photo_folder(dir / "photos", 6, 80);
  const fs::path late = dir / "photos" / "img_002a_late.JPEG";
  std::ofstream(late) << "still being copied";
  const fs::path out = dir / "results.csv";
  const RunResult first = run_vitscope(batch_args(tiny_model(), dir / "photos", out, "--batch 4 --quiet"));
  CHECK(first.status == 1);
  CHECK(read_records(out).records.size() == 7);

  fs::copy_file(photos[1], late, fs::copy_options::overwrite_existing);
  photos.push_back(late);
  const RunResult resumed = run_vitscope(batch_args(tiny_model(), dir / "photos", out, "--batch 4 --resume"));
  INFO(resumed.err);
  CHECK(resumed.status == 0);
  CHECK_THAT(resumed.err, Contains("1 image to classify (6 done earlier)"));
  check_complete(out, photos);
}

TEST_CASE("batch: a result file is not overwritten, mixed with another model's rows, or shared", "[cli][batch][resume]") {
  const fs::path dir = fresh_dir("batch_refusals");
  make_photo_folder(dir / "photos", 8, 90);
  const fs::path out = dir / "results.csv";
  REQUIRE(run_vitscope(batch_args(tiny_model(), dir / "photos", out, "--quiet")).status == 0);
  const std::string complete = read_file(out);

  const RunResult exists = run_vitscope(batch_args(tiny_model(), dir / "photos", out));
  CHECK(exists.status == 2);
  CHECK_THAT(exists.err, Contains(out.string() + ": already exists; --resume completes it, or remove it first"));
  const RunResult topk = run_vitscope(batch_args(tiny_model(), dir / "photos", out, "--resume --topk 3"));
  CHECK(topk.status == 2);
  CHECK_THAT(topk.err, Contains(out.string() + ": its CSV header differs"));
  const RunResult model = run_vitscope("batch " + quote((dir / "photos").string()) + " --model " +
                                       quote(shared_path("models/mobilenet_v1_0.75_224.safetensors")) +
                                       " --resume --out " + quote(out.string()));
  CHECK(model.status == 2);
  CHECK_THAT(model.err, Contains("holds results of model tokens197, this run uses mobilenet_v1_0.75_224"));
  CHECK(read_file(out) == complete);

  const fs::path jsonl = dir / "results.jsonl";
  REQUIRE(run_vitscope(batch_args(tiny_model(), dir / "photos", jsonl, "--quiet --topk 2")).status == 0);
  const RunResult jsonl_topk = run_vitscope(batch_args(tiny_model(), dir / "photos", jsonl, "--resume --topk 4"));
  CHECK(jsonl_topk.status == 2);
  CHECK_THAT(jsonl_topk.err, Contains("holds rows with 2 classes, this run writes 4"));

  // Two runs on one file at once: the second is refused while the first holds its lock.
  make_photo_folder(dir / "many", 300, 0);
  const fs::path shared_out = dir / "shared.csv";
  BackgroundRun first(batch_args(tiny_model(), dir / "many", shared_out, "--batch 1 --threads 1"));
  wait_for_records(shared_out, 1, first);
  const RunResult second = run_vitscope(batch_args(tiny_model(), dir / "many", shared_out, "--resume"));
  int raw = 0;
  const bool first_still_running = ::waitpid(first.pid, &raw, WNOHANG) == 0;
  if (first_still_running) {
    ::kill(first.pid, SIGKILL);
    first.wait();
  }
  REQUIRE(first_still_running);  // else the lock was not held any more and the check proves nothing
  CHECK(second.status == 2);
  CHECK_THAT(second.err, Contains(shared_out.string() + ": cannot lock for writing: in use by another process"));
}

TEST_CASE("batch: JSON lines of a file name that is not UTF-8 resume without a second row", "[cli][batch][resume]") {
  const fs::path dir = fresh_dir("batch_not_utf8");
  std::vector<fs::path> photos = make_photo_folder(dir / "photos", 2, 3);
  const fs::path latin1 = dir / "photos" / "caf\xe9.jpg";  // "café" in Latin-1
  fs::copy_file(photos[0], latin1);
  const fs::path out = dir / "results.jsonl";
  const RunResult first = run_vitscope(batch_args(tiny_model(), dir / "photos", out, "--quiet"));
  INFO(first.err);
  REQUIRE(first.status == 0);
  const ResultRecords results = read_records(out);
  REQUIRE(results.records.size() == 3);
  CHECK_THAT(results.records[0], Contains("caf\xef\xbf\xbd.jpg"));  // sorted first; U+FFFD in UTF-8
  const RunResult again = run_vitscope(batch_args(tiny_model(), dir / "photos", out, "--resume"));
  CHECK(again.status == 0);
  CHECK_THAT(again.err, Contains(": 0 images to classify (3 done earlier)"));
  CHECK(read_records(out).records.size() == 3);
}
