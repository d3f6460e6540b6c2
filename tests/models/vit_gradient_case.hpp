#pragma once
// A small golden ViT (vit_golden_case.hpp) with its backward pass and its autograd file
// tests/data/vit/gradients/<name>.safetensors (scripts/golden/gen_vit_gradients.py).
#include <memory>
#include <string>

#include <xtensor/xview.hpp>

#include "vit_golden_case.hpp"
#include "vitscope/models/vit_backprop.hpp"

namespace vitscope::testing {

// The golden ViTs the gradient file covers: every pooling and a resampled position embedding.
inline const char* const kGradientCases[] = {"square", "distilled", "avgpool", "nonsquare", "interp"};

struct VitGradientCase {
  GoldenCase golden;
  std::unique_ptr<VitModel> model;
  std::unique_ptr<VitBackprop> backprop;
  SafeTensors grads;
  xt::xtensor<float, 4> input;

  explicit VitGradientCase(const std::string& name)
      : golden(open_case(name)),
        grads(SafeTensors::open(data_path("vit/gradients/" + name + ".safetensors"))) {
    model = VitModel::load(golden.weights, golden.spec, nullptr);
    backprop = std::make_unique<VitBackprop>(*model);
    input = input_of(golden);
  }
  xt::xtensor<float, 3> image(std::size_t b) const { return xt::view(input, b, xt::all(), xt::all(), xt::all()); }
};

}  // namespace vitscope::testing
