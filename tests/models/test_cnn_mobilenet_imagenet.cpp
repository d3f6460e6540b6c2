// The real MobileNet v1 0.75/224 weights on the 100 labelled ImageNet photos in ../shared, loaded
// through the manifest, against PyTorch + PIL on the same weights
// (tests/data/imagenet100_mobilenet_v1.safetensors from
// scripts/golden/gen_imagenet_reference_mobilenet.py): same top-1 everywhere, logits within 1e-3.
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

#include <nlohmann/json.hpp>

#include "models/test_helpers.hpp"
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

TEST_CASE("The manifest's MobileNet v1 entry uses the weights' preprocessing", "[models][cnn][real]") {
  shared_path("models/mobilenet_v1_0.75_224.safetensors");
  const ModelRegistry registry = ModelRegistry::load(std::string(VITSCOPE_REPO_DIR) + "/weights/models.json");
  const ModelSpec spec = registry.resolve("mobilenet_v1_0.75_224");
  CHECK(spec.architecture == "mobilenet_v1");
  CHECK(spec.preprocess.interpolation == Interpolation::Bilinear);
  CHECK(spec.preprocess.crop_pct == 0.875);
  CHECK(spec.preprocess.input_height == 224);
  for (int c = 0; c < 3; ++c) {
    CHECK(spec.preprocess.mean[c] == 0.5f);
    CHECK(spec.preprocess.std[c] == 0.5f);
  }
  ThreadPool pool(2);
  const ModelSummary s = load_classifier(spec, &pool)->summary();
  // 2,601,976 values in the file (Keras' count), of which 16,416 are BatchNorm running statistics:
  // 2 × the channels of the 27 BatchNorms, 24 + (24 + 48) + (48 + 96) + (96 + 96) + (96 + 192)
  // + (192 + 192) + (192 + 384) + 5 × (384 + 384) + (384 + 768) + (768 + 768) = 8,208.
  CHECK(s.parameters == 2601976 - 16416);
  // The MobileNet paper's 325 million mult-adds for 0.75/224, plus the classifier.
  CHECK(s.macs_per_image / 1000000 == 325);
}

TEST_CASE("MobileNet v1 top-1 equals PyTorch's on all 100 photos, logits within 1e-3", "[models][cnn][real]") {
  const std::string weights = shared_path("models/mobilenet_v1_0.75_224.safetensors");
  const std::string images = shared_path("images/imagenet-100");
  const std::map<std::string, int> truth = read_labels_csv(images + "/labels.csv");

  const ModelRegistry registry = ModelRegistry::load(std::string(VITSCOPE_REPO_DIR) + "/weights/models.json");
  const ModelSpec spec = registry.resolve(weights);  // the manifest entry with this file name
  REQUIRE(spec.name == "mobilenet_v1_0.75_224");
  ThreadPool pool(2);
  auto model = load_classifier(spec, &pool);

  const SafeTensors golden = SafeTensors::open(data_path("imagenet100_mobilenet_v1.safetensors"));
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
  std::cout << "MobileNet v1 0.75/224 on imagenet-100: top-1 accuracy " << correct << "/100 (PyTorch "
            << torch_correct << "/100), top-1 agreement with PyTorch " << agree
            << "/100, worst |logit diff| " << worst << " (" << worst_file << ")\n";
  CHECK(agree == 100);
  CHECK(worst <= 1e-3);
  CHECK(torch_correct == 81);  // the shared README's figure for these weights
}
