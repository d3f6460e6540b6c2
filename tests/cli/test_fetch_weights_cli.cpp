// scripts/fetch_weights.sh against a local HTTP server (http_test_server.hpp): verified downloads
// (a pinned digest, the server's X-Linked-Etag), resumed ones (within a run, across runs), and the
// refusals: a truncated body, a wrong digest, a server error, a full disk. `vitscope info` tells
// verified, unverified and mismatching weights apart.
#include <filesystem>
#include <fstream>
#include <string>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "cli/batch_test_support.hpp"
#include "cli/cli_runner.hpp"
#include "cli/http_test_server.hpp"

namespace fs = std::filesystem;
using Catch::Matchers::Contains;
using namespace vitscope::testing;

namespace {

// The file served: the 2-block test ViT, so that `vitscope info` can load what was downloaded.
const std::string& model_bytes() {
  static const std::string bytes = read_file(tiny_model());
  return bytes;
}
const std::string& model_sha() {
  static const std::string sha = sha256sum(tiny_model());
  return sha;
}

// sha256sum's digest of bytes, through a scratch file.
std::string sha256_of_text(const std::string& bytes) {
  const fs::path file = fresh_dir("fetch_digest") / "bytes";
  std::ofstream(file, std::ios::binary) << bytes;
  return sha256sum(file);
}

// A manifest in `dir` with one model, "tiny", downloaded from `url`, with `sha256` pinned (or null).
fs::path write_manifest(const fs::path& dir, const std::string& url, const std::string& sha256 = "") {
  nlohmann::json source = {{"url", url}, {"sha256", sha256.empty() ? nlohmann::json() : nlohmann::json(sha256)}};
  const nlohmann::json manifest = {
      {"format_version", 1},
      {"default_model", "tiny"},
      {"models", {{"tiny", {{"architecture", "vit"}, {"file", "tiny.safetensors"}, {"sources", {source}},
                            {"vit", {{"patch_size", 16}, {"heads", 2}}}}}}}};
  fs::create_directories(dir);
  std::ofstream(dir / "models.json") << manifest.dump(1);
  return dir / "models.json";
}

std::string fetch_command(const fs::path& manifest) {
  return "bash " + quote(std::string(VITSCOPE_REPO_DIR) + "/scripts/fetch_weights.sh") + " --manifest " +
         quote(manifest.string()) + " tiny";
}

RunResult fetch(const fs::path& manifest) { return run_shell(fetch_command(manifest)); }

RunResult info(const fs::path& manifest) {
  return run_shell("VITSCOPE_MANIFEST=" + quote(manifest.string()) + " " + vitscope_command("info tiny"));
}

bool placed_intact(const fs::path& dir) {
  return fs::exists(dir / "tiny.safetensors") && read_file(dir / "tiny.safetensors") == model_bytes() &&
         !fs::exists(dir / "tiny.safetensors.part");
}

}  // namespace

TEST_CASE("fetch_weights: a digest pinned in the manifest or given by the server is verified", "[cli][download]") {
  HttpTestServer server;
  server.route("/hub/tiny.safetensors", {model_bytes(), model_sha()});
  server.route("/plain/tiny.safetensors", {model_bytes(), ""});
  const fs::path dir = fresh_dir("fetch_verified");

  const fs::path by_server = write_manifest(dir / "server", server.url("/hub/tiny.safetensors"));
  const RunResult server_run = fetch(by_server);
  INFO(server_run.err);
  CHECK(server_run.status == 0);
  CHECK(placed_intact(dir / "server"));
  CHECK_THAT(server_run.out, Contains("verified: given by the server"));
  CHECK(read_file(dir / "server" / "tiny.safetensors.sha256") == model_sha() + "  tiny.safetensors\n");
  const RunResult server_info = info(by_server);
  CHECK(server_info.status == 0);
  CHECK_THAT(server_info.out, Contains(model_sha() + " (verified: given by the server at download"));

  const fs::path pinned = write_manifest(dir / "pinned", server.url("/plain/tiny.safetensors"), model_sha());
  const RunResult pinned_run = fetch(pinned);
  CHECK(pinned_run.status == 0);
  CHECK(placed_intact(dir / "pinned"));
  CHECK_THAT(pinned_run.out, Contains("verified: pinned in the manifest"));
  CHECK_THAT(info(pinned).out, Contains(model_sha() + " (verified: pinned in the manifest)"));
  // Run again: nothing is fetched.
  const std::size_t requests = server.requests().size();
  const RunResult again = fetch(pinned);
  CHECK(again.status == 0);
  CHECK_THAT(again.out, Contains("already present"));
  CHECK(server.requests().size() == requests);

  // Neither pinned nor given: kept, and said to be unverified, by the script and by info.
  const fs::path neither = write_manifest(dir / "neither", server.url("/plain/tiny.safetensors"));
  const RunResult neither_run = fetch(neither);
  CHECK(neither_run.status == 0);
  CHECK(placed_intact(dir / "neither"));
  CHECK_THAT(neither_run.err, Contains("UNVERIFIED"));
  const RunResult neither_info = info(neither);
  CHECK(neither_info.status == 0);
  CHECK_THAT(neither_info.out, Contains("UNVERIFIED: the manifest pins no digest"));
}

