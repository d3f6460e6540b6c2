// The perturbation tests on a model whose evidence is known: a classifier whose class 0 reads one
// patch alone. A map that ranks that patch first must score the best possible curves, one that
// ranks it last the worst; the AUCs are checked against values worked out by hand.
#include <atomic>
#include <cmath>

#include <catch2/catch.hpp>

#include "vitscope/core/error.hpp"
#include "vitscope/maps/faithfulness.hpp"

using namespace vitscope;

namespace {

constexpr int kSide = 64, kPatch = 16, kEvidence = 9;  // a 4×4 grid; patch 9 is row 2, column 1

// logit 0 = 10 · mean of channel 0 over patch kEvidence; logit 1 = 1.
class OnePatchClassifier final : public ImageClassifier {
 public:
  const ModelSpec& spec() const override { return spec_; }
  int num_classes() const override { return 2; }
  ModelSummary summary() const override { return {}; }
  xt::xtensor<float, 2> forward(const xt::xtensor<float, 4>& batch, Session&) const override {
    largest_batch = std::max<int>(largest_batch, static_cast<int>(batch.shape(0)));
    images += static_cast<int>(batch.shape(0));
    xt::xtensor<float, 2> logits = xt::xtensor<float, 2>::from_shape({batch.shape(0), 2});
    const int y0 = kEvidence / 4 * kPatch, x0 = kEvidence % 4 * kPatch;
    for (std::size_t b = 0; b < batch.shape(0); ++b) {
      double sum = 0;
      for (int y = y0; y < y0 + kPatch; ++y)
        for (int x = x0; x < x0 + kPatch; ++x) sum += batch(b, 0, y, x);
      logits(b, 0) = static_cast<float>(10 * sum / (kPatch * kPatch));
      logits(b, 1) = 1.0f;
    }
    return logits;
  }
  mutable std::atomic<int> largest_batch{0}, images{0};

 private:
  ModelSpec spec_;
};

double softmax0(double l0, double l1) { return 1 / (1 + std::exp(l1 - l0)); }

xt::xtensor<float, 3> evidence_image() {
  xt::xtensor<float, 3> image = xt::zeros<float>({3, kSide, kSide});
  for (int y = 0; y < kPatch; ++y)
    for (int x = 0; x < kPatch; ++x) image(0, kEvidence / 4 * kPatch + y, kEvidence % 4 * kPatch + x) = 1.0f;
  return image;
}

}  // namespace

TEST_CASE("Perturbation curves rank a map by the evidence it finds", "[maps][faithfulness]") {
  OnePatchClassifier model;
  Session session;
  PerturbationProtocol protocol;
  protocol.patches_per_step = 1;
  protocol.batch = 5;
  const PerturbationBase base = perturbation_base(model, session, evidence_image(), protocol);
  REQUIRE(base.class_index == 0);
  CHECK(base.probability == Approx(softmax0(10, 1)));
  CHECK(base.zero_probability == Approx(softmax0(0, 1)));
  CHECK(base.blurred_probability < base.probability);

  xt::xtensor<float, 2> right = xt::zeros<float>({4, 4}), wrong = xt::ones<float>({4, 4});
  right.data()[kEvidence] = 1;
  wrong.data()[kEvidence] = 0;
  const PerturbationCurves good = perturbation_curves(model, session, base, right, protocol);
  const PerturbationCurves bad = perturbation_curves(model, session, base, wrong, protocol);

  // Positive: the evidence goes with the first patch removed (10% of 16 = 1 patch).
  CHECK(good.positive == std::vector<double>{1, 0, 0, 0, 0, 0, 0, 0, 0, 0});
  CHECK(good.positive_auc == Approx(100 * 0.1 / 2));
  // Negative: removing up to 90% (14 of 16) least relevant first never reaches it.
  CHECK(good.negative == std::vector<double>(10, 1.0));
  CHECK(good.negative_auc == Approx(90));
  CHECK(bad.positive_auc == Approx(90));
  CHECK(bad.negative_auc == Approx(5));

  // Deletion: probability falls at the first step and stays; insertion rises at the first step.
  REQUIRE(good.deletion.size() == 17);
  const double high = softmax0(10, 1), low = softmax0(0, 1);
  std::vector<double> deletion(17, low), insertion(17, high);
  deletion[0] = high;
  insertion[0] = base.blurred_probability;
  for (std::size_t i = 0; i < 17; ++i) {
    CHECK(good.deletion[i] == Approx(deletion[i]));
    CHECK(good.insertion[i] == Approx(insertion[i]));
  }
  CHECK(good.deletion_auc == Approx((high / 2 + 15 * low + low / 2) / 16));
  CHECK(good.insertion_auc == Approx((base.blurred_probability / 2 + 15 * high + high / 2) / 16));
  CHECK(bad.deletion_auc > good.deletion_auc);
  CHECK(bad.insertion_auc < good.insertion_auc);
  // Batched as asked: 2 × 9 perturbation + 2 × 15 inner deletion/insertion images per map.
  CHECK(model.largest_batch == 5);
  CHECK(model.images == 3 + 2 * (18 + 30));

  CHECK_THROWS_AS(perturbation_curves(model, session, base, xt::zeros<float>({3, 4}), protocol), ConfigError);
}

