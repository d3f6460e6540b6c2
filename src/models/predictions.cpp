#include "vitscope/models/predictions.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

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

}  // namespace vitscope
