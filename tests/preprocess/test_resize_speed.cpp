// Timing of the resize on a camera-sized photo. Hidden from the default run ([.]); run with
// `test_preprocess [speed]` to see the numbers.
#include <chrono>

#include <catch2/catch.hpp>

#include "preprocess/preprocess_test_util.hpp"
#include "vitscope/preprocess/preprocess.hpp"

using namespace vitscope;
using namespace vitscope::test;

namespace {

template <typename F>
double best_milliseconds(int repeats, F&& f) {
  double best = 1e30;
  for (int r = 0; r < repeats; ++r) {
    const auto start = std::chrono::steady_clock::now();
    f();
    const std::chrono::duration<double, std::milli> took = std::chrono::steady_clock::now() - start;
    best = std::min(best, took.count());
  }
  return best;
}

}  // namespace

TEST_CASE("resize speed: 2000x1500 to 341x256", "[.][speed]") {
  const RgbImage photo = random_image(1500, 2000, 7);
  for (Interpolation interpolation : {Interpolation::Bicubic, Interpolation::Bilinear}) {
    RgbImage out;
    const double ms = best_milliseconds(20, [&] { out = pil_resize(photo, 341, 256, interpolation); });
    WARN(interpolation_name(interpolation) << " 2000x1500 -> 341x256: " << ms << " ms (best of 20)");
    CHECK(out.shape()[0] == 256);
  }
  PreprocessConfig config;  // 224, crop 0.875, bicubic
  const double ms = best_milliseconds(20, [&] { (void)preprocess(photo, config); });
  WARN("preprocess 2000x1500 -> [3, 224, 224]: " << ms << " ms (best of 20)");
}