TEST_CASE("fetch_weights: an interrupted download resumes with range requests", "[cli][download]") {
  HttpTestServer server;
  HttpRoute cut{model_bytes(), model_sha()};
  cut.cut_first_gets = 2;  // two attempts cut short, the third completes
  cut.cut_at = 100000;
  server.route("/cut/tiny.safetensors", cut);
  server.route("/hub/tiny.safetensors", {model_bytes(), model_sha()});
  const fs::path dir = fresh_dir("fetch_resume");

  const fs::path within = write_manifest(dir / "within", server.url("/cut/tiny.safetensors"));
  const RunResult run = fetch(within);
  INFO(run.err);
  CHECK(run.status == 0);
  CHECK(placed_intact(dir / "within"));
  CHECK_THAT(run.err, Contains("transfer cut short at 100000 bytes"));
  std::vector<long long> ranges;
  for (const HttpRequest& r : server.requests())
    if (r.method == "GET" && r.path == "/cut/tiny.safetensors") ranges.push_back(r.range_start);
  CHECK(ranges == std::vector<long long>{-1, 100000, 200000});

  // A .part left by an earlier run (of the same file, by its digest) is continued, not restarted.
  const fs::path across = write_manifest(dir / "across", server.url("/hub/tiny.safetensors"));
  std::ofstream(dir / "across" / "tiny.safetensors.part", std::ios::binary) << model_bytes().substr(0, 300000);
  std::ofstream(dir / "across" / "tiny.safetensors.part.digest") << model_sha() << '\n';
  const RunResult resumed = fetch(across);
  INFO(resumed.err);
  CHECK(resumed.status == 0);
  CHECK(placed_intact(dir / "across"));
  CHECK_THAT(resumed.out, Contains("resuming " + server.url("/hub/tiny.safetensors") + " from 300000 bytes"));
  REQUIRE(!server.requests().empty());
  CHECK(server.requests().back().range_start == 300000);

  // A .part of another version (another digest) starts over.
  std::ofstream(dir / "across" / "tiny.safetensors.part", std::ios::binary) << std::string(1000, 'x');
  std::ofstream(dir / "across" / "tiny.safetensors.part.digest") << std::string(64, 'a') << '\n';
  fs::remove(dir / "across" / "tiny.safetensors");
  const RunResult other = fetch(across);
  CHECK(other.status == 0);
  CHECK(placed_intact(dir / "across"));
  CHECK_THAT(other.err, Contains("started for another version"));
}

