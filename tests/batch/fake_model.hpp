#pragma once
// Test doubles for the batch library: a classifier whose logits are a known function of the image
// (and which records the batches it was given, and can fail on a chosen call), a sink that keeps
// what it is handed (and can fail on a chosen append), and a folder of small image files.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "models/test_helpers.hpp"
#include "vitscope/batch/pipeline.hpp"
#include "vitscope/models/classifier.hpp"

namespace vitscope::testing {

// logits[c] = mean of channel c % 3 of the preprocessed image + c: distinct per image, checkable.
class FakeClassifier final : public ImageClassifier {
 public:
  static constexpr int kClasses = 4;
  explicit FakeClassifier(int fail_on_call = -1, int input_size = 32) : fail_on_call_(fail_on_call) {
    spec_.name = "fake";
    spec_.architecture = "fake";
    spec_.preprocess.input_height = spec_.preprocess.input_width = input_size;
  }
  const ModelSpec& spec() const override { return spec_; }
  int num_classes() const override { return kClasses; }
  ModelSummary summary() const override { return {}; }
  xt::xtensor<float, 2> forward(const xt::xtensor<float, 4>& batch, Session&) const override {
    const int call = calls_++;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      batch_sizes_.push_back(batch.shape(0));
    }
    if (call == fail_on_call_) throw std::runtime_error("fake model failure");
    return expected_logits(batch);
  }
  static xt::xtensor<float, 2> expected_logits(const xt::xtensor<float, 4>& batch) {
    const std::size_t B = batch.shape(0), plane = batch.shape(2) * batch.shape(3);
    xt::xtensor<float, 2> logits = xt::xtensor<float, 2>::from_shape({B, std::size_t{kClasses}});
    for (std::size_t b = 0; b < B; ++b)
      for (int c = 0; c < kClasses; ++c) {
        const float* channel = batch.data() + (b * 3 + c % 3) * plane;
        double sum = 0;
        for (std::size_t i = 0; i < plane; ++i) sum += channel[i];
        logits(b, c) = static_cast<float>(sum / plane + c);
      }
    return logits;
  }
  std::vector<std::size_t> batch_sizes() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return batch_sizes_;
  }

 private:
  ModelSpec spec_;
  int fail_on_call_;
  mutable std::atomic<int> calls_{0};
  mutable std::mutex mutex_;
  mutable std::vector<std::size_t> batch_sizes_;
};

// Formats each outcome as "index,sha256-prefix,error-or-first-logit\n" and keeps what it appends.
class RecordingSink final : public batch::PipelineSink {
 public:
  explicit RecordingSink(int fail_on_append = -1) : fail_on_append_(fail_on_append) {}
  std::string format(const std::vector<batch::ModelOutcome>& outcomes) override {
    std::string text;
    for (const batch::ModelOutcome& o : outcomes) {
      text += std::to_string(o.index) + ',' + o.sha256.substr(0, 8) + ',';
      text += o.error.empty() ? std::to_string(o.logits[0]) : "error: " + o.error;
      text += '\n';
    }
    return text;
  }
  void append(const std::string& text) override {
    if (appends_++ == fail_on_append_) throw std::runtime_error("fake disk full");
    written_text += text;
  }
  void written(std::size_t ok, std::size_t failed) override {
    ok_reported = ok;
    failed_reported = failed;
  }
  std::vector<std::string> lines() const {
    std::vector<std::string> out;
    std::size_t start = 0;
    for (std::size_t end; (end = written_text.find('\n', start)) != std::string::npos; start = end + 1)
      out.push_back(written_text.substr(start, end - start));
    return out;
  }

  std::string written_text;
  std::size_t ok_reported = 0, failed_reported = 0;

 private:
  int fail_on_append_;
  int appends_ = 0;
};

// A fresh folder of `count` images (copies of the PNG, JPEG and BMP fixtures in turn) plus the
// bad files named in `bad` (empty files named like JPEGs), removed on destruction.
class ImageFolder {
 public:
  ImageFolder(const std::string& name, int count, const std::vector<int>& bad_positions = {}) {
    dir_ = std::filesystem::temp_directory_path() / ("vitscope_batch_" + name + "_" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    const char* fixtures[] = {"rgb.png", "rgb.jpg", "rgb.bmp", "gray.png", "palette.png"};
    for (int i = 0; i < count; ++i) {
      char name_buf[32];
      const bool bad = std::find(bad_positions.begin(), bad_positions.end(), i) != bad_positions.end();
      const std::string fixture = fixtures[i % 5];
      std::snprintf(name_buf, sizeof name_buf, "%03d%s", i, bad ? ".jpg" : fixture.substr(fixture.find('.')).c_str());
      const std::filesystem::path path = dir_ / name_buf;
      if (bad)
        std::ofstream(path).close();
      else
        std::filesystem::copy_file(data_path("images/" + fixture), path);
      paths.push_back(path.string());
    }
  }
  ~ImageFolder() { std::filesystem::remove_all(dir_); }
  ImageFolder(const ImageFolder&) = delete;
  ImageFolder& operator=(const ImageFolder&) = delete;
  std::vector<std::string> paths;

 private:
  std::filesystem::path dir_;
};

}  // namespace vitscope::testing