TEST_CASE("Patch order, AUCs and bootstrap intervals", "[maps][faithfulness]") {
  const xt::xtensor<float, 2> r = {{0.5f, 0.9f}, {0.5f, 0.1f}};
  // Ties (patches 0 and 2) in an order drawn from the seed, the same in both directions.
  const std::vector<int> most = patches_by_relevance(r, true, 5), least = patches_by_relevance(r, false, 5);
  CHECK(most[0] == 1);
  CHECK(most[3] == 3);
  CHECK(least[0] == 3);
  CHECK(least[3] == 1);
  CHECK(most[1] == least[1]);
  bool both_orders = false;  // over seeds, each tied patch comes first sometimes
  for (std::uint64_t seed = 0; seed < 16; ++seed) both_orders |= patches_by_relevance(r, true, seed)[1] == 2;
  CHECK(both_orders);
  const xt::xtensor<float, 2> with_nan = {{NAN, 1.0f}, {0.5f, 2.0f}};
  CHECK(patches_by_relevance(with_nan, true, 0) == std::vector<int>{3, 1, 2, 0});
  // RISE's blur kernel: 11 taps summing to 1, symmetric, flatter than the plain truncated Gaussian
  // (the reflected tails fold back inside).
  const std::vector<double> k = rise_blur_kernel(11, 5.0);
  REQUIRE(k.size() == 11);
  double sum = 0;
  for (double v : k) sum += v;
  CHECK(sum == Approx(1.0));
  for (int i = 0; i < 11; ++i) CHECK(k[i] == Approx(k[10 - i]));
  CHECK(k[5] > k[4]);
  CHECK(k[0] / k[5] > std::exp(-0.5 * 25 / 25.0));
  CHECK(perturbation_auc({0, 0.5, 1}, {1, 1, 0}) == Approx(75));
  CHECK(rise_auc({1, 0.5, 0}) == Approx(0.5));
  CHECK(rise_auc({1, 1}) == Approx(1));

  const std::vector<double> same(50, 3.0);
  const MeanInterval constant = bootstrap_mean(same);
  CHECK(constant.mean == 3.0);
  CHECK(constant.low == 3.0);
  CHECK(constant.high == 3.0);
  std::vector<double> a, b;
  for (int i = 0; i < 200; ++i) {
    a.push_back(i % 10);
    b.push_back(i % 10 - 1.0 + 0.01 * (i % 3));
  }
  const MeanInterval d = bootstrap_paired_difference(a, b);
  CHECK(d.mean == Approx(1 - 0.01 * (67 + 2 * 66) / 200.0));
  CHECK(d.low <= d.mean);
  CHECK(d.high >= d.mean);
  CHECK(d.high - d.low < 0.01);  // paired: the shared i % 10 spread cancels
  const MeanInterval spread = bootstrap_mean(a);
  CHECK(spread.low < 4.5);
  CHECK(spread.high > 4.5);
  CHECK_THROWS_AS(bootstrap_paired_difference(a, {1.0}), ConfigError);
}
