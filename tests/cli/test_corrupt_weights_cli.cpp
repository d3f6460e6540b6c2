// A corrupt weights file gives one line on stderr naming it, exit status 2, and never a crash.
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>

#include <nlohmann/json.hpp>

#include "cli/cli_runner.hpp"
#include "models/test_helpers.hpp"

using namespace vitscope::testing;
namespace fs = std::filesystem;
using Catch::Matchers::Contains;

namespace {

struct Checkpoint {
  std::uint64_t header_length;
  nlohmann::json header;
  std::string data;
};

Checkpoint read_checkpoint() {
  const std::string bytes = read_file(data_path("vit/square.safetensors"));
  Checkpoint c;
  std::memcpy(&c.header_length, bytes.data(), 8);
  c.header = nlohmann::json::parse(bytes.substr(8, c.header_length));
  c.data = bytes.substr(8 + c.header_length);
  return c;
}

std::string encode(const nlohmann::json& header, const std::string& data) {
  const std::string text = header.dump();
  const std::uint64_t n = text.size();
  return std::string(reinterpret_cast<const char*>(&n), 8) + text + data;
}

void expect_one_line_error(const fs::path& file, const std::string& problem) {
  const RunResult run = run_vitscope("classify --model " + quote(file.string()) + " --heads 3 " +
                                     quote(std::string(VITSCOPE_REPO_DIR) + "/samples/chelsea.png"));
  INFO("stderr: " << run.err);
  CHECK(run.status == 2);
  CHECK(run.out.empty());
  CHECK(std::count(run.err.begin(), run.err.end(), '\n') == 1);
  CHECK_THAT(run.err, Contains(file.string()));
  CHECK_THAT(run.err, Contains(problem));
}

}  // namespace

TEST_CASE("corrupt weights files are refused with one line and status 2", "[cli]") {
  const fs::path dir = fresh_dir("corrupt_weights");
  const Checkpoint good = read_checkpoint();
  const std::string good_bytes = encode(good.header, good.data);

  SECTION("truncated") {
    const fs::path f = dir / "truncated.safetensors";
    std::ofstream(f, std::ios::binary) << good_bytes.substr(0, good_bytes.size() - 1000);
    expect_one_line_error(f, "outside");
  }
  SECTION("shorter than the header length field") {
    const fs::path f = dir / "tiny.safetensors";
    std::ofstream(f, std::ios::binary) << std::string("\x10\x00\x00", 3);
    expect_one_line_error(f, "too short");
  }
  SECTION("header length past the end of the file") {
    const fs::path f = dir / "long_header.safetensors";
    std::string bytes = good_bytes;
    const std::uint64_t huge = bytes.size() + 10;
    std::memcpy(bytes.data(), &huge, 8);
    std::ofstream(f, std::ios::binary) << bytes;
    expect_one_line_error(f, "past the end");
  }
  SECTION("bad JSON") {
    const fs::path f = dir / "bad_json.safetensors";
    std::string bytes = good_bytes;
    bytes[8] = '[';
    bytes[9] = '{';
    std::ofstream(f, std::ios::binary) << bytes;
    expect_one_line_error(f, "JSON");
  }
  SECTION("offsets out of range") {
    const fs::path f = dir / "offsets.safetensors";
    nlohmann::json header = good.header;
    header["head.bias"]["data_offsets"] = {good.data.size() + 4, good.data.size() + 44};
    std::ofstream(f, std::ios::binary) << encode(header, good.data);
    expect_one_line_error(f, "head.bias");
  }
  SECTION("wrong shape") {
    const fs::path f = dir / "wrong_shape.safetensors";
    nlohmann::json header = good.header;
    header["blocks.0.attn.proj.weight"]["shape"] = {24, 96};  // same bytes, wrong shape
    std::ofstream(f, std::ios::binary) << encode(header, good.data);
    expect_one_line_error(f, "blocks.0.attn.proj.weight");
  }
  SECTION("not a ViT") {
    const fs::path f = dir / "not_vit.safetensors";
    nlohmann::json header = {{"x", {{"dtype", "F32"}, {"shape", {1}}, {"data_offsets", {0, 4}}}}};
    std::ofstream(f, std::ios::binary) << encode(header, std::string(4, '\0'));
    expect_one_line_error(f, "not a ViT");
  }
  SECTION("missing file") {
    expect_one_line_error(dir / "absent.safetensors", "absent.safetensors");
  }
}

TEST_CASE("Weights that give NaN logits: every image is an error row naming the model, not a class", "[cli]") {
  // A NaN in the head's bias reaches one logit of every image. The file itself is well formed, so
  // it loads; what it computes is refused per image (status 1), in classify and in batch.
  Checkpoint c = read_checkpoint();
  const auto offsets = c.header.at("head.bias").at("data_offsets");
  const float nan = std::numeric_limits<float>::quiet_NaN();
  std::memcpy(&c.data[offsets[0].get<std::size_t>()], &nan, sizeof nan);
  const fs::path dir = fresh_dir("nan_weights");
  const fs::path file = dir / "nan_head.safetensors";
  std::ofstream(file, std::ios::binary) << encode(c.header, c.data);
  const std::string photo = quote(std::string(VITSCOPE_REPO_DIR) + "/samples/chelsea.png");

  const RunResult classify = run_vitscope("classify --model " + quote(file.string()) + " --heads 3 --format csv " + photo);
  INFO(classify.out << classify.err);
  CHECK(classify.status == 1);
  CHECK_THAT(classify.out, Contains("chelsea.png,error"));
  CHECK_THAT(classify.err, Contains("model nan_head gave a non-finite logit"));

  const fs::path results = dir / "results.csv";
  const RunResult batch = run_vitscope("batch " + photo + " --model " + quote(file.string()) + " --heads 3 --quiet --out " +
                                       quote(results.string()));
  INFO(batch.out << batch.err);
  CHECK(batch.status == 1);
  CHECK_THAT(read_file(results), Contains("non-finite logit"));
}
