// libFuzzer target: each input is an image file in memory (decode_image); see fuzz_entry_points.hpp.
#include <cstddef>
#include <cstdint>

#include <opencv2/core/utility.hpp>

#include "fuzz/fuzz_entry_points.hpp"

// One fuzzer, one core: OpenCV's colour conversion would otherwise spread over every core.
extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
  cv::setNumThreads(1);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  vitscope::fuzz::fuzz_image_decode(data, size);
  return 0;
}
