// `vitscope batch` against a hostile file system: unreadable inputs, symlink loops, files that change
// during the run, a result file on a full or read-only file system. Each gives a clear error and
// every row completed before it is kept. The runs use the tiny test ViT.
#include <sys/stat.h>
#include <unistd.h>

#include "cli/batch_test_support.hpp"

using namespace vitscope::testing;
using Catch::Matchers::Contains;

namespace {

// Runs a shell script in a private mount namespace (unshare as a mapped root user), where it may
// mount a small tmpfs. The test fails, naming why, when namespaces are not available.
RunResult in_mount_namespace(const fs::path& dir, const std::string& script) {
  const fs::path file = dir / "script.sh";
  std::ofstream(file) << "set -u\n" << script;
  const RunResult probe = run_shell("unshare --user --map-root-user --mount true");
  if (probe.status != 0)
    FAIL("this test mounts a small tmpfs in a private mount namespace and needs `unshare --user "
         "--map-root-user --mount` (util-linux, user namespaces enabled): "
         << probe.err);
  return run_shell("unshare --user --map-root-user --mount sh " + quote(file.string()));
}

}  // namespace

TEST_CASE("batch: an unreadable file gets an error row naming the permission problem", "[cli][batch][storage]") {
  const fs::path dir = fresh_dir("batch_unreadable");
  const std::vector<fs::path> photos = make_photo_folder(dir / "photos", 6, 5);
  const fs::path secret = photos[2];
  fs::permissions(secret, fs::perms::none);
  const fs::path out_dir = dir / "out";
  fs::create_directories(out_dir);
  fs::permissions(out_dir, fs::perms::all);
  // The mechanism must really deny the read, or this test proves nothing.
  const RunResult cat = run_shell(unprivileged("cat " + quote(secret.string())));
  REQUIRE(cat.status != 0);

  const fs::path out = out_dir / "results.csv";
  const RunResult run = run_shell(unprivileged(vitscope_command(batch_args(tiny_model(), dir / "photos", out, "--batch 4"))));
  INFO(run.err);
  CHECK(run.status == 1);
  const ResultRecords results = read_records(out);
  const auto rows = records_by_path(results);
  REQUIRE(rows.size() == 6);
  for (const fs::path& photo : photos) {
    const auto fields = row_fields(results.header, rows.at(photo.string()));
    if (photo == secret) {
      CHECK(fields.at("status") == "error");
      CHECK(fields.at("error") == secret.string() + ": cannot open: Permission denied");
      CHECK(fields.at("sha256").empty());
    } else {
      CHECK(without_path(rows.at(photo.string())) == reference_records(tiny_model()).at(fields.at("sha256")));
    }
  }
}

TEST_CASE("batch: symlink loops end; looping links get error rows, folders are walked once", "[cli][batch][storage]") {
  const fs::path dir = fresh_dir("batch_symlinks");
  const fs::path root = dir / "photos";
  const std::vector<fs::path> photos = make_photo_folder(root, 5, 44);
  fs::create_directories(root / "deeper");
  fs::create_directory_symlink(".", root / "loop");      // root/loop/loop/... is root again
  fs::create_directory_symlink("..", root / "deeper" / "back");
  fs::create_symlink("self.jpg", root / "self.jpg");
  fs::create_symlink("pong.jpg", root / "ping.jpg");
  fs::create_symlink("ping.jpg", root / "pong.jpg");
  const fs::path out = dir / "results.csv";
  const RunResult run = run_vitscope(batch_args(tiny_model(), root, out));
  INFO(run.err);
  CHECK(run.status == 1);
  const ResultRecords results = read_records(out);
  const auto rows = records_by_path(results);  // no path twice
  CHECK(rows.size() == photos.size() + 3);
  for (const fs::path& photo : photos)
    CHECK(row_fields(results.header, rows.at(photo.string())).at("status") == "ok");
  for (const char* link : {"self.jpg", "ping.jpg", "pong.jpg"}) {
    const std::string path = (root / link).string();
    REQUIRE(rows.count(path) == 1);
    CHECK(row_fields(results.header, rows.at(path)).at("error") ==
          path + ": cannot open: Too many levels of symbolic links");
  }
}

