// libFuzzer target: each input is a class-name file (read_label_names); see fuzz_entry_points.hpp.
#include <cstddef>
#include <cstdint>

#include "fuzz/fuzz_entry_points.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  vitscope::fuzz::fuzz_class_names(data, size);
  return 0;
}
