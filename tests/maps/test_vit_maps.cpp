// ViT maps against PyTorch (scripts/golden/gen_vit_maps.py), on the attention probabilities stored
// in the ViT golden files, so only the map code is under test here.
#include <string>

#include "models/test_helpers.hpp"
#include "vitscope/io/safetensors.hpp"
#include "vitscope/maps/vit_maps.hpp"

#include <xtensor/xbuilder.hpp>

using namespace vitscope;
using vitscope::testing::data_path;
using vitscope::testing::max_abs_difference;

namespace {

struct StoredAttention {
  AttentionMaps maps;
  TokenLayout layout;
};

StoredAttention load_attention(const std::string& name) {
  const SafeTensors io = SafeTensors::open(data_path("vit/" + name + ".io.safetensors"));
  const auto& meta = io.metadata();
  StoredAttention s;
  const int depth = std::stoi(meta.at("depth"));
  for (int l = 0; l < depth; ++l) {
    const xt::xarray<float> a = io.load_f32("attn." + std::to_string(l));
    xt::xtensor<float, 4> t = xt::xtensor<float, 4>::from_shape({a.shape(0), a.shape(1), a.shape(2), a.shape(3)});
    std::copy(a.begin(), a.end(), t.begin());
    s.maps.push_back(std::move(t));
  }
  const std::string classifier = meta.at("classifier");
  s.layout.prefix = classifier == "distilled" ? 2 : classifier == "avg" ? 0 : 1;
  s.layout.patch_size = std::stoi(meta.at("patch_size"));
  s.layout.grid_h = std::stoi(meta.at("img_height")) / s.layout.patch_size;
  s.layout.grid_w = std::stoi(meta.at("img_width")) / s.layout.patch_size;
  return s;
}

}  // namespace

TEST_CASE("attention rollout matches PyTorch for every head fusion and discard ratio", "[maps][vit]") {
  const SafeTensors golden = SafeTensors::open(data_path("maps/vit_maps.safetensors"));
  const std::string name = GENERATE(as<std::string>{}, "tokens197", "distilled", "nonsquare");
  const std::string fusion = GENERATE(as<std::string>{}, "mean", "max", "min");
  const double discard = GENERATE(0.0, 0.9);
  CAPTURE(name, fusion, discard);
  const StoredAttention s = load_attention(name);
  const xt::xarray<float> expected =
      golden.load_f32(name + ".rollout." + fusion + "." + (discard == 0 ? "0" : "0.9"));
  for (std::size_t b = 0; b < s.maps.front().shape(0); ++b) {
    const xt::xtensor<float, 2> map =
        attention_rollout(s.maps, static_cast<int>(b), s.layout, {parse_head_fusion(fusion), discard});
    xt::xtensor<float, 2> want = xt::xtensor<float, 2>::from_shape({map.shape(0), map.shape(1)});
    std::copy(expected.begin() + static_cast<std::ptrdiff_t>(b * map.size()),
              expected.begin() + static_cast<std::ptrdiff_t>((b + 1) * map.size()), want.begin());
    const auto diff = max_abs_difference(map, want);
    INFO("image " << b << ": worst |rollout - PyTorch| = " << diff.max_abs);
    CHECK(diff.max_abs <= 1e-5);
    CHECK(*std::max_element(map.begin(), map.end()) == Approx(1.0f));
  }
}

TEST_CASE("mean attention distance matches PyTorch", "[maps][vit]") {
  const SafeTensors golden = SafeTensors::open(data_path("maps/vit_maps.safetensors"));
  const std::string name = GENERATE(as<std::string>{}, "tokens197", "distilled", "nonsquare");
  CAPTURE(name);
  const StoredAttention s = load_attention(name);
  const xt::xtensor<double, 2> distance = mean_attention_distance(s.maps, s.layout);
  const auto diff = max_abs_difference(distance, golden.load_f32(name + ".distance"));
  INFO("worst |distance - PyTorch| = " << diff.max_abs << " pixels");
  CHECK(diff.max_abs <= 1e-3);
}

TEST_CASE("mean attention distance of known attention patterns", "[maps][vit]") {
  // 1 layer, 2 heads, no prefix, 2x2 grid of 16-pixel patches.
  TokenLayout layout{0, 2, 2, 16};
  xt::xtensor<float, 4> a = xt::zeros<float>({1, 2, 4, 4});
  for (int i = 0; i < 4; ++i) {
    a(0, 0, i, i) = 1.0f;          // head 0 looks only at itself: distance 0
    for (int j = 0; j < 4; ++j) a(0, 1, i, j) = 0.25f;  // head 1 uniform: (0 + 16 + 16 + 16√2) / 4
  }
  const auto d = mean_attention_distance({a}, layout);
  CHECK(d(0, 0) == Approx(0.0).margin(1e-12));
  CHECK(d(0, 1) == Approx((32 + 16 * std::sqrt(2.0)) / 4));
}

TEST_CASE("rollout of identity attention is uniform over patches; class-token maps per head", "[maps][vit]") {
  // With every token attending only to itself the class token never gathers from the patches: the
  // rollout row is zero there, and the normalised map stays zero rather than dividing by zero.
  TokenLayout layout{1, 2, 3, 16};
  const std::size_t T = 7;
  xt::xtensor<float, 4> eye = xt::zeros<float>(std::array<std::size_t, 4>{1, 2, T, T});
  for (std::size_t h = 0; h < 2; ++h)
    for (std::size_t i = 0; i < T; ++i) eye(0, h, i, i) = 1;
  const auto none = attention_rollout({eye, eye}, 0, layout, {});
  CHECK(*std::max_element(none.begin(), none.end()) == 0.0f);

  xt::xtensor<float, 4> uniform = xt::xtensor<float, 4>::from_shape({1, 2, T, T});
  uniform.fill(1.0f / T);
  const auto flat = attention_rollout({uniform}, 0, layout, {});
  for (float v : flat) CHECK(v == Approx(1.0f));
  const auto per_head = class_token_attention({uniform}, 0, 0, layout);
  CHECK(per_head.shape(0) == 2);
  CHECK(per_head.shape(1) == 2);
  CHECK(per_head.shape(2) == 3);
  for (float v : per_head) CHECK(v == Approx(1.0f / T));
}