TEST_CASE("batch: files deleted, truncated or replaced during the run", "[cli][batch][storage]") {
  const fs::path dir = fresh_dir("batch_changing");
  const std::vector<fs::path> photos = make_photo_folder(dir / "photos", 200, 0);
  const fs::path out = dir / "results.csv";
  // One image per batch on one thread: reading stays a few images ahead of the written rows (the
  // pipeline's window), so the last files are still unread when the first rows appear.
  BackgroundRun run(batch_args(tiny_model(), dir / "photos", out, "--batch 1 --threads 1 --decode-threads 1"));
  wait_for_records(out, 1, run);
  const fs::path& deleted = photos[190];
  const fs::path& truncated = photos[191];
  const fs::path& replaced = photos[192];
  const fs::path& now_text = photos[193];
  fs::remove(deleted);
  const std::string jpeg = read_file(truncated);
  std::ofstream(truncated, std::ios::binary | std::ios::trunc) << jpeg.substr(0, jpeg.size() / 2);
  fs::copy_file(shared_photos()[99], replaced, fs::copy_options::overwrite_existing);
  std::ofstream(now_text, std::ios::trunc) << "overwritten with text";
  const int status = run.wait();
  INFO(run.err());
  CHECK(status == 1);

  const ResultRecords results = read_records(out);
  const auto rows = records_by_path(results);
  REQUIRE(rows.size() == 200);
  auto field = [&](const fs::path& p, const char* name) { return row_fields(results.header, rows.at(p.string())).at(name); };
  CHECK(field(deleted, "error") == deleted.string() + ": cannot open: No such file or directory");
  CHECK(field(truncated, "status") == "error");
  CHECK_THAT(field(truncated, "error"), Contains(truncated.string() + ": cannot decode JPEG data"));
  CHECK(field(truncated, "sha256") == sha256sum(truncated));
  CHECK(field(now_text, "error") == now_text.string() + ": not an image (unrecognised content)");
  // The replaced file is classified as what it holds now, under its own name.
  CHECK(field(replaced, "sha256") == sha256sum(replaced));
  CHECK(without_path(rows.at(replaced.string())) == reference_records(tiny_model()).at(sha256sum(replaced)));
  for (std::size_t i = 0; i < 190; ++i)
    CHECK(without_path(rows.at(photos[i].string())) == reference_records(tiny_model()).at(field(photos[i], "sha256")));
}

TEST_CASE("batch: a full disk stops the run with a clear error, keeps whole rows; --resume completes", "[cli][batch][storage]") {
  const fs::path dir = fresh_dir("batch_full_disk");
  const std::vector<fs::path> photos = make_photo_folder(dir / "photos", 60, 10);
  const fs::path reference = dir / "reference.csv";
  REQUIRE(run_vitscope(batch_args(tiny_model(), dir / "photos", reference, "--batch 2 --quiet")).status == 0);
  const fs::path mount = dir / "mnt";
  fs::create_directories(mount);
  const std::string out = (mount / "results.csv").string();
  // An 8 KiB tmpfs holds about 30 of the 60 rows.
  const RunResult r = in_mount_namespace(dir,
      "mount -t tmpfs -o size=8k tmpfs " + quote(mount.string()) + " || exit 90\n" +
      vitscope_command(batch_args(tiny_model(), dir / "photos", out, "--batch 2 --quiet")) + " 2>" + quote((dir / "full.err").string()) +
      "; echo $? >" + quote((dir / "full.status").string()) + "\n" +
      "cp " + quote(out) + " " + quote((dir / "after_full.csv").string()) + "\n" +
      "mount -o remount,size=1m " + quote(mount.string()) + " || exit 91\n" +
      vitscope_command(batch_args(tiny_model(), dir / "photos", out, "--batch 2 --quiet --resume")) + " 2>" +
      quote((dir / "resume.err").string()) + "; echo $? >" + quote((dir / "resume.status").string()) + "\n" +
      "cp " + quote(out) + " " + quote((dir / "after_resume.csv").string()) + "\n");
  INFO(r.out << r.err);
  REQUIRE(r.status == 0);
  const std::string full_err = read_file(dir / "full.err");
  INFO(full_err);
  CHECK(read_file(dir / "full.status") == "2\n");
  CHECK_THAT(full_err, Contains("vitscope: error: " + out + ": cannot write: No space left on device"));
  CHECK_THAT(full_err, Contains("rows written are kept"));
  const ResultRecords kept = read_records(dir / "after_full.csv");
  CHECK(kept.partial.empty());
  CHECK(kept.records.size() >= 2);
  CHECK(kept.records.size() < photos.size());
  CHECK(kept.records.size() % 2 == 0);  // whole batches
  const std::vector<std::string> expected = read_records(reference).records;
  for (std::size_t i = 0; i < kept.records.size(); ++i) CHECK(kept.records[i] == expected[i]);

  INFO(read_file(dir / "resume.err"));
  CHECK(read_file(dir / "resume.status") == "0\n");
  CHECK(read_file(dir / "after_resume.csv") == read_file(reference));
}

