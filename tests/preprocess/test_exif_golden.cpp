// EXIF orientation as a choice, against PIL + the timm eval transform
// (scripts/golden/gen_exif_preprocess.py, tests/data/preprocess/exif.safetensors): `ignore` gives the
// stored pixels, as Image.open(...).convert("RGB") and so PyTorch evaluation pipelines see them;
// `apply` gives what ImageOps.exif_transpose shows. Also the orientation read from each container.
#include <cmath>
#include <fstream>
#include <iterator>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "preprocess/preprocess_test_util.hpp"
#include "vitscope/core/error.hpp"
#include "vitscope/io/image.hpp"
#include "vitscope/preprocess/preprocess.hpp"

using namespace vitscope;
using namespace vitscope::test;

namespace {

std::string image_fixture_path(const std::string& name) { return std::string(VITSCOPE_TEST_DATA_DIR) + "/images/" + name; }

}  // namespace

TEST_CASE("--exif ignore and apply equal PIL without and with exif_transpose", "[preprocess][golden][exif]") {
  const SafeTensors golden = SafeTensors::open(std::string(VITSCOPE_TEST_DATA_DIR) + "/preprocess/exif.safetensors");
  const nlohmann::json files = nlohmann::json::parse(golden.metadata().at("files"));
  REQUIRE(files.size() == 4);  // three JPEG orientations and a PNG eXIf chunk
  PreprocessConfig config;     // ImageNet mean / std, bicubic, crop_pct 0.875, at 32x32
  config.input_height = config.input_width = 32;
  for (const auto& file : files) {
    const std::string name = file.get<std::string>();
    for (const ExifMode mode : {ExifMode::Ignore, ExifMode::Apply}) {
      const std::string key = std::string(exif_mode_name(mode)) + "." + name;
      INFO(key);
      ImageLoadOptions options;
      options.exif = mode;
      const auto ours = preprocess(load_image(image_fixture_path(name), options), config);
      const auto expected = golden.load_f32(key, {3, 32, 32});
      double worst = 0;
      for (std::size_t i = 0; i < ours.size(); ++i)
        worst = std::max(worst, std::fabs(double{ours.data()[i]} - double{expected.data()[i]}));
      CHECK(worst <= 1e-6);
    }
  }
}

TEST_CASE("the EXIF orientation of JPEG, PNG and TIFF files", "[io][exif]") {
  auto orientation_of = [](const std::string& name) {
    std::ifstream in(image_fixture_path(name), std::ios::binary);
    const std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return exif_orientation(bytes.data(), bytes.size());
  };
  CHECK(orientation_of("orientation_3.jpg") == 3);
  CHECK(orientation_of("orientation_6.jpg") == 6);
  CHECK(orientation_of("orientation_8.jpg") == 8);
  CHECK(orientation_of("orientation_6.png") == 6);
  CHECK(orientation_of("orientation_6.tiff") == 6);
  const std::uint8_t not_an_image[] = {1, 2, 3};
  CHECK(exif_orientation(not_an_image, sizeof not_an_image) == 1);
  // Ignored, a turned image keeps its stored shape (19 wide, 11 high); applied, it turns.
  ImageLoadOptions ignore;
  ignore.exif = ExifMode::Ignore;
  for (const char* name : {"orientation_6.jpg", "orientation_6.png", "orientation_6.tiff"}) {
    INFO(name);
    CHECK(load_image(image_fixture_path(name), ignore).shape()[1] == 19);
    CHECK(load_image(image_fixture_path(name)).shape()[1] == 11);
  }
  // The TIFF's stored pixels (OpenCV orients TIFFs whatever it is told; the loader undoes that)
  // are the PNG's: the two fixtures hold the same lossless pixels.
  const bool same_stored_pixels = load_image(image_fixture_path("orientation_6.tiff"), ignore) ==
                                  load_image(image_fixture_path("orientation_6.png"), ignore);
  CHECK(same_stored_pixels);
  CHECK(parse_exif_mode("ignore") == ExifMode::Ignore);
  CHECK_THROWS_AS(parse_exif_mode("auto"), ConfigError);
}
