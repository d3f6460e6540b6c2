// --decode draft against Pillow's Image.draft + the timm eval transform
// (scripts/golden/gen_draft_decode.py, tests/data/preprocess/draft.safetensors): synthetic JPEGs of
// odd sizes, every DCT scale (1, 2, 4, 8), subsamplings 4:4:4, 4:2:2, 4:2:0, grayscale, progressive
// and EXIF orientations 3 and 6. The scale chosen, the decoded pixels and the model input are
// compared bit for bit (the input within float rounding, 1e-6).
#include <cmath>
#include <set>
#include <string>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "preprocess/preprocess_test_util.hpp"
#include "vitscope/core/error.hpp"
#include "vitscope/io/image.hpp"
#include "vitscope/preprocess/preprocess.hpp"

using namespace vitscope;

namespace {

const SafeTensors& draft_golden() {
  static const SafeTensors golden =
      SafeTensors::open(std::string(VITSCOPE_TEST_DATA_DIR) + "/preprocess/draft.safetensors");
  return golden;
}

std::string fixture(const std::string& name) { return std::string(VITSCOPE_TEST_DATA_DIR) + "/images/draft/" + name; }

PreprocessConfig config_32() {  // ImageNet mean / std, bicubic, crop_pct 0.875, at 32x32
  PreprocessConfig config;
  config.input_height = config.input_width = 32;
  return config;
}

ImageLoadOptions draft_options(ExifMode exif) {
  ImageLoadOptions options;
  options.decode = DecodeMode::Draft;
  options.draft_request = draft_request_for(config_32());
  options.exif = exif;
  return options;
}

double worst_difference(const xt::xtensor<float, 3>& ours, const xt::xarray<float>& expected) {
  double worst = 0;
  for (std::size_t i = 0; i < ours.size(); ++i)
    worst = std::max(worst, std::fabs(double{ours.data()[i]} - double{expected.data()[i]}));
  return worst;
}

}  // namespace

TEST_CASE("--decode draft picks Pillow's scale and decodes Pillow's pixels", "[preprocess][golden][draft]") {
  const auto& metadata = draft_golden().metadata();
  const nlohmann::json files = nlohmann::json::parse(metadata.at("files"));
  REQUIRE(files.size() == 12);
  std::set<int> scales;
  for (const auto& file : files) {
    const std::string name = file.get<std::string>();
    INFO(name);
    const nlohmann::json stored = nlohmann::json::parse(metadata.at("stored_size." + name));
    const nlohmann::json request = nlohmann::json::parse(metadata.at("request." + name));
    const nlohmann::json draft_size = nlohmann::json::parse(metadata.at("draft_size." + name));
    const int expected_scale = std::stoi(metadata.at("scale." + name));
    scales.insert(expected_scale);

    const ResizeTarget target = resize_target(config_32(), stored[1].get<int>(), stored[0].get<int>());
    CHECK(target.width == request[0].get<int>());
    CHECK(target.height == request[1].get<int>());
    CHECK(draft_scale(stored[0], stored[1], target.width, target.height) == expected_scale);

    const RgbImage decoded = load_image(fixture(name), draft_options(ExifMode::Ignore));
    REQUIRE(decoded.shape()[1] == draft_size[0].get<std::size_t>());
    REQUIRE(decoded.shape()[0] == draft_size[1].get<std::size_t>());
    const auto expected = draft_golden().load_u8("decoded." + name, {static_cast<std::int64_t>(decoded.shape()[0]),
                                                                      static_cast<std::int64_t>(decoded.shape()[1]), 3});
    std::size_t differing = 0;
    for (std::size_t i = 0; i < decoded.size(); ++i) differing += decoded.data()[i] != expected.data()[i];
    CHECK(differing == 0);
  }
  CHECK(scales == std::set<int>{1, 2, 4, 8});
}

TEST_CASE("--decode draft gives the model input of Pillow's draft + timm, EXIF ignored or applied",
          "[preprocess][golden][draft]") {
  const nlohmann::json files = nlohmann::json::parse(draft_golden().metadata().at("files"));
  for (const auto& file : files) {
    const std::string name = file.get<std::string>();
    for (const ExifMode mode : {ExifMode::Ignore, ExifMode::Apply}) {
      const std::string key = std::string(exif_mode_name(mode)) + "." + name;
      INFO(key);
      const auto ours = preprocess(load_image(fixture(name), draft_options(mode)), config_32());
      CHECK(worst_difference(ours, draft_golden().load_f32(key, {3, 32, 32})) <= 1e-6);
    }
    // The default, exact decode, is Pillow without draft; a scale above 1 changes the input.
    INFO(name);
    ImageLoadOptions exact;
    exact.exif = ExifMode::Ignore;
    const auto ours_exact = preprocess(load_image(fixture(name), exact), config_32());
    const auto expected_exact = draft_golden().load_f32("exact." + name, {3, 32, 32});
    CHECK(worst_difference(ours_exact, expected_exact) <= 1e-6);
    const bool scaled = draft_golden().metadata().at("scale." + name) != "1";
    const auto ours_draft = preprocess(load_image(fixture(name), draft_options(ExifMode::Ignore)), config_32());
    CHECK((worst_difference(ours_draft, expected_exact) > 0.01) == scaled);
  }
}

TEST_CASE("--decode draft leaves other formats, and draft without a request, exact", "[preprocess][draft]") {
  const std::string png = std::string(VITSCOPE_TEST_DATA_DIR) + "/images/orientation_6.png";
  ImageLoadOptions exact;
  const RgbImage a = load_image(png, exact);
  const RgbImage b = load_image(png, draft_options(ExifMode::Apply));
  CHECK(bool(a == b));
  ImageLoadOptions no_request;
  no_request.decode = DecodeMode::Draft;
  const std::string jpeg = fixture("draft_300x290_420.jpg");
  const bool same = load_image(jpeg, no_request) == load_image(jpeg, exact);
  CHECK(same);
  CHECK(parse_decode_mode("draft") == DecodeMode::Draft);
  CHECK(parse_decode_mode("exact") == DecodeMode::Exact);
  CHECK_THROWS_AS(parse_decode_mode("fast"), ConfigError);
}
