// The real DeiT-Tiny weights on the 100 labelled ImageNet photos in ../shared, against PyTorch + PIL
// on the same weights (tests/data/imagenet100_deit_tiny.safetensors from
// scripts/golden/gen_imagenet_reference.py): same top-1 everywhere, logits within 1e-3.
#include "imagenet100.hpp"
#include "vitscope/models/classifier.hpp"
#include "vitscope/io/image.hpp"
#include "vitscope/models/model_registry.hpp"
#include "vitscope/preprocess/preprocess.hpp"
#include "vitscope/io/safetensors.hpp"

using namespace vitscope;
using namespace vitscope::testing;

namespace {

ModelSpec deit_tiny_spec(Precision precision) {
  const std::string weights = shared_path("models/deit_tiny_patch16_224.safetensors");
  const ModelRegistry registry = ModelRegistry::load(std::string(VITSCOPE_REPO_DIR) + "/weights/models.json");
  ModelSpec spec = registry.resolve(weights);  // the manifest entry with this file name
  REQUIRE(spec.name == "deit_tiny_patch16_224");
  spec.precision = precision;
  return spec;
}

}  // namespace

TEST_CASE("DeiT-Tiny top-1 equals PyTorch's on all 100 photos, logits within 1e-3", "[models][real]") {
  const std::string images = shared_path("images/imagenet-100");
  ThreadPool pool(2);
  auto model = load_classifier(deit_tiny_spec(Precision::Fp32), &pool);
  Session session(&pool);
  const PhotoGolden golden = read_photo_golden("imagenet100_deit_tiny.safetensors");
  REQUIRE(golden.files.size() == 100);
  expect_matches_pytorch("DeiT-Tiny", classify_photos(*model, session, images, golden.files), golden,
                         read_labels_csv(images + "/labels.csv"), 1e-3);
}

namespace {

// DeiT-Tiny at `precision` on the 100 photos against PyTorch's fp32 logits: how many top-1 answers
// agree, and the worst logit difference (printed too).
struct PhotoAgreement {
  int agree = 0;
  double worst = 0;
};

PhotoAgreement agreement_with_fp32(Precision precision) {
  const std::string images = shared_path("images/imagenet-100");
  ThreadPool pool(2);
  auto model = load_classifier(deit_tiny_spec(precision), &pool);
  Session session(&pool);
  const PhotoGolden golden = read_photo_golden("imagenet100_deit_tiny.safetensors");
  const xt::xtensor<float, 2> logits = classify_photos(*model, session, images, golden.files);
  PhotoAgreement result;
  for (std::size_t i = 0; i < golden.files.size(); ++i) {
    result.agree += top1(logits, i) == top1(golden.logits, i);
    for (std::size_t k = 0; k < logits.shape(1); ++k)
      result.worst = std::max(result.worst, static_cast<double>(std::abs(logits(i, k) - golden.logits(i, k))));
  }
  std::cout << "DeiT-Tiny " << precision_name(precision) << " on imagenet-100: top-1 agrees with fp32 on "
            << result.agree << "/100, worst |logit diff| " << result.worst << "\n";
  return result;
}

}  // namespace

TEST_CASE("DeiT-Tiny in bf16 keeps the fp32 top-1 on at least 99 of the 100 photos", "[models][real][bf16]") {
  CHECK(agreement_with_fp32(Precision::Bf16).agree >= 99);
}

TEST_CASE("DeiT-Tiny in int8 keeps the fp32 top-1 on at least 99 of the 100 photos", "[models][real][int8]") {
  // Every linear layer in int8 (the default: weights per output channel, activations per token).
  const PhotoAgreement int8 = agreement_with_fp32(Precision::Int8);
  CHECK(int8.agree >= 99);
  CHECK(int8.worst <= 1.5);  // measured 0.54 (README "int8"): logits of these photos reach ~20
}
