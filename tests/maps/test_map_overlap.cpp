#include <catch2/catch.hpp>

#include "vitscope/maps/map_overlap.hpp"

using namespace vitscope;

namespace {

xt::xtensor<float, 2> ramp(int h, int w, bool along_x) {
  xt::xtensor<float, 2> m = xt::xtensor<float, 2>::from_shape({static_cast<std::size_t>(h), static_cast<std::size_t>(w)});
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) m(y, x) = static_cast<float>(along_x ? x : y);
  return m;
}

}  // namespace

TEST_CASE("resizing a map keeps constant and linear maps", "[maps]") {
  xt::xtensor<float, 2> flat = xt::xtensor<float, 2>::from_shape({3, 5});
  flat.fill(2.5f);
  for (float v : resize_map(flat, 17, 11)) CHECK(v == 2.5f);
  // A linear ramp stays linear inside (align_corners = false: centres map to centres).
  const auto r = resize_map(ramp(4, 4, true), 8, 8);
  CHECK(r(0, 0) == Approx(0.0f));       // clamped edge
  CHECK(r(0, 2) == Approx(0.75f));      // (2 + 0.5) / 2 - 0.5
  CHECK(r(0, 7) == Approx(3.0f));
}

TEST_CASE("IoU of the top regions", "[maps]") {
  const auto x = ramp(7, 7, true), y = ramp(14, 14, false);
  // Identical maps overlap fully, whatever their resolution.
  CHECK(top_region_iou(x, x, 0.2, 224, 224) == Approx(1.0));
  CHECK(top_region_iou(x, resize_map(x, 14, 14), 0.2, 224, 224) > 0.85);
  // Right edge band versus bottom edge band: 20% strips crossing in a corner of 4%:
  // IoU = 0.04 / (0.2 + 0.2 - 0.04) ≈ 0.11.
  CHECK(top_region_iou(x, y, 0.2, 224, 224) == Approx(0.04 / 0.36).margin(0.03));
  // Opposite maps do not overlap.
  xt::xtensor<float, 2> flipped = -x;
  CHECK(top_region_iou(x, flipped, 0.2, 224, 224) == Approx(0.0).margin(1e-9));
  CHECK_THROWS(top_region_iou(x, y, 0.0, 10, 10));
}

TEST_CASE("correlation of maps", "[maps]") {
  const auto x = ramp(7, 7, true);
  CHECK(map_correlation(x, x, 56, 56) == Approx(1.0));
  xt::xtensor<float, 2> flipped = -x;
  CHECK(map_correlation(x, flipped, 56, 56) == Approx(-1.0));
  CHECK(map_correlation(x, ramp(7, 7, false), 56, 56) == Approx(0.0).margin(1e-6));
}
