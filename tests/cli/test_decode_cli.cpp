// --decode exact|draft on the command line: a draft decode is what the model sees (a PNG of the
// draft-decoded pixels classifies identically), every command takes the option, a batch result file
// remembers it, and batch's summary offers it, measured, when decoding dominates a run.
#include <filesystem>
#include <fstream>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "cli/batch_test_support.hpp"
#include "vitscope/io/image.hpp"
#include "vitscope/preprocess/preprocess.hpp"

using namespace vitscope::testing;
namespace fs = std::filesystem;
using Catch::Matchers::Contains;

namespace {

// A shared photo enlarged to width x height and saved as a JPEG (quality 90, 4:2:0).
void write_large_jpeg(const fs::path& file, int photo, int width, int height) {
  const cv::Mat original = cv::imread(shared_photos()[static_cast<std::size_t>(photo)].string(), cv::IMREAD_COLOR);
  REQUIRE(!original.empty());
  cv::Mat large;
  cv::resize(original, large, cv::Size(width, height), 0, 0, cv::INTER_CUBIC);
  REQUIRE(cv::imwrite(file.string(), large, {cv::IMWRITE_JPEG_QUALITY, 90}));
}

}  // namespace

TEST_CASE("--decode draft: the model sees the draft-decoded pixels; results files remember it", "[cli][decode]") {
  const fs::path dir = fresh_dir("decode_cli");
  fs::create_directories(dir / "photos");
  const fs::path jpeg = dir / "photos" / "large.jpg";
  write_large_jpeg(jpeg, 3, 1600, 1200);  // shorter side 1200 >= 4 x 256: drafted at 1/4

  // The draft-decoded pixels, written losslessly: classifying them exactly is the draft run.
  vitscope::ImageLoadOptions draft;
  draft.decode = vitscope::DecodeMode::Draft;
  draft.draft_request = vitscope::draft_request_for(vitscope::PreprocessConfig{});
  const vitscope::RgbImage decoded = vitscope::load_image(jpeg.string(), draft);
  REQUIRE(decoded.shape()[1] == 400);
  REQUIRE(decoded.shape()[0] == 300);
  cv::Mat bgr(300, 400, CV_8UC3);
  cv::cvtColor(cv::Mat(300, 400, CV_8UC3, const_cast<std::uint8_t*>(decoded.data())), bgr, cv::COLOR_RGB2BGR);
  const fs::path png = dir / "drafted.png";
  REQUIRE(cv::imwrite(png.string(), bgr));

  const std::string model = " --model " + quote(tiny_model()) + " ";
  const RunResult drafted = run_vitscope("classify --format csv --decode draft" + model + quote(jpeg.string()));
  const RunResult exact = run_vitscope("classify --format csv" + model + quote(jpeg.string()));
  const RunResult from_png = run_vitscope("classify --format csv" + model + quote(png.string()));
  REQUIRE(drafted.status == 0);
  REQUIRE(exact.status == 0);
  REQUIRE(from_png.status == 0);
  auto without_path_column = [](const std::string& csv) {  // the row after the header, from its second field
    const std::string row = csv.substr(csv.find('\n') + 1);
    return row.substr(row.find(','));
  };
  CHECK(without_path_column(drafted.out) == without_path_column(from_png.out));
  CHECK(drafted.out != exact.out);  // 1/4 scale changes the logits a little
  CHECK(run_vitscope("classify --decode fast" + model + quote(jpeg.string())).status == 2);

  // Every command that reads images takes the option.
  for (const std::string command : {"classify", "validate", "batch", "compare", "faithfulness", "probe", "bench"}) {
    const RunResult help = run_vitscope(command + " --help");
    INFO(command);
    CHECK_THAT(help.out, Contains("--decode"));
  }

  const fs::path out = dir / "results.csv";
  REQUIRE(run_vitscope(batch_args(tiny_model(), dir / "photos", out, "--quiet --decode draft")).status == 0);
  CHECK_THAT(read_file(out.string() + ".settings.json"), Contains("decode draft"));
  const RunResult resumed = run_vitscope(batch_args(tiny_model(), dir / "photos", out, "--resume"));
  CHECK(resumed.status == 2);
  CHECK_THAT(resumed.err, Contains("written with other settings"));
  const fs::path exact_out = dir / "exact.csv";
  REQUIRE(run_vitscope(batch_args(tiny_model(), dir / "photos", exact_out, "--quiet")).status == 0);
  CHECK_THAT(read_file(exact_out.string() + ".settings.json"), !Contains("decode"));
}

TEST_CASE("batch: when decoding dominates, the summary times --decode draft on the run's own JPEGs",
          "[cli][decode][batch]") {
  const fs::path dir = fresh_dir("decode_hint");
  fs::create_directories(dir / "photos");
  for (int i = 0; i < 12; ++i)  // 3 MP photos and a 2-block model: decoding is most of the work
    write_large_jpeg(dir / "photos" / ("large_" + std::to_string(i) + ".jpg"), i, 2048, 1536);
  const RunResult exact =
      run_vitscope(batch_args(tiny_model(), dir / "photos", dir / "exact.csv", "--quiet --threads 2 --decode-threads 0"));
  INFO(exact.err);
  REQUIRE(exact.status == 0);
  // The share of decoding and preprocessing in the run's CPU time, from the summary's stage times
  // (per image; the model's on its 2 threads): the hint is given exactly when it is over one half.
  auto stage_ms = [&](const std::string& stage) {  // "time per image: read 0.20 ms, sha256 ..., model 3.11 ms"
    const std::size_t at = exact.err.find(stage + " ");
    REQUIRE(at != std::string::npos);
    return std::stod(exact.err.substr(at + stage.size() + 1));
  };
  const double decoding = stage_ms(", decode") + stage_ms(", preprocess");
  const double share =
      decoding / (stage_ms(": read") + stage_ms(", sha256") + decoding + 2 * stage_ms("between batches), model"));
  INFO("share of decoding and preprocessing " << share);
  const bool hint = exact.err.find("of the CPU time. On 8 of these JPEGs, --decode draft decoded and preprocessed in") !=
                    std::string::npos;
  CHECK(hint == (share > 0.5));
#ifndef VITSCOPE_SANITIZER_BUILD
  // In the normal build decoding 3 MP photos dominates the 2-block model: the hint path is taken.
  // (Under the sanitizers the model's own code runs several times slower and libjpeg does not.)
  CHECK(share > 0.5);
  CHECK_THAT(exact.err, Contains("which would make this run about"));
#endif
  // A draft run has nothing to offer.
  const RunResult drafted =
      run_vitscope(batch_args(tiny_model(), dir / "photos", dir / "draft.csv", "--quiet --decode draft"));
  REQUIRE(drafted.status == 0);
  CHECK_THAT(drafted.err, !Contains("--decode draft decoded"));
}
