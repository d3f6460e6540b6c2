#pragma once
// One input of a batch run, up to the model: the file's bytes read once, hashed (SHA-256), decoded
// from memory and preprocessed. Failures are kept as the input's error message, never thrown.
#include <string>

#include <xtensor/xtensor.hpp>

#include "vitscope/io/image.hpp"
#include "vitscope/preprocess/preprocess.hpp"

namespace vitscope::batch {

// Seconds spent in each step, for the run's summary.
struct PrepareTimes {
  double read = 0, hash = 0, decode = 0, preprocess = 0;
  PrepareTimes& operator+=(const PrepareTimes& other) {
    read += other.read, hash += other.hash, decode += other.decode, preprocess += other.preprocess;
    return *this;
  }
};

struct PreparedImage {
  std::string sha256;  // of the bytes read; empty when the file could not be read
  std::string error;   // "<path>: <problem>"; empty when tensor holds the image
  xt::xtensor<float, 3> tensor;  // [3, H, W], normalised
  PrepareTimes times;
};

PreparedImage prepare_image(const std::string& path, const ImageLoadOptions& load_options,
                            const PreprocessConfig& config);

}  // namespace vitscope::batch
