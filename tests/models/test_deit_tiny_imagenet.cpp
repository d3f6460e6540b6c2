// The real DeiT-Tiny weights on the 100 labelled ImageNet photos in ../shared, against PyTorch + PIL
// on the same weights (tests/data/imagenet100_deit_tiny.safetensors from
// scripts/golden/gen_imagenet_reference.py): same top-1 everywhere, logits within 1e-3.
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

#include <nlohmann/json.hpp>

#include "test_helpers.hpp"
#include "vitscope/classifier.hpp"
#include "vitscope/image.hpp"
#include "vitscope/model_registry.hpp"
#include "vitscope/preprocess.hpp"
#include "vitscope/safetensors.hpp"

using namespace vitscope;
using vitscope::testing::data_path;
using vitscope::testing::shared_path;

namespace {

std::map<std::string, int> read_labels_csv(const std::string& path) {
  std::ifstream in(path);
  REQUIRE(in);
  std::map<std::string, int> labels;
  std::string line;
  std::getline(in, line);  // header: file,class_index,wnid
  while (std::getline(in, line)) {
    std::stringstream fields(line);
    std::string file, index;
    std::getline(fields, file, ',');
    std::getline(fields, index, ',');
    if (!file.empty()) labels[file] = std::stoi(index);
  }
  return labels;
}

}  // namespace

TEST_CASE("DeiT-Tiny top-1 equals PyTorch's on all 100 photos, logits within 1e-3", "[models][real]") {
  const std::string weights = shared_path("models/deit_tiny_patch16_224.safetensors");
  const std::string images = shared_path("images/imagenet-100");
  const std::map<std::string, int> truth = read_labels_csv(images + "/labels.csv");

  const ModelRegistry registry = ModelRegistry::load(std::string(VITSCOPE_REPO_DIR) + "/weights/models.json");
  ModelSpec spec = registry.resolve(weights);  // the manifest entry with this file name
  REQUIRE(spec.name == "deit_tiny_patch16_224");
  ThreadPool pool(2);
  auto model = load_classifier(spec, &pool);

  const SafeTensors golden = SafeTensors::open(data_path("imagenet100_deit_tiny.safetensors"));
  const xt::xarray<float> expected = golden.load_f32("logits", {100, 1000});
  const auto files = nlohmann::json::parse(golden.metadata().at("files"));
  REQUIRE(files.size() == 100);

  constexpr std::size_t kChunk = 10;
  int agree = 0, correct = 0, torch_correct = 0;
  double worst = 0;
  std::string worst_file;
  for (std::size_t start = 0; start < files.size(); start += kChunk) {
    xt::xtensor<float, 4> batch = xt::xtensor<float, 4>::from_shape({kChunk, 3, 224, 224});
    for (std::size_t i = 0; i < kChunk; ++i) {
      const xt::xtensor<float, 3> x =
          preprocess(load_image(images + "/" + files[start + i].get<std::string>()), spec.preprocess);
      std::copy(x.begin(), x.end(), batch.begin() + static_cast<std::ptrdiff_t>(i * x.size()));
    }
    const xt::xtensor<float, 2> logits = model->forward(batch);
    for (std::size_t i = 0; i < kChunk; ++i) {
      const std::string file = files[start + i].get<std::string>();
      int ours = 0, theirs = 0;
      for (int k = 0; k < 1000; ++k) {
        const double diff = std::abs(logits(i, k) - expected(start + i, k));
        if (diff > worst) worst = diff, worst_file = file;
        if (logits(i, k) > logits(i, ours)) ours = k;
        if (expected(start + i, k) > expected(start + i, theirs)) theirs = k;
      }
      INFO(file << ": vitscope top-1 " << ours << ", PyTorch top-1 " << theirs);
      CHECK(ours == theirs);
      agree += ours == theirs;
      correct += ours == truth.at(file);
      torch_correct += theirs == truth.at(file);
    }
  }
  std::cout << "DeiT-Tiny on imagenet-100: top-1 accuracy " << correct << "/100 (PyTorch " << torch_correct
            << "/100), top-1 agreement with PyTorch " << agree << "/100, worst |logit diff| " << worst
            << " (" << worst_file << ")\n";
  CHECK(agree == 100);
  CHECK(worst <= 1e-3);
}

TEST_CASE("DeiT-Tiny in bf16 keeps the fp32 top-1 on at least 99 of the 100 photos", "[models][real][bf16]") {
  const std::string weights = shared_path("models/deit_tiny_patch16_224.safetensors");
  const std::string images = shared_path("images/imagenet-100");
  const ModelRegistry registry = ModelRegistry::load(std::string(VITSCOPE_REPO_DIR) + "/weights/models.json");
  ModelSpec spec = registry.resolve(weights);
  spec.precision = Precision::Bf16;
  ThreadPool pool(2);
  auto model = load_classifier(spec, &pool);
  const SafeTensors golden = SafeTensors::open(data_path("imagenet100_deit_tiny.safetensors"));
  const xt::xarray<float> fp32 = golden.load_f32("logits", {100, 1000});
  const auto files = nlohmann::json::parse(golden.metadata().at("files"));
  int agree = 0;
  double worst = 0;
  for (std::size_t start = 0; start < files.size(); start += 10) {
    xt::xtensor<float, 4> batch = xt::xtensor<float, 4>::from_shape({10, 3, 224, 224});
    for (std::size_t i = 0; i < 10; ++i) {
      const auto x = preprocess(load_image(images + "/" + files[start + i].get<std::string>()), spec.preprocess);
      std::copy(x.begin(), x.end(), batch.begin() + static_cast<std::ptrdiff_t>(i * x.size()));
    }
    const xt::xtensor<float, 2> logits = model->forward(batch);
    for (std::size_t i = 0; i < 10; ++i) {
      int ours = 0, theirs = 0;
      for (int k = 0; k < 1000; ++k) {
        worst = std::max(worst, static_cast<double>(std::abs(logits(i, k) - fp32(start + i, k))));
        if (logits(i, k) > logits(i, ours)) ours = k;
        if (fp32(start + i, k) > fp32(start + i, theirs)) theirs = k;
      }
      agree += ours == theirs;
    }
  }
  std::cout << "DeiT-Tiny bf16 on imagenet-100: top-1 agrees with fp32 on " << agree
            << "/100, worst |logit diff| " << worst << "\n";
  CHECK(agree >= 99);
}
