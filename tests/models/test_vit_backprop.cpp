// Gradients through the ViT (VitBackprop) against PyTorch autograd in float64
// (scripts/golden/gen_vit_gradients.py, tests/data/vit/gradients/README.md): input gradients from a
// cotangent on the logits and on block 0's residual stream, the gradients of each block's
// attention probabilities, on every pooling (class token, distilled, mean) and a resampled
// position embedding; and the real DeiT-Tiny's input gradients of a class token and a patch token.
#include <xtensor/xview.hpp>

#include "deit_tiny_erf_case.hpp"
#include "test_helpers.hpp"
#include "vit_gradient_case.hpp"
#include "vitscope/core/error.hpp"
#include "vitscope/models/model_registry.hpp"
#include "vitscope/models/vit_backprop.hpp"

using namespace vitscope;
using namespace vitscope::testing;

namespace {

constexpr double kRelativeTolerance = 1e-4;  // of the largest |gradient| of the tensor compared

// max |actual − expected| / max |expected|, over one image's slice.
template <class A, class E>
double relative_error(const A& actual, const E& expected) {
  double scale = 0;
  for (auto v : expected) scale = std::max(scale, std::abs(static_cast<double>(v)));
  REQUIRE(scale > 0);
  return max_abs_difference(actual, expected).max_abs / scale;
}

xt::xtensor<float, 3> image_of(const xt::xtensor<float, 4>& batch, std::size_t b) {
  return xt::view(batch, b, xt::all(), xt::all(), xt::all());
}

}  // namespace

TEST_CASE("ViT input and attention gradients equal PyTorch autograd", "[models][gradients]") {
  for (const char* name : kGradientCases) {
    DYNAMIC_SECTION(name) {
      const VitGradientCase c(name);
      const GoldenCase& golden = c.golden;
      const VitModel* model = c.model.get();
      const VitBackprop& backprop = *c.backprop;
      const SafeTensors& grads = c.grads;
      const xt::xtensor<float, 4>& input = c.input;
      const xt::xarray<float> logit_weights = grads.load_f32("logit_weights");
      const xt::xarray<float> input_grad = grads.load_f32("input_grad");
      const xt::xarray<float> token_seed = grads.load_f32("token_seed");
      const xt::xarray<float> token_input_grad = grads.load_f32("token_input_grad");
      const int depth = model->config().depth;
      Session session;
      for (std::size_t b = 0; b < input.shape(0); ++b) {
        INFO("image " << b);
        const VitTape tape = backprop.record(image_of(input, b), session);
        const xt::xarray<float> expected_logits = golden.io.load_f32("logits");
        CHECK(max_abs_difference(tape.logits, xt::xarray<float>(xt::view(expected_logits, b, xt::all()))).max_abs < 1e-4);

        const xt::xarray<float> dlogits = xt::view(logit_weights, b, xt::all());
        const VitGradient g = backprop.from_logits(tape, std::vector<float>(dlogits.begin(), dlogits.end()), true, session);
        CHECK(relative_error(g.image, xt::xarray<float>(xt::view(input_grad, b))) < kRelativeTolerance);
        REQUIRE(static_cast<int>(g.attention.size()) == depth);
        for (int l = 0; l < depth; ++l) {
          INFO("block " << l);
          const xt::xarray<float> attn = grads.load_f32("attn." + std::to_string(l));
          const xt::xarray<float> attn_grad = grads.load_f32("attn_grad." + std::to_string(l));
          CHECK(max_abs_difference(tape.attention[l], xt::xarray<float>(xt::view(attn, b))).max_abs < 1e-5);
          CHECK(relative_error(g.attention[l], xt::xarray<float>(xt::view(attn_grad, b))) < kRelativeTolerance);
        }

        const xt::xtensor<float, 2> seed = xt::view(token_seed, b);
        const VitGradient s = backprop.from_stream(tape, std::stoi(grads.metadata().at("token_block")), seed, true, session);
        CHECK(relative_error(s.image, xt::xarray<float>(xt::view(token_input_grad, b))) < kRelativeTolerance);
        for (int l = 1; l < depth; ++l) CHECK(xt::amax(xt::abs(s.attention[l]))() == 0.0f);  // after the seed
      }
    }
  }
}

TEST_CASE("ViT gradients refuse a bf16 model and cotangents of the wrong shape", "[models][gradients]") {
  GoldenCase golden = open_case("square");
  ModelSpec bf16 = golden.spec;
  bf16.precision = Precision::Bf16;
  auto bf16_model = VitModel::load(golden.weights, bf16, nullptr);
  CHECK_THROWS_AS(VitBackprop(*bf16_model), ConfigError);

  auto model = VitModel::load(golden.weights, golden.spec, nullptr);
  const VitBackprop backprop(*model);
  Session session;
  const VitTape tape = backprop.record(image_of(input_of(golden), 0), session);
  CHECK_THROWS_AS(backprop.from_logits(tape, std::vector<float>(3, 1.0f), false, session), ConfigError);
  CHECK_THROWS_AS(backprop.from_stream(tape, model->config().depth, xt::zeros<float>({17, 48}), false, session),
                  ConfigError);
  CHECK_THROWS_AS(backprop.from_stream(tape, 0, xt::zeros<float>({16, 48}), false, session), ConfigError);
  CHECK_THROWS_AS(backprop.record(xt::zeros<float>({3, 60, 64}), session), ConfigError);
}

TEST_CASE("DeiT-Tiny: input gradients of the class token (last block) and a patch token (first block) equal autograd",
          "[models][gradients][real]") {
  DeitTinyErfCase c;
  const int T = c.tape.tokens, D = c.vit->config().width;
  struct Seed {
    const char* tensor;
    int block, token;
  };
  for (const Seed seed : {Seed{"cls_last", 11, 0}, Seed{"patch_first", 0, 1 + 7 * 14 + 7}}) {
    INFO(seed.tensor);
    CHECK(std::stoi(c.golden.metadata().at(std::string(seed.tensor) + "_token")) == seed.token);
    xt::xtensor<float, 2> cotangent = xt::zeros<float>({static_cast<std::size_t>(T), static_cast<std::size_t>(D)});
    xt::view(cotangent, seed.token, xt::all()) = 1.0f;  // S = Σ_d stream[block + 1][token, d]
    const VitGradient g = c.backprop->from_stream(c.tape, seed.block, cotangent, false, c.session);
    const xt::xtensor<float, 2> map = xt::sum(xt::abs(g.image), {0});
    // Twelve fp32 blocks against float64: the small golden ViTs hold 1e-4, this one 1.5e-4 (class
    // token, last block); the receptive fields read from the maps agree exactly (tests/maps).
    const double error = relative_error(map, c.golden.load_f32(seed.tensor));
    CHECK(error < 5e-4);
  }
}
