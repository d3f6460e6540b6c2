#pragma once
// Accuracy of a classifier on labelled images: top-1 / top-5, per-class errors, confused pairs.
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace vitscope {

// Ground truth for a set of images: path (as given to the model) → class index.
struct LabelledImage {
  std::string path;
  int class_index = 0;
};

// labels.csv with a header naming at least `file` and `class_index` columns (other columns
// ignored); file paths are relative to image_dir. ConfigError "<path>: <problem>".
std::vector<LabelledImage> read_labelled_csv(const std::string& csv_path, const std::string& image_dir);

// An ImageFolder tree: DIR/<class name>/<images>; classes are the sub-folder names, matched to
// class_names exactly (ConfigError naming an unknown folder), else, when class_names is empty,
// numbered in sorted order as torchvision's ImageFolder does.
std::vector<LabelledImage> read_image_folder(const std::string& dir,
                                             const std::vector<std::string>& class_names);

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
