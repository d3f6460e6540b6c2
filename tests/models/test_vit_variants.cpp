// The ViT's forward variants (VitForwardOptions) against PyTorch golden files
// (scripts/golden/gen_vit_variants.py, tests/data/vit/variants/README.md): windowed, masked and
// ReLU-normalised attention, heads switched off, the positional embedding zeroed or permuted, and
// the recorded token activations. Also: every option off is the unmodified model, bit for bit.
#include <algorithm>
#include <functional>
#include <numeric>
#include <sstream>
#include <string>

#include <xtensor/xmath.hpp>
#include <xtensor/xsort.hpp>
#include <xtensor/xview.hpp>

#include "test_helpers.hpp"
#include "vit_golden_case.hpp"
#include "vitscope/core/error.hpp"
#include "vitscope/models/vit.hpp"

using namespace vitscope;
using namespace vitscope::testing;
using Catch::Matchers::Contains;

namespace {

constexpr double kLogitTolerance = 1e-4;      // absolute, fp32 (as the plain golden cases)
constexpr double kAttentionTolerance = 1e-5;  // absolute, weights
constexpr double kTokenTolerance = 1e-4;      // relative to the largest |activation| of the block

struct VariantCase {
  SafeTensors io;
  GoldenCase base;
  VitForwardOptions options;
};

std::vector<std::pair<int, int>> parse_heads(const std::string& text) {
  std::vector<std::pair<int, int>> heads;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ','))
    if (!item.empty()) heads.emplace_back(std::stoi(item.substr(0, item.find(':'))),
                                          std::stoi(item.substr(item.find(':') + 1)));
  return heads;
}

VariantCase open_variant(const std::string& name) {
  SafeTensors io = SafeTensors::open(data_path("vit/variants/" + name + ".io.safetensors"));
  const auto& meta = io.metadata();
  VariantCase v{std::move(io), open_case(meta.at("base")), {}};
  VitForwardOptions& o = v.options;
  o.window = std::stoi(meta.at("window"));
  o.visibility_blocks = std::stoi(meta.at("window_blocks"));
  o.normalization = meta.at("normalization") == "relu" ? ScoreNormalization::ReluVisible
                                                       : ScoreNormalization::Softmax;
  o.heads_off = parse_heads(meta.at("heads_off"));
  if (meta.count("norm_blocks")) {
    const std::string& range = meta.at("norm_blocks");  // "begin:end", end 0 = through the last
    o.normalization_blocks = {std::stoi(range.substr(0, range.find(':'))),
                              std::stoi(range.substr(range.find(':') + 1))};
  }
  const std::string& pos = meta.at("pos");
  o.position = pos == "zero" ? PositionMode::Zero : pos == "permuted" ? PositionMode::Permuted
                                                                       : PositionMode::Trained;
  if (meta.at("has_mask") == "1") {
    const xt::xarray<float> mask = v.io.load_f32("mask");
    for (float m : mask) o.mask.push_back(m != 0.0f ? 1 : 0);
  }
  if (o.position == PositionMode::Permuted)
    for (float p : v.io.load_f32("permutation")) o.permutation.push_back(static_cast<int>(p));
  return v;
}

const char* const kVariants[] = {
    "baseline_square",   "window3_square",         "window5_first1_tokens197",
    "window3_distilled", "window1_nonsquare",      "mask_square",
    "relu_square",       "relu_window3_tokens197", "heads_off_square",
    "pos_zero_square",   "pos_permuted_nonsquare", "pos_permuted_interp",
    "avgpool_window3",   "relu_block1_square",     "relu_block0_nonsquare"};

}  // namespace

