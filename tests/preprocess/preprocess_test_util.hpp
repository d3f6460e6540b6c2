#pragma once
// Helpers of the preprocessing tests: the golden file, its case lists, and image comparison.
#include <cstdint>
#include <cstdlib>
#include <random>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "vitscope/io/image.hpp"
#include "vitscope/io/safetensors.hpp"

namespace vitscope::test {

inline std::string preprocess_data(const std::string& file) {
  return std::string(VITSCOPE_TEST_DATA_DIR) + "/preprocess/" + file;
}

inline const SafeTensors& preprocess_golden() {
  static const SafeTensors golden = SafeTensors::open(preprocess_data("golden.safetensors"));
  return golden;
}

// A JSON list from the golden file's metadata ("resize_cases", "pipeline_cases").
inline nlohmann::json golden_cases(const std::string& key) {
  return nlohmann::json::parse(preprocess_golden().metadata().at(key));
}

// How two 8-bit images of the same shape differ.
struct ImageDiff {
  std::size_t values = 0;
  std::size_t identical = 0;
  int max_diff = 0;
  std::size_t worst_index = 0;  // flat index of the first largest difference
  int ours = 0, theirs = 0;

  double identical_fraction() const { return values ? static_cast<double>(identical) / values : 1.0; }
  std::string describe() const {
    std::ostringstream out;
    out << identical << "/" << values << " identical, max diff " << max_diff;
    if (max_diff > 0) out << " at flat index " << worst_index << " (ours " << ours << ", PIL " << theirs << ")";
    return out.str();
  }
};

template <typename A, typename B>
ImageDiff compare_u8(const A& ours, const B& theirs) {
  ImageDiff d;
  d.values = ours.size();
  for (std::size_t i = 0; i < d.values; ++i) {
    const int a = ours.data()[i], b = theirs.data()[i];
    const int diff = a > b ? a - b : b - a;
    if (diff == 0) ++d.identical;
    if (diff > d.max_diff) {
      d.max_diff = diff;
      d.worst_index = i;
      d.ours = a;
      d.theirs = b;
    }
  }
  return d;
}

// A [height, width, 3] image of uniform random bytes.
inline RgbImage random_image(int height, int width, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> byte(0, 255);
  RgbImage image = RgbImage::from_shape({static_cast<std::size_t>(height), static_cast<std::size_t>(width), 3});
  for (auto& v : image) v = static_cast<std::uint8_t>(byte(rng));
  return image;
}

}  // namespace vitscope::test
