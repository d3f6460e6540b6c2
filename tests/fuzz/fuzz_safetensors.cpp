// libFuzzer target: each input is a .safetensors file (SafeTensors::open, then every tensor read); see fuzz_entry_points.hpp.
#include <cstddef>
#include <cstdint>

#include "fuzz/fuzz_entry_points.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  vitscope::fuzz::fuzz_safetensors(data, size);
  return 0;
}
