// The result-file fuzzer's saved inputs, replayed in the normal build (see tests/fuzz/fuzz_replay.hpp);
// here because scan_result_file is part of the batch library.
#include <catch2/catch.hpp>

#include "fuzz/fuzz_entry_points_result_file.hpp"
#include "fuzz/fuzz_replay.hpp"

using namespace vitscope::fuzz;

TEST_CASE("fuzz inputs: result file reader", "[fuzz_regressions]") {
  replay_saved_inputs("result_file", fuzz_result_file);
}
