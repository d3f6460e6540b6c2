// The helpers of the horizontal pass: the build's native (possibly AVX-512) versions against the
// portable ones, on random data including values near the int32 sums the pass produces.
#include <cstdint>
#include <random>
#include <vector>

#include <catch2/catch.hpp>

#include "preprocess/rgb_batch.hpp"

using namespace vitscope::rgb_batch;

namespace {

std::vector<std::int32_t> lanes_of(const IntBatch& b) {
  std::vector<std::int32_t> out(kLanes);
  b.store_unaligned(out.data());
  return out;
}

}  // namespace

TEST_CASE("native and portable pixel batch helpers agree", "[preprocess]") {
  INFO("batch of " << kLanes << " int32 lanes, " << kPixelsPerBatch << " pixels; AVX-512 helpers: "
                   << VITSCOPE_RGB_BATCH_AVX512);
  std::mt19937 rng(11);
  std::uniform_int_distribution<int> byte(0, 255);
  std::uniform_int_distribution<std::int32_t> partial(-(1 << 28), 1 << 28);
  for (int trial = 0; trial < 200; ++trial) {
    std::vector<std::uint8_t> rgb(kLoadBytes);
    for (auto& v : rgb) v = static_cast<std::uint8_t>(byte(rng));
    const auto loaded = lanes_of(native::load_pixels(rgb.data()));
    REQUIRE(loaded == lanes_of(portable::load_pixels(rgb.data())));
    for (int p = 0; p < kPixelsPerBatch; ++p) {
      CHECK(loaded[4 * p + 0] == rgb[3 * p + 0]);
      CHECK(loaded[4 * p + 1] == rgb[3 * p + 1]);
      CHECK(loaded[4 * p + 2] == rgb[3 * p + 2]);
      CHECK(loaded[4 * p + 3] == 0);
    }

    std::vector<IntBatch> acc;
    for (int p = 0; p < kPixelsPerBatch; ++p) {
      std::vector<std::int32_t> lanes(kLanes);
      for (auto& v : lanes) v = partial(rng);
      acc.push_back(IntBatch::load_unaligned(lanes.data()));
    }
    REQUIRE(lanes_of(native::sum_groups(acc.data())) == lanes_of(portable::sum_groups(acc.data())));

    std::vector<std::int32_t> values(kLanes);
    for (auto& v : values) v = byte(rng);
    const IntBatch batch = IntBatch::load_unaligned(values.data());
    for (int pixels = 1; pixels <= kPixelsPerBatch; ++pixels) {
      std::vector<std::uint8_t> a(3 * kPixelsPerBatch + 1, 0xAB), b(3 * kPixelsPerBatch + 1, 0xAB);
      native::store_pixels(batch, pixels, a.data());
      portable::store_pixels(batch, pixels, b.data());
      REQUIRE(a == b);
      CHECK(a[3 * pixels] == 0xAB);  // nothing written past the last pixel
    }
  }
}
