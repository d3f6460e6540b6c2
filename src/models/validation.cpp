#include "vitscope/models/validation.hpp"

#include <algorithm>

namespace vitscope {
void ValidationCounts::add(int truth, const std::vector<int>& ranked) {
  ++images;
  auto& cls = per_class[truth];
  ++cls.first;
  const bool first = !ranked.empty() && ranked.front() == truth;
  top1 += first;
  const std::size_t five = std::min<std::size_t>(5, ranked.size());
  top5 += std::find(ranked.begin(), ranked.begin() + static_cast<std::ptrdiff_t>(five), truth) !=
          ranked.begin() + static_cast<std::ptrdiff_t>(five);
  if (!first && !ranked.empty()) {
    ++cls.second;
    ++confusions[{truth, ranked.front()}];
  }
}

std::vector<std::pair<std::pair<int, int>, int>> ValidationCounts::most_confused(std::size_t count) const {
  std::vector<std::pair<std::pair<int, int>, int>> pairs(confusions.begin(), confusions.end());
  std::stable_sort(pairs.begin(), pairs.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  if (pairs.size() > count) pairs.resize(count);
  return pairs;
}

}  // namespace vitscope
