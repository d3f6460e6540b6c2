// pil_resize against Image.resize of Pillow 9.4 on the golden cases of gen_preprocess.py.
#include <catch2/catch.hpp>

#include "preprocess/preprocess_test_util.hpp"
#include "vitscope/preprocess/preprocess.hpp"

using namespace vitscope;
using namespace vitscope::test;

TEST_CASE("pil_resize equals PIL's Image.resize on every golden case", "[preprocess][golden]") {
  const nlohmann::json cases = golden_cases("resize_cases");
  REQUIRE(cases.size() >= 30);
  std::size_t total_values = 0, total_identical = 0;
  for (const auto& c : cases) {
    const std::string key = c.at("tensor");
    const int width = c.at("width"), height = c.at("height");
    const RgbImage source = load_image(preprocess_data(c.at("source")));
    const RgbImage ours = pil_resize(source, width, height, parse_interpolation(c.at("interpolation")));
    const auto expected = preprocess_golden().load_u8(key, {height, width, 3});
    REQUIRE(ours.shape()[0] == static_cast<std::size_t>(height));
    REQUIRE(ours.shape()[1] == static_cast<std::size_t>(width));
    const ImageDiff diff = compare_u8(ours, expected);
    INFO(key << " from " << source.shape()[1] << "x" << source.shape()[0] << ": " << diff.describe());
    CHECK(diff.max_diff <= 1);
    CHECK(diff.identical_fraction() >= 0.999);
    CHECK(diff.identical == diff.values);  // the port is exact, not merely close
    total_values += diff.values;
    total_identical += diff.identical;
  }
  WARN("pil_resize: " << total_identical << "/" << total_values << " values identical to PIL over "
                      << cases.size() << " cases");
}
