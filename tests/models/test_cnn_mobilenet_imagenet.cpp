// The real MobileNet v1 0.75/224 weights on the 100 labelled ImageNet photos in ../shared, loaded
// through the manifest, against PyTorch + PIL on the same weights
// (tests/data/imagenet100_mobilenet_v1.safetensors from
// scripts/golden/gen_imagenet_reference_mobilenet.py): same top-1 everywhere, logits within 1e-3.
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

#include <nlohmann/json.hpp>

#include "models/imagenet100.hpp"
#include "models/test_helpers.hpp"
#include "vitscope/models/classifier.hpp"
#include "vitscope/io/image.hpp"
#include "vitscope/models/model_registry.hpp"
#include "vitscope/preprocess/preprocess.hpp"
#include "vitscope/io/safetensors.hpp"

using namespace vitscope;
using namespace vitscope::testing;

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
  const ModelRegistry registry = ModelRegistry::load(std::string(VITSCOPE_REPO_DIR) + "/weights/models.json");
  const ModelSpec spec = registry.resolve(weights);  // the manifest entry with this file name
  REQUIRE(spec.name == "mobilenet_v1_0.75_224");
  ThreadPool pool(2);
  auto model = load_classifier(spec, &pool);
  Session session(&pool);
  const PhotoGolden golden = read_photo_golden("imagenet100_mobilenet_v1.safetensors");
  REQUIRE(golden.files.size() == 100);
  expect_matches_pytorch("MobileNet v1 0.75/224", classify_photos(*model, session, images, golden.files), golden,
                         read_labels_csv(images + "/labels.csv"), 1e-3);
}
