#pragma once
// The 100 labelled ImageNet photos of ../shared/images/imagenet-100, run through a real model and
// compared with PyTorch's logits on them (golden files of scripts/golden/gen_imagenet_reference*.py).
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "models/test_helpers.hpp"
#include "vitscope/models/classifier.hpp"
#include "vitscope/io/image.hpp"
#include "vitscope/preprocess/preprocess.hpp"
#include "vitscope/io/safetensors.hpp"

namespace vitscope::testing {

// labels.csv: file,class_index,wnid
inline std::map<std::string, int> read_labels_csv(const std::string& path) {
  std::ifstream in(path);
  REQUIRE(in);
  std::map<std::string, int> labels;
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    std::stringstream fields(line);
    std::string file, index;
    std::getline(fields, file, ',');
    std::getline(fields, index, ',');
    if (!file.empty()) labels[file] = std::stoi(index);
  }
  return labels;
}

struct PhotoGolden {
  std::vector<std::string> files;  // in the order of the logits' rows
  xt::xarray<float> logits;        // [photos, classes], PyTorch
};

inline PhotoGolden read_photo_golden(const std::string& golden_file) {
  const SafeTensors golden = SafeTensors::open(data_path(golden_file));
  PhotoGolden g;
  for (const auto& f : nlohmann::json::parse(golden.metadata().at("files"))) g.files.push_back(f);
  g.logits = golden.load_f32("logits", {static_cast<std::int64_t>(g.files.size()), -1});
  return g;
}

// logits[photos, classes] of the model on dir/<file> for every file, in batches of 10.
inline xt::xtensor<float, 2> classify_photos(const ImageClassifier& model, Session& session,
                                             const std::string& dir,
                                             const std::vector<std::string>& files) {
  const PreprocessConfig& config = model.spec().preprocess;
  xt::xtensor<float, 2> out = xt::xtensor<float, 2>::from_shape(
      {files.size(), static_cast<std::size_t>(model.num_classes())});
  constexpr std::size_t kChunk = 10;
  for (std::size_t start = 0; start < files.size(); start += kChunk) {
    const std::size_t n = std::min(kChunk, files.size() - start);
    xt::xtensor<float, 4> batch = xt::xtensor<float, 4>::from_shape(
        {n, 3, static_cast<std::size_t>(config.input_height), static_cast<std::size_t>(config.input_width)});
    for (std::size_t i = 0; i < n; ++i) {
      const xt::xtensor<float, 3> x = preprocess(load_image(dir + "/" + files[start + i]), config);
      std::copy(x.begin(), x.end(), batch.begin() + static_cast<std::ptrdiff_t>(i * x.size()));
    }
    const xt::xtensor<float, 2> logits = model.forward(batch, session);
    std::copy(logits.begin(), logits.end(), out.begin() + static_cast<std::ptrdiff_t>(start * out.shape(1)));
  }
  return out;
}

template <class Logits>
int top1(const Logits& logits, std::size_t row) {
  int best = 0;
  for (std::size_t k = 1; k < logits.shape(1); ++k)
    if (logits(row, k) > logits(row, best)) best = static_cast<int>(k);
  return best;
}

// Checks top-1 agreement and the worst logit difference against PyTorch, and prints the summary
// line with the accuracy against labels.csv.
inline void expect_matches_pytorch(const std::string& what, const xt::xtensor<float, 2>& ours,
                                   const PhotoGolden& golden, const std::map<std::string, int>& truth,
                                   double logit_tolerance) {
  int agree = 0, correct = 0, torch_correct = 0;
  double worst = 0;
  std::string worst_file;
  for (std::size_t i = 0; i < golden.files.size(); ++i) {
    const std::string& file = golden.files[i];
    for (std::size_t k = 0; k < ours.shape(1); ++k) {
      const double diff = std::abs(ours(i, k) - golden.logits(i, k));
      if (diff > worst) worst = diff, worst_file = file;
    }
    const int a = top1(ours, i), b = top1(golden.logits, i);
    INFO(file << ": vitscope top-1 " << a << ", PyTorch top-1 " << b);
    CHECK(a == b);
    agree += a == b;
    correct += a == truth.at(file);
    torch_correct += b == truth.at(file);
  }
  std::cout << what << " on imagenet-100: top-1 accuracy " << correct << "/" << golden.files.size()
            << " (PyTorch " << torch_correct << "), top-1 agreement with PyTorch " << agree << "/"
            << golden.files.size() << ", worst |logit diff| " << worst << " (" << worst_file << ")\n";
  CHECK(agree == static_cast<int>(golden.files.size()));
  CHECK(worst <= logit_tolerance);
}

}  // namespace vitscope::testing