TEST_CASE("Every forward variant matches PyTorch: logits, attention weights, token activations",
          "[models][vit][variants]") {
  const std::string name = GENERATE(from_range(std::begin(kVariants), std::end(kVariants)));
  const int threads = GENERATE(1, 2);
  CAPTURE(name, threads);
  VariantCase v = open_variant(name);
  ThreadPool pool(threads);
  auto model = VitModel::load(v.base.weights, v.base.spec, &pool);
  Session session(&pool);

  VitForwardOptions options = v.options;
  options.record_attention = options.record_tokens = true;
  const xt::xtensor<float, 2> logits = model->forward(input_of(v.base), session, options);
  const auto logit_diff = max_abs_difference(logits, v.io.load_f32("logits"));
  INFO("worst |logit - PyTorch| = " << logit_diff.max_abs);
  CHECK(logit_diff.max_abs <= kLogitTolerance);

  const Recording& recorded = session.recording();
  const int depth = model->config().depth;
  REQUIRE(static_cast<int>(recorded.attention.size()) == depth);
  for (int layer = 0; layer < depth; ++layer) {
    const auto diff = max_abs_difference(recorded.attention[layer], v.io.load_f32("attn." + std::to_string(layer)));
    INFO("block " << layer << ": worst |weight - PyTorch| = " << diff.max_abs);
    CHECK(diff.max_abs <= kAttentionTolerance);
  }
  REQUIRE(static_cast<int>(recorded.tokens.size()) == depth + 1);
  for (int l = 0; l <= depth; ++l) {
    const xt::xarray<float> expected = v.io.load_f32("tokens." + std::to_string(l));
    const double scale = std::max(1.0, static_cast<double>(xt::amax(xt::abs(expected))()));
    const auto diff = max_abs_difference(recorded.tokens[l], expected);
    INFO("tokens." << l << ": worst |activation - PyTorch| = " << diff.max_abs << " (largest " << scale << ")");
    CHECK(diff.max_abs <= kTokenTolerance * scale);
  }

  // Without recording, the images run one per thread where they can: the same logits.
  const auto plain = max_abs_difference(model->forward(input_of(v.base), session, v.options),
                                        v.io.load_f32("logits"));
  INFO("without recording: worst |logit - PyTorch| = " << plain.max_abs);
  CHECK(plain.max_abs <= kLogitTolerance);
}

TEST_CASE("Variants in bf16 stay close to PyTorch's fp32", "[models][vit][variants][bf16]") {
  // The tolerances of the plain bf16 golden test: logits within 4% of the largest, and the same
  // top-1 wherever PyTorch's top two are further apart than two such errors (heads_off_square's
  // first image is a near tie: 3.632 against 3.613).
  const std::string name = GENERATE(as<std::string>{}, "window3_square", "relu_window3_tokens197",
                                    "heads_off_square", "mask_square");
  CAPTURE(name);
  VariantCase v = open_variant(name);
  v.base.spec.precision = Precision::Bf16;
  ThreadPool pool(2);
  auto model = VitModel::load(v.base.weights, v.base.spec, &pool);
  Session session(&pool);
  const xt::xtensor<float, 2> logits = model->forward(input_of(v.base), session, v.options);
  const xt::xarray<float> expected = v.io.load_f32("logits");
  const double largest = xt::amax(xt::abs(expected))();
  const auto diff = max_abs_difference(logits, expected);
  INFO("worst |bf16 logit - PyTorch fp32| = " << diff.max_abs << " (largest " << largest << ")");
  CHECK(diff.max_abs <= 0.04 * largest);
  int compared = 0;
  for (std::size_t b = 0; b < logits.shape(0); ++b) {
    xt::xarray<float> row = xt::view(expected, b, xt::all());
    std::sort(row.begin(), row.end(), std::greater<float>());
    if (row(0) - row(1) <= 2 * 0.04 * largest) continue;
    ++compared;
    CHECK(xt::argmax(xt::view(logits, b, xt::all()))() == xt::argmax(xt::view(expected, b, xt::all()))());
  }
  CHECK(compared >= 1);
}

