#pragma once
// Accuracy of a classifier on labelled images (vitscope/io/dataset.hpp reads them): top-1 / top-5,
// per-class errors, confused pairs.
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace vitscope {

struct ValidationCounts {
  int images = 0;      // classified
  int failed = 0;      // could not be read
  int top1 = 0;        // correct at rank 1
  int top5 = 0;        // correct within the first 5
  // per true class: images, top-1 errors
  std::map<int, std::pair<int, int>> per_class;
  // (true, predicted) → count, for top-1 errors
  std::map<std::pair<int, int>, int> confusions;

  void add(int truth, const std::vector<int>& ranked_predictions);
  double top1_accuracy() const { return images ? double(top1) / images : 0.0; }
  double top5_accuracy() const { return images ? double(top5) / images : 0.0; }
  // The most frequent (true, predicted) pairs, most frequent first, ties by class indices.
  std::vector<std::pair<std::pair<int, int>, int>> most_confused(std::size_t count) const;
};

}  // namespace vitscope
