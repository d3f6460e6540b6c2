#include "vitscope/batch/prepare.hpp"

#include <chrono>
#include <vector>

#include "vitscope/core/error.hpp"
#include "vitscope/io/file_digest.hpp"

namespace vitscope::batch {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

}  // namespace

PreparedImage prepare_image(const std::string& path, const ImageLoadOptions& load_options,
                            const PreprocessConfig& config) {
  PreparedImage prepared;
  try {
    auto start = Clock::now();
    const std::vector<std::uint8_t> bytes = read_image_file(path);
    prepared.times.read = seconds_since(start);

    start = Clock::now();
    prepared.sha256 = sha256_hex(bytes.data(), bytes.size());
    prepared.times.hash = seconds_since(start);

    start = Clock::now();
    const RgbImage image = decode_image(bytes.data(), bytes.size(), path, load_options);
    prepared.times.decode = seconds_since(start);

    start = Clock::now();
    prepared.tensor = preprocess(image, config);
    prepared.times.preprocess = seconds_since(start);
  } catch (const ImageError& e) {
    prepared.error = e.what();
  } catch (const std::exception& e) {  // out of memory on a huge image, and the like
    prepared.error = path + ": " + e.what();
  }
  return prepared;
}

}  // namespace vitscope::batch
