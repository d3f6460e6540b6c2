// The fuzzers' saved inputs, replayed in the normal build: every seed and every crash reproducer
// of the io readers must still be handled (see tests/fuzz/fuzz_replay.hpp for the rules). The
// labels.csv reader lives in the models library and is replayed by test_models.
#include <cstdint>
#include <string>

#include <catch2/catch.hpp>

#include "fuzz/fuzz_entry_points.hpp"
#include "fuzz/fuzz_replay.hpp"
#include "vitscope/io/image.hpp"

using namespace vitscope::fuzz;

TEST_CASE("fuzz inputs: safetensors reader", "[fuzz_regressions]") {
  replay_saved_inputs("safetensors", fuzz_safetensors);
}

TEST_CASE("fuzz inputs: image decoder", "[fuzz_regressions]") {
  replay_saved_inputs("image_decode", fuzz_image_decode);
}

TEST_CASE("fuzz inputs: class-name reader", "[fuzz_regressions]") {
  replay_saved_inputs("class_names", fuzz_class_names);
}

// oom-pnm-comment-right-after-width.ppm: OpenCV consumes the byte that ends a number whatever it
// is, so "2105#444508" is a width and a height to it, not a width and a comment. The header check
// read 2105x21 and let OpenCV allocate 2105x444508 pixels; it must read what OpenCV reads.
TEST_CASE("fuzz finding: the PNM header is read as OpenCV reads it", "[fuzz_regressions]") {
  const std::string text = "P3\n2105#444508\n21\n255\n";
  const auto header = vitscope::read_image_header(reinterpret_cast<const std::uint8_t*>(text.data()),
                                                  text.size());
  REQUIRE(header.has_value());
  CHECK(header->width == 2105);
  CHECK(header->height == 444508);
}
