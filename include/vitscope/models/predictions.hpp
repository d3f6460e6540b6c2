#pragma once
// Logits → the k most probable classes with names.
#include <string>
#include <vector>

namespace vitscope {

struct Prediction {
  int class_index = 0;
  std::string label;       // class name, or "class <index>" without a label file
  double probability = 0;  // softmax probability
};

// Softmax over logits[n] (in double, max-subtracted), then the k most probable classes, most
// probable first; ties keep the lower class index first. labels may be empty.
std::vector<Prediction> top_k(const float* logits, int n, int k,
                              const std::vector<std::string>& labels);

// "model <name> gave a non-finite logit (NaN or infinity)" when logits[n] holds one (its top classes
// would be arbitrary), else "".
std::string non_finite_logits_problem(const float* logits, int n, const std::string& model);

// Throws ModelOutputError with that message when logits[n] holds a non-finite value.
void require_finite_logits(const float* logits, int n, const std::string& model);

}  // namespace vitscope
