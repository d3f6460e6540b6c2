#pragma once
// Labelled image sets for measuring accuracy: a labels CSV, or an ImageFolder tree.
#include <string>
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

}  // namespace vitscope
