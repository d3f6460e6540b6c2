#pragma once
// Does a map show what the model used? Perturbation tests of explanation maps, on the model's own
// top-1 class, with the image's 16×16 patches as the unit removed or inserted:
//  - positive / negative perturbation (Chefer et al., CVPR 2021): remove 0%, 10%, … 90% of the
//    patches, most (positive) or least (negative) relevant first, by setting them to zero after
//    normalisation (the mean colour); the curve is 1 where the top-1 class is unchanged, else 0;
//    AUC = 100 · the trapezoid area over the fractions (0 … 0.9), computed as Chefer et al.
//    compute theirs. A faithful map has a low positive AUC and a high negative one. (Their code
//    differs in three ways, so only orderings compare with their tables: it removes single
//    pixels of the upsampled map, sets them to black before normalisation, and counts agreement
//    with the true label.)
//  - deletion / insertion (Petsiuk et al., RISE, 2018): the softmax probability of the class as the
//    patches are set to zero (deletion) or copied into a blurred copy of the image (insertion; RISE's
//    blur: its 11×11 kernel, a σ = 5 Gaussian filter of a delta with reflected borders, applied
//    with zero padding), most relevant first, 7 patches a step (RISE's 224·8 pixels at 224×224);
//    AUC = the trapezoid area over the removed share in [0, 1]. A faithful map has a low deletion
//    AUC and a high insertion one.
// Patches of equal relevance (a ReLU'd, upsampled CAM has many zeros) are taken in an order drawn
// per image (PerturbationBase::tie_seed), not in raster order, which would favour the top left.
#include <cstdint>
#include <vector>

#include <xtensor/xtensor.hpp>

#include "vitscope/maps/probe.hpp"
#include "vitscope/models/classifier.hpp"

namespace vitscope {

struct PerturbationProtocol {
  int patch_size = 16;
  std::vector<double> fractions = {0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9};
  int patches_per_step = 7;  // deletion / insertion
  int blur_size = 11;        // insertion's start: RISE's blur kernel (size, σ), see above
  double blur_sigma = 5.0;
  int batch = 16;            // perturbed images per forward pass
};

// What every map of one image shares: the image, its class, the endpoints of the curves.
struct PerturbationBase {
  xt::xtensor<float, 3> image;    // [3, H, W], preprocessed
  xt::xtensor<float, 3> blurred;  // insertion's start
  int class_index = 0;            // the model's top-1 on the image
  double probability = 0;         // of the class on the image
  double zero_probability = 0;    // on the all-zero image (deletion's end)
  double blurred_probability = 0; // on the blurred image (insertion's start)
  std::uint64_t tie_seed = 0;     // the order of equally relevant patches
};
PerturbationBase perturbation_base(const ImageClassifier& model, Session& session, const xt::xtensor<float, 3>& image,
                                   const PerturbationProtocol& protocol);

struct PerturbationCurves {
  std::vector<double> positive, negative;    // per fraction: 1 where the top-1 is unchanged
  std::vector<double> deletion, insertion;   // per step (steps + 1 points): probability of the class
  double positive_auc = 0, negative_auc = 0, deletion_auc = 0, insertion_auc = 0;
};

// The curves of one map, relevance[grid_h, grid_w] over the image's patches. All perturbed images
// of one map run as batches. protocol.fractions must start at 0.
PerturbationCurves perturbation_curves(const ImageClassifier& model, Session& session, const PerturbationBase& base,
                                       const xt::xtensor<float, 2>& relevance, const PerturbationProtocol& protocol);

// Patch indices, most (or least) relevant first; ties in an order drawn with tie_seed (the same
// order in both directions); NaN counts as the least relevant.
std::vector<int> patches_by_relevance(const xt::xtensor<float, 2>& relevance, bool most_relevant_first,
                                      std::uint64_t tie_seed);

// RISE's blur kernel: a size-tap row, the Gaussian filter (σ, truncated at 4σ) of a delta in the
// middle of `size` samples with reflected borders (scipy.ndimage's default); the 2-D kernel is its
// outer product.
std::vector<double> rise_blur_kernel(int size, double sigma);

// 100 · ∫ y dx by trapezoids (Chefer et al.'s perturbation AUC).
double perturbation_auc(const std::vector<double>& fractions, const std::vector<double>& y);
// (Σ y − y₀ / 2 − yₙ / 2) / n for n + 1 evenly spaced points over [0, 1] (RISE's auc()).
double rise_auc(const std::vector<double>& y);

// The mean of values with a 95% percentile bootstrap interval (resamples drawn with seed).
MeanInterval bootstrap_mean(const std::vector<double>& values, int resamples = 2000, std::uint64_t seed = 1);
// mean(a − b) over paired values, with its 95% percentile bootstrap interval (pairs resampled).
MeanInterval bootstrap_paired_difference(const std::vector<double>& a, const std::vector<double>& b,
                                         int resamples = 2000, std::uint64_t seed = 1);

}  // namespace vitscope
