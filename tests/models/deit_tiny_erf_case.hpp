#pragma once
// The real DeiT-Tiny (../shared) with its backward pass, recorded on the photo of the golden file
// tests/data/vit/gradients/deit_tiny_erf.safetensors (scripts/golden/gen_vit_gradients.py), whose
// autograd maps the gradient and receptive-field tests compare with.
#include <memory>
#include <string>

#include <xtensor/xview.hpp>

#include "test_helpers.hpp"
#include "vitscope/models/model_registry.hpp"
#include "vitscope/models/vit_backprop.hpp"

namespace vitscope::testing {

struct DeitTinyErfCase {
  ThreadPool pool{2};
  std::unique_ptr<ImageClassifier> model;
  const VitModel* vit = nullptr;
  std::unique_ptr<VitBackprop> backprop;
  SafeTensors golden;
  Session session{&pool};
  VitTape tape;

  DeitTinyErfCase() : golden(SafeTensors::open(data_path("vit/gradients/deit_tiny_erf.safetensors"))) {
    const std::string weights = shared_path("models/deit_tiny_patch16_224.safetensors");
    const ModelRegistry registry = ModelRegistry::load(std::string(VITSCOPE_REPO_DIR) + "/weights/models.json");
    model = load_classifier(registry.resolve(weights), &pool);
    vit = &dynamic_cast<const VitModel&>(*model);
    backprop = std::make_unique<VitBackprop>(*vit);
    const xt::xarray<float> input = golden.load_f32("input");
    tape = backprop->record(xt::xtensor<float, 3>(xt::view(input, 0)), session);
  }
};

}  // namespace vitscope::testing
