#include "vitscope/models/predictions.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "vitscope/core/error.hpp"

namespace vitscope {

std::vector<Prediction> top_k(const float* logits, int n, int k,
                              const std::vector<std::string>& labels) {
  if (n <= 0) return {};
  const double max_logit = *std::max_element(logits, logits + n);
  std::vector<double> prob(n);
  double sum = 0;
  for (int i = 0; i < n; ++i) sum += prob[i] = std::exp(static_cast<double>(logits[i]) - max_logit);
  for (double& p : prob) p /= sum;
  std::vector<int> order(n);
  std::iota(order.begin(), order.end(), 0);
  k = std::clamp(k, 0, n);
  std::partial_sort(order.begin(), order.begin() + k, order.end(), [&](int a, int b) {
    return prob[a] != prob[b] ? prob[a] > prob[b] : a < b;
  });
  std::vector<Prediction> out;
  for (int i = 0; i < k; ++i) {
    const int c = order[i];
    out.push_back({c, c < static_cast<int>(labels.size()) ? labels[c] : "class " + std::to_string(c),
                   prob[c]});
  }
  return out;
}

std::string non_finite_logits_problem(const float* logits, int n, const std::string& model) {
  for (int i = 0; i < n; ++i)
    if (!std::isfinite(logits[i])) return "model " + model + " gave a non-finite logit (NaN or infinity)";
  return "";
}

void require_finite_logits(const float* logits, int n, const std::string& model) {
  const std::string problem = non_finite_logits_problem(logits, n, model);
  if (!problem.empty()) throw ModelOutputError(problem);
}

}  // namespace vitscope
