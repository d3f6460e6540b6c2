#pragma once
// A ViT golden case of tests/data/vit (scripts/golden/gen_vit_cases.py): its weights, its io file
// (input, logits, attention) and the spec its metadata gives.
#include <algorithm>
#include <string>

#include "test_helpers.hpp"
#include "vitscope/models/model_registry.hpp"
#include "vitscope/io/safetensors.hpp"

namespace vitscope::testing {

struct GoldenCase {
  SafeTensors weights;
  SafeTensors io;
  ModelSpec spec;
};

inline GoldenCase open_case(const std::string& name) {
  GoldenCase c{SafeTensors::open(data_path("vit/" + name + ".safetensors")),
               SafeTensors::open(data_path("vit/" + name + ".io.safetensors")), {}};
  const auto& meta = c.io.metadata();
  c.spec.name = name;
  c.spec.architecture = "vit";
  c.spec.heads = std::stoi(meta.at("heads"));
  c.spec.patch_size = std::stoi(meta.at("patch_size"));
  c.spec.layernorm_eps = std::stof(meta.at("layernorm_eps"));
  c.spec.pos_embed_antialias = meta.count("pos_embed_antialias") && meta.at("pos_embed_antialias") == "1";
  // The trained grid is given through the input size the model was trained at.
  c.spec.preprocess.input_height = std::stoi(meta.at("pos_grid_h")) * c.spec.patch_size;
  c.spec.preprocess.input_width = std::stoi(meta.at("pos_grid_w")) * c.spec.patch_size;
  return c;
}

inline xt::xtensor<float, 4> input_of(const GoldenCase& c) {
  xt::xarray<float> x = c.io.load_f32("input");
  REQUIRE(x.dimension() == 4);
  xt::xtensor<float, 4> batch = xt::xtensor<float, 4>::from_shape({x.shape(0), x.shape(1), x.shape(2), x.shape(3)});
  std::copy(x.begin(), x.end(), batch.begin());
  return batch;
}

}  // namespace vitscope::testing