TEST_CASE("Options that change nothing give the unmodified model's logits bit for bit", "[models][vit][variants]") {
  GoldenCase c = open_case("tokens197");
  ThreadPool pool(2);
  auto model = VitModel::load(c.weights, c.spec, &pool);
  Session session(&pool);
  const xt::xtensor<float, 2> plain = model->forward(input_of(c), session);
  VitForwardOptions identity;
  identity.position = PositionMode::Permuted;
  identity.permutation.resize(14 * 14);
  std::iota(identity.permutation.begin(), identity.permutation.end(), 0);
  CHECK(max_abs_difference(model->forward(input_of(c), session, identity), plain).max_abs == 0.0);
  VitForwardOptions recording;
  recording.record_tokens = true;
  CHECK(max_abs_difference(model->forward(input_of(c), session, recording), plain).max_abs == 0.0);
  // A window that covers the grid from every patch sees every token: the same function, computed
  // on gathered keys (different summation order, so not bitwise).
  VitForwardOptions whole;
  whole.window = 27;
  CHECK(max_abs_difference(model->forward(input_of(c), session, whole), plain).max_abs <= 1e-5);
}

TEST_CASE("Forward options that do not fit are one-line errors", "[models][vit][variants]") {
  GoldenCase c = open_case("square");  // 2 blocks, 3 heads, 4x4 grid: 17 tokens
  auto model = VitModel::load(c.weights, c.spec, nullptr);
  Session session;
  const xt::xtensor<float, 4> input = input_of(c);
  auto error_of = [&](const VitForwardOptions& o) {
    try {
      model->forward(input, session, o);
    } catch (const ConfigError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  VitForwardOptions o;
  o.window = 4;
  CHECK_THAT(error_of(o), Contains("window 4"));
  o = {};
  o.window = 3;
  o.mask.assign(17 * 17, 1);
  CHECK_THAT(error_of(o), Contains("exclude"));
  o = {};
  o.mask.assign(16 * 16, 1);
  CHECK_THAT(error_of(o), Contains("17 tokens"));
  o.mask.assign(17 * 17, 1);
  std::fill_n(o.mask.begin() + 5 * 17, 17, 0);
  CHECK_THAT(error_of(o), Contains("row 5"));
  o = {};
  o.heads_off = {{2, 0}};
  CHECK_THAT(error_of(o), Contains("2 blocks x 3 heads"));
  o = {};
  o.visibility_blocks = 3;
  CHECK_THAT(error_of(o), Contains("visibility blocks 3"));
  o = {};
  o.normalization_blocks = {1, 1};
  CHECK_THAT(error_of(o), Contains("normalisation blocks [1, 1)"));
  o.normalization_blocks = {2, 0};
  CHECK_THAT(error_of(o), Contains("not a range of the 2 blocks"));
  o = {};
  o.position = PositionMode::Permuted;
  o.permutation = {0, 1, 2};
  CHECK_THAT(error_of(o), Contains("16 patches"));
  o.permutation.assign(16, 0);
  CHECK_THAT(error_of(o), Contains("16 patches"));
  o = {};
  o.permutation = {0};
  CHECK_THAT(error_of(o), Contains("not 'permuted'"));
}

TEST_CASE("A window equals the explicit mask of the same visibility", "[models][vit][variants]") {
  // Two code paths: a window that sees few keys gathers them (tokens197: 14x14 grid), a mask scores
  // every key and hides the invisible ones. The mask is built here from the definition.
  GoldenCase c = open_case("tokens197");
  ThreadPool pool(2);
  auto model = VitModel::load(c.weights, c.spec, &pool);
  Session session(&pool);
  const int grid = 14, T = 1 + grid * grid;
  for (int k : {1, 3, 5}) {
    CAPTURE(k);
    VitForwardOptions window;
    window.window = k;
    VitForwardOptions mask;
    mask.mask.assign(static_cast<std::size_t>(T) * T, 0);
    for (int q = 0; q < T; ++q)
      for (int key = 0; key < T; ++key) {
        const bool prefix = q == 0 || key == 0;
        const int qr = (q - 1) / grid, qc = (q - 1) % grid, kr = (key - 1) / grid, kc = (key - 1) % grid;
        mask.mask[static_cast<std::size_t>(q) * T + key] =
            prefix || (std::abs(qr - kr) <= k / 2 && std::abs(qc - kc) <= k / 2);
      }
    for (ScoreNormalization normalization : {ScoreNormalization::Softmax, ScoreNormalization::ReluVisible}) {
      window.normalization = mask.normalization = normalization;
      window.record_attention = mask.record_attention = true;
      const xt::xtensor<float, 2> by_window = model->forward(input_of(c), session, window);
      const AttentionMaps window_weights = session.recording().attention;
      const xt::xtensor<float, 2> by_mask = model->forward(input_of(c), session, mask);
      CHECK(max_abs_difference(by_window, by_mask).max_abs <= 1e-5);
      for (std::size_t b = 0; b < window_weights.size(); ++b)
        CHECK(max_abs_difference(window_weights[b], session.recording().attention[b]).max_abs <= 1e-6);
    }
  }
}

TEST_CASE("A head replaced by a relative-position kernel attends by the kernel alone", "[models][vit][variants]") {
  GoldenCase c = open_case("tokens197");  // 14x14 grid, class token, 2 heads
  ThreadPool pool(2);
  auto model = VitModel::load(c.weights, c.spec, &pool);
  Session session(&pool);
  VitForwardOptions plain;
  plain.record_attention = true;
  model->forward(input_of(c), session, plain);
  const AttentionMaps unmodified = session.recording().attention;

  const int g = 14, kw = 2 * g - 1;
  HeadKernel kernel;
  kernel.block = 0;
  kernel.head = 1;
  kernel.prefix_share = 0.2f;
  for (int dr = -(g - 1); dr < g; ++dr)
    for (int dc = -(g - 1); dc < g; ++dc) kernel.kernel.push_back(1.0f / (1.0f + float(dr * dr + 2 * dc * dc)));
  VitForwardOptions replaced = plain;
  replaced.head_kernels = {kernel};
  model->forward(input_of(c), session, replaced);
  const AttentionMaps& attention = session.recording().attention;

  double worst = 0;
  for (int q = 1; q < 1 + g * g; ++q) {  // patch queries: the kernel, renormalised over the grid
    const int r = (q - 1) / g, col = (q - 1) % g;
    double sum = 0;
    for (int key = 1; key < 1 + g * g; ++key)
      sum += kernel.kernel[static_cast<std::size_t>((key - 1) / g - r + g - 1) * kw + ((key - 1) % g - col + g - 1)];
    worst = std::max(worst, std::abs(attention[0](0, 1, q, 0) - 0.2));
    for (int key = 1; key < 1 + g * g; ++key) {
      const double expected =
          0.8 * kernel.kernel[static_cast<std::size_t>((key - 1) / g - r + g - 1) * kw + ((key - 1) % g - col + g - 1)] / sum;
      worst = std::max(worst, std::abs(attention[0](0, 1, q, key) - expected));
    }
  }
  CHECK(worst <= 1e-6);
  // The class token's query and the other head attend as trained.
  for (int key = 0; key < 1 + g * g; ++key) CHECK(attention[0](0, 1, 0, key) == unmodified[0](0, 1, 0, key));
  CHECK(max_abs_difference(xt::xtensor<float, 2>(xt::view(attention[0], 0, 0, xt::all(), xt::all())),
                           xt::xtensor<float, 2>(xt::view(unmodified[0], 0, 0, xt::all(), xt::all())))
            .max_abs == 0.0);
  // A kernel of the wrong size is a one-line error.
  kernel.kernel.pop_back();
  replaced.head_kernels = {kernel};
  CHECK_THROWS_WITH(model->forward(input_of(c), session, replaced), Contains("head kernel of 728 weights"));
}
