#include "cli/precision_agreement.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "vitscope/maps/faithfulness.hpp"
#include "vitscope/maps/probe.hpp"

namespace vitscope::cli {
namespace {

int arg_max(const float* x, int n) { return static_cast<int>(std::max_element(x, x + n) - x); }

// log softmax in double.
std::vector<double> log_probabilities(const float* logits, int n) {
  const double top = *std::max_element(logits, logits + n);
  double sum = 0;
  for (int i = 0; i < n; ++i) sum += std::exp(double{logits[i]} - top);
  const double log_sum = top + std::log(sum);
  std::vector<double> out(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) out[static_cast<std::size_t>(i)] = double{logits[i]} - log_sum;
  return out;
}

}  // namespace

void PrecisionAgreement::add(const float* logits, const float* reference_logits, int classes) {
  top1_agree_ += arg_max(logits, classes) == arg_max(reference_logits, classes);
  const std::vector<double> p = log_probabilities(logits, classes), q = log_probabilities(reference_logits, classes);
  double kl = 0;
  for (int i = 0; i < classes; ++i) kl += std::exp(q[static_cast<std::size_t>(i)]) * (q[static_cast<std::size_t>(i)] - p[static_cast<std::size_t>(i)]);
  kl_.push_back(std::max(0.0, kl));
  for (int i = 0; i < classes; ++i) {
    const double d = std::fabs(double{logits[i]} - double{reference_logits[i]});
    worst_logit_difference_ = std::max(worst_logit_difference_, d);
    sum_logit_difference_ += d;
  }
  logits_ += classes;
}

std::string PrecisionAgreement::summary(const std::string& precision, const std::string& reference) const {
  const Proportion agree = wilson_interval(top1_agree_, images());
  const MeanInterval kl = bootstrap_mean(kl_);
  std::vector<double> sorted = kl_;
  std::sort(sorted.begin(), sorted.end());
  char text[768];
  std::snprintf(text, sizeof text,
                "%s against %s on %d images: top-1 agreement %d/%d = %.1f%% [95%% CI %.1f, %.1f]\n"
                "KL(p_%s || p_%s): mean %.3g nats [95%% CI %.3g, %.3g], median %.3g, max %.3g\n"
                "logit difference: worst %.3g, mean %.3g\n",
                precision.c_str(), reference.c_str(), images(), top1_agree_, images(), 100 * agree.value,
                100 * agree.low, 100 * agree.high, reference.c_str(), precision.c_str(), kl.mean, kl.low, kl.high,
                sorted.empty() ? 0.0 : sorted[sorted.size() / 2], sorted.empty() ? 0.0 : sorted.back(),
                worst_logit_difference_, logits_ ? sum_logit_difference_ / static_cast<double>(logits_) : 0.0);
  return text;
}

nlohmann::json PrecisionAgreement::to_json(const std::string& reference) const {
  const Proportion agree = wilson_interval(top1_agree_, images());
  const MeanInterval kl = bootstrap_mean(kl_);
  return {{"reference", reference},
          {"images", images()},
          {"top1_agreement", {{"count", top1_agree_}, {"share", agree.value}, {"low", agree.low}, {"high", agree.high}}},
          {"kl_nats", {{"mean", kl.mean}, {"low", kl.low}, {"high", kl.high}}},
          {"worst_logit_difference", worst_logit_difference_},
          {"mean_logit_difference", logits_ ? sum_logit_difference_ / static_cast<double>(logits_) : 0.0}};
}

}  // namespace vitscope::cli
