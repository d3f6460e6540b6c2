// The labels.csv fuzzer's saved inputs, replayed in the normal build (see tests/fuzz/fuzz_replay.hpp);
// here rather than in test_io because read_labelled_csv is part of the models library.
#include <catch2/catch.hpp>

#include "fuzz/fuzz_entry_points.hpp"
#include "fuzz/fuzz_replay.hpp"

using namespace vitscope::fuzz;

TEST_CASE("fuzz inputs: labels.csv reader", "[fuzz_regressions]") {
  replay_saved_inputs("labels_csv", fuzz_labels_csv);
}