TEST_CASE("fetch_weights: a truncated body or a wrong digest is refused, naming both digests", "[cli][download]") {
  HttpTestServer server;
  HttpRoute truncated{model_bytes(), model_sha()};
  truncated.short_body = true;  // a complete-looking response of half the file
  server.route("/short/tiny.safetensors", truncated);
  server.route("/plain/tiny.safetensors", {model_bytes(), ""});
  server.route("/tampered/tiny.safetensors", {model_bytes(), std::string(64, 'b')});
  const fs::path dir = fresh_dir("fetch_refused");
  const std::string half_sha = sha256_of_text(model_bytes().substr(0, model_bytes().size() / 2));

  struct Case {
    std::string name, url, pinned, expected, origin, actual;
  };
  const std::string wrong_pin(64, 'c');
  for (const Case& c : std::vector<Case>{
           {"truncated", "/short/tiny.safetensors", "", model_sha(), "given by the server", half_sha},
           {"pinned_wrong", "/plain/tiny.safetensors", wrong_pin, wrong_pin, "pinned in the manifest", model_sha()},
           {"server_wrong", "/tampered/tiny.safetensors", "", std::string(64, 'b'), "given by the server",
            model_sha()}}) {
    SECTION(c.name) {
      const fs::path manifest = write_manifest(dir / c.name, server.url(c.url), c.pinned);
      const RunResult run = fetch(manifest);
      CHECK(run.status == 1);
      CHECK_THAT(run.err, Contains("sha256 mismatch: expected " + c.expected + " (" + c.origin + "), got " + c.actual));
      CHECK(!fs::exists(dir / c.name / "tiny.safetensors"));
      CHECK(!fs::exists(dir / c.name / "tiny.safetensors.part"));
    }
  }
  SECTION("a file already in place that matches no digest is fetched again; info says MISMATCH") {
    const fs::path manifest = write_manifest(dir / "replaced", server.url("/plain/tiny.safetensors"), model_sha());
    REQUIRE(fetch(manifest).status == 0);
    const fs::path placed = dir / "replaced" / "tiny.safetensors";
    std::string bytes = model_bytes();
    bytes[bytes.size() - 1] ^= 1;  // one bit of the last weight
    std::ofstream(placed, std::ios::binary) << bytes;
    const RunResult bad_info = info(manifest);
    CHECK(bad_info.status == 2);
    CHECK_THAT(bad_info.out, Contains("MISMATCH: expected " + model_sha()));
    const RunResult run = fetch(manifest);
    CHECK(run.status == 0);
    CHECK_THAT(run.err, Contains("matches no digest it should have; fetching again"));
    CHECK(placed_intact(dir / "replaced"));
  }
}

TEST_CASE("fetch_weights: a server error and a full disk fail with the reason and place nothing", "[cli][download]") {
  HttpTestServer server;
  HttpRoute failing{model_bytes(), ""};
  failing.status = 503;
  server.route("/down/tiny.safetensors", failing);
  server.route("/hub/tiny.safetensors", {model_bytes(), model_sha()});
  const fs::path dir = fresh_dir("fetch_failures");

  const fs::path down = write_manifest(dir / "down", server.url("/down/tiny.safetensors"));
  const RunResult error = fetch(down);
  CHECK(error.status == 1);
  CHECK_THAT(error.err, Contains("the server answered HTTP 503"));
  CHECK(!fs::exists(dir / "down" / "tiny.safetensors"));

  // The weights folder on a 256 KiB tmpfs, smaller than the 640 KiB file.
  const fs::path full = dir / "full";
  fs::create_directories(full);
  const RunResult probe = run_shell("unshare --user --map-root-user --mount true");
  if (probe.status != 0)
    FAIL("this test mounts a small tmpfs in a private mount namespace and needs `unshare --user "
         "--map-root-user --mount` (util-linux, user namespaces enabled): "
         << probe.err);
  const fs::path manifest_copy = dir / "full_manifest" / "models.json";
  write_manifest(manifest_copy.parent_path(), server.url("/hub/tiny.safetensors"));
  const std::string script = "mount -t tmpfs -o size=256k tmpfs " + quote(full.string()) + " && cp " +
                             quote(manifest_copy.string()) + " " + quote(full.string()) + " && " +
                             fetch_command(full / "models.json") + "; status=$?; ls " + quote(full.string()) +
                             " >&2; exit $status";
  const RunResult disk = run_shell("unshare --user --map-root-user --mount sh -c " + quote(script));
  CHECK(disk.status == 1);
  CHECK_THAT(disk.err, Contains("cannot write"));
  CHECK_THAT(disk.err, Contains("disk full?"));
  CHECK_THAT(disk.err, !Contains("tiny.safetensors\n"));  // the listing shows no file in place
}
