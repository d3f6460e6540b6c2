#pragma once
// The faithfulness scoreboard: every explanation method of a ViT and a CNN put through the
// perturbation tests (faithfulness.hpp) on the same images, each model on its own top-1 class,
// and summarised over the images with 95% bootstrap intervals and paired differences.
#include <string>
#include <vector>

#include "vitscope/maps/explanations.hpp"
#include "vitscope/maps/faithfulness.hpp"

namespace vitscope {

// One image through the ViT: its tape, the gradient of its top-1 logit, then each method's map
// brought to the patch grid and perturbed. Returns the curves in the order of `methods`.
std::vector<PerturbationCurves> vit_faithfulness(const VitModel& model, const VitBackprop& backprop, Session& session,
                                                 const xt::xtensor<float, 3>& image,
                                                 const std::vector<ExplanationMethod>& methods,
                                                 const ExplanationOptions& options, const PerturbationProtocol& protocol);

// The same for the CNN (its maps resampled to the image's 16-pixel patches).
std::vector<PerturbationCurves> cnn_faithfulness(const CnnModel& model, Session& session, const xt::xtensor<float, 3>& image,
                                                 const std::vector<ExplanationMethod>& methods,
                                                 const ExplanationOptions& options, const PerturbationProtocol& protocol);

// One (model, method) over the images.
struct FaithfulnessSummary {
  std::string model;   // the model's name
  std::string family;  // "ViT" or "CNN", set by the caller
  ExplanationMethod method;
  int images = 0;
  MeanInterval positive_auc, negative_auc, deletion_auc, insertion_auc;  // bootstrap 95%
  // Paired differences (this − other, per image) to the model's reference map (the ViT's
  // rollout, the CNN's CAM) and to its random baseline; empty `...method` when absent.
  std::string reference_method;
  MeanInterval positive_vs_reference, negative_vs_reference, deletion_vs_reference, insertion_vs_reference;
  bool has_random = false;  // the random baseline was scored (else the comparisons below are empty)
  MeanInterval positive_vs_random, negative_vs_random;
  bool beats_random_positive = false;  // the paired interval lies below 0 (fewer top-1 kept)
  bool beats_random_negative = false;  // the paired interval lies above 0
  // Mean curves over the images.
  std::vector<double> positive, negative, deletion, insertion;
};

// per_image[m][i]: method m's curves on image i (images in the same order for every method).
std::vector<FaithfulnessSummary> summarize_faithfulness(const std::string& model,
                                                        const std::vector<ExplanationMethod>& methods,
                                                        const std::vector<std::vector<PerturbationCurves>>& per_image,
                                                        ExplanationMethod reference);

}  // namespace vitscope
