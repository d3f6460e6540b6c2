// The manifest fuzzer's saved inputs, replayed in the normal build (see tests/fuzz/fuzz_replay.hpp);
// here because ModelRegistry is part of the models library.
#include <catch2/catch.hpp>

#include "fuzz/fuzz_entry_points_manifest.hpp"
#include "fuzz/fuzz_replay.hpp"

using namespace vitscope::fuzz;

TEST_CASE("fuzz inputs: model manifest reader", "[fuzz_regressions]") {
  replay_saved_inputs("manifest", fuzz_manifest);
}