TEST_CASE("batch: a read-only result location is refused, the file left as it was", "[cli][batch][storage]") {
  const fs::path dir = fresh_dir("batch_read_only");
  make_photo_folder(dir / "few", 4, 0);
  make_photo_folder(dir / "more", 8, 0);
  const fs::path mount = dir / "mnt";
  fs::create_directories(mount);
  const std::string out = (mount / "results.csv").string();
  const std::string other = (mount / "other.csv").string();
  const RunResult r = in_mount_namespace(dir,
      "mount -t tmpfs -o size=1m tmpfs " + quote(mount.string()) + " || exit 90\n" +
      vitscope_command(batch_args(tiny_model(), dir / "few", out, "--quiet")) + " || exit 91\n" +
      "cp " + quote(out) + " " + quote((dir / "before.csv").string()) + "\n" +
      "mount -o remount,ro " + quote(mount.string()) + " || exit 92\n" +
      vitscope_command(batch_args(tiny_model(), dir / "more", out, "--resume")) + " 2>" + quote((dir / "resume.err").string()) +
      "; echo $? >" + quote((dir / "resume.status").string()) + "\n" +
      vitscope_command(batch_args(tiny_model(), dir / "more", other)) + " 2>" + quote((dir / "new.err").string()) +
      "; echo $? >" + quote((dir / "new.status").string()) + "\n" +
      "cp " + quote(out) + " " + quote((dir / "after.csv").string()) + "\n");
  INFO(r.out << r.err);
  REQUIRE(r.status == 0);
  CHECK(read_file(dir / "resume.status") == "2\n");
  CHECK(read_file(dir / "resume.err") == "vitscope: error: " + out + ": cannot open for writing: Read-only file system\n");
  CHECK(read_file(dir / "new.status") == "2\n");
  CHECK(read_file(dir / "new.err") == "vitscope: error: " + other + ": cannot open for writing: Read-only file system\n");
  CHECK(read_records(dir / "before.csv").records.size() == 4);
  CHECK(read_file(dir / "after.csv") == read_file(dir / "before.csv"));
}

TEST_CASE("an unreadable folder is an error row naming it, in a walk and given explicitly", "[cli][batch][storage]") {
  const fs::path dir = fresh_dir("unreadable_folder");
  make_photo_folder(dir / "photos", 3, 30);
  make_photo_folder(dir / "photos" / "locked", 2, 40);
  fs::permissions(dir / "photos" / "locked", fs::perms::none);
  fs::permissions(dir, fs::perms::all);
  const RunResult ls = run_shell(unprivileged("ls " + quote((dir / "photos" / "locked").string())));
  REQUIRE(ls.status != 0);  // the mechanism must really deny the listing

  const std::string locked = (dir / "photos" / "locked").string();
  const RunResult classify = run_shell(unprivileged(vitscope_command("classify --model " + quote(tiny_model()) + " " +
                                                                     quote((dir / "photos").string()))));
  INFO(classify.out << classify.err);
  CHECK(classify.status == 1);
  CHECK_THAT(classify.err, Contains(locked + ": cannot read folder: Permission denied"));
  const RunResult list = run_shell(unprivileged(vitscope_command(
      batch_args(tiny_model(), dir / "photos", dir / "never.csv", "--list"))));
  CHECK_THAT(list.out, Contains(locked + "\n"));
  const RunResult alone = run_shell(unprivileged(vitscope_command("classify --model " + quote(tiny_model()) + " " +
                                                                  quote(locked))));
  CHECK(alone.status == 1);
  CHECK_THAT(alone.err, Contains(locked + ": cannot read folder: Permission denied"));
  CHECK_THAT(alone.err, !Contains("no images found"));
  fs::permissions(dir / "photos" / "locked", fs::perms::all);
}
