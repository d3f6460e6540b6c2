// libFuzzer target: each input is a batch result file, read as CSV and as JSON lines
// (scan_result_file, what --resume and merge read); see fuzz_entry_points_result_file.hpp.
#include <cstddef>
#include <cstdint>

#include "fuzz/fuzz_entry_points_result_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  vitscope::fuzz::fuzz_result_file(data, size);
  return 0;
}
