// --precision int8 on the command line: the portable integer code gives the AVX512-VNNI kernels'
// results exactly (and says so once), --keep-fp32 is checked against the model's layers, a batch
// result file records the int8 layer choice, validate --against compares with fp32 image by image.
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "cli/batch_test_support.hpp"

using namespace vitscope::testing;
namespace fs = std::filesystem;
using Catch::Matchers::Contains;

TEST_CASE("--precision int8: the portable fallback gives the same results; --keep-fp32 is checked", "[cli][int8]") {
  const std::string model = " --model " + quote(tiny_model()) + " ";
  const std::string photos = quote(std::string(VITSCOPE_REPO_DIR) + "/samples");
  const RunResult int8 = run_vitscope("classify --format csv --precision int8" + model + photos);
  const RunResult portable = run_shell("VITSCOPE_DISABLE_VNNI=1 " + vitscope_command("classify --format csv --precision int8" + model + photos));
  const RunResult fp32 = run_vitscope("classify --format csv" + model + photos);
  REQUIRE(int8.status == 0);
  REQUIRE(portable.status == 0);
  CHECK(int8.out == portable.out);  // integer sums are exact: bit for bit
  CHECK_THAT(portable.err, Contains("no AVX512-VNNI: int8 runs on portable integer code (same results, slower)"));
  CHECK(int8.out != fp32.out);
  const RunResult none_kept = run_vitscope("classify --format csv --precision int8 --keep-fp32 none" + model + photos);
  REQUIRE(none_kept.status == 0);
  CHECK(none_kept.out == int8.out);  // the default: every linear layer in int8
  const RunResult kept = run_vitscope("classify --format csv --precision int8 --keep-fp32 patch_embed,head" + model + photos);
  REQUIRE(kept.status == 0);
  CHECK(kept.out != int8.out);  // the patch embedding and head in fp32

  const RunResult typo = run_vitscope("classify --precision int8 --keep-fp32 mlp.fc3" + model + photos);
  CHECK(typo.status == 2);
  CHECK_THAT(typo.err, Contains("--keep-fp32 mlp.fc3: no such layer"));
  const RunResult beyond = run_vitscope("classify --precision int8 --keep-fp32 blocks.2.mlp.fc1" + model + photos);
  CHECK(beyond.status == 2);  // the test ViT has 2 blocks: 0 and 1
  const RunResult without_int8 = run_vitscope("classify --keep-fp32 head" + model + photos);
  CHECK(without_int8.status == 2);
  CHECK_THAT(without_int8.err, Contains("--keep-fp32 goes with --precision int8"));
  CHECK(run_vitscope("classify --precision int8 --keep-fp32 blocks.1.mlp.fc2,attn.qkv" + model + photos).status == 0);
}

TEST_CASE("--precision int8: batch records the layer choice; validate --against fp32", "[cli][int8]") {
  const fs::path dir = fresh_dir("int8_cli");
  make_photo_folder(dir / "photos", 6, 0);
  const fs::path out = dir / "r.csv";
  REQUIRE(run_vitscope(batch_args(tiny_model(), dir / "photos", out, "--quiet --precision int8")).status == 0);
  CHECK_THAT(read_file(out.string() + ".settings.json"), Contains("int8 (fp32: none)"));
  const RunResult other = run_vitscope(batch_args(tiny_model(), dir / "photos", out, "--resume --precision int8 --keep-fp32 patch_embed,head"));
  CHECK(other.status == 2);
  CHECK_THAT(other.err, Contains("written with other settings"));

  std::ofstream labels(dir / "labels.csv");
  labels << "file,class_index\n";
  for (const auto& entry : fs::directory_iterator(dir / "photos")) labels << entry.path().filename().string() << ",3\n";
  labels.close();
  const fs::path json = dir / "report.json";
  const RunResult validate = run_vitscope("validate " + quote((dir / "photos").string()) + " --labels " +
                                          quote((dir / "labels.csv").string()) + " --model " + quote(tiny_model()) +
                                          " --precision int8 --against fp32 --json " + quote(json.string()));
  INFO(validate.err);
  REQUIRE(validate.status == 0);
  CHECK_THAT(validate.out, Contains("int8 against fp32 on 6 images: top-1 agreement"));
  CHECK_THAT(validate.out, Contains("KL(p_fp32 || p_int8): mean"));
  std::ifstream in(json);
  const auto report = nlohmann::json::parse(in);
  CHECK(report.at("precision") == "int8");
  CHECK(report.at("against").at("images") == 6);
  CHECK(report.at("against").at("kl_nats").at("mean").get<double>() > 0);
  CHECK(report.at("against").at("worst_logit_difference").get<double>() > 0);
  // Against itself: full agreement, no difference.
  const RunResult self = run_vitscope("validate " + quote((dir / "photos").string()) + " --labels " +
                                      quote((dir / "labels.csv").string()) + " --model " + quote(tiny_model()) +
                                      " --against fp32");
  REQUIRE(self.status == 0);
  CHECK_THAT(self.out, Contains("top-1 agreement 6/6"));
  CHECK_THAT(self.out, Contains("logit difference: worst 0, mean 0"));
}
