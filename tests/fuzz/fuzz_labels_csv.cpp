// libFuzzer target: each input is a labels.csv file (read_labelled_csv); see fuzz_entry_points.hpp.
#include <cstddef>
#include <cstdint>

#include "fuzz/fuzz_entry_points.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  vitscope::fuzz::fuzz_labels_csv(data, size);
  return 0;
}
