// libFuzzer target: each input is a model manifest (ModelRegistry::load); see
// fuzz_entry_points_manifest.hpp.
#include <cstddef>
#include <cstdint>

#include "fuzz/fuzz_entry_points_manifest.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  vitscope::fuzz::fuzz_manifest(data, size);
  return 0;
}
