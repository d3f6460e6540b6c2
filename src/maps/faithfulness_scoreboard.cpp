// Runs the perturbation tests of every method on one image per model, and summarises them over images.
#include "vitscope/maps/faithfulness_scoreboard.hpp"

#include <algorithm>

#include "vitscope/core/error.hpp"

namespace vitscope {

std::vector<PerturbationCurves> vit_faithfulness(const VitModel& model, const VitBackprop& backprop, Session& session,
                                                 const xt::xtensor<float, 3>& image,
                                                 const std::vector<ExplanationMethod>& methods,
                                                 const ExplanationOptions& options, const PerturbationProtocol& protocol) {
  // The class is the top-1 of the forward pass the perturbations run through.
  PerturbationBase base = perturbation_base(model, session, image, protocol);
  base.tie_seed = options.seed + static_cast<std::uint64_t>(options.image_index);
  const VitTape tape = backprop.record(image, session);
  std::vector<float> one_hot(static_cast<std::size_t>(model.num_classes()), 0.0f);
  one_hot[static_cast<std::size_t>(base.class_index)] = 1.0f;
  const VitGradient gradient = backprop.from_logits(tape, one_hot, true, session);
  std::vector<PerturbationCurves> curves;
  for (ExplanationMethod m : methods) {
    const xt::xtensor<float, 2> map = vit_explanation(m, model, {&image, &tape, &gradient}, options);
    curves.push_back(perturbation_curves(
        model, session, base,
        patch_relevance(map, static_cast<int>(image.shape(1)), static_cast<int>(image.shape(2)), protocol.patch_size),
        protocol));
  }
  return curves;
}

std::vector<PerturbationCurves> cnn_faithfulness(const CnnModel& model, Session& session, const xt::xtensor<float, 3>& image,
                                                 const std::vector<ExplanationMethod>& methods,
                                                 const ExplanationOptions& options, const PerturbationProtocol& protocol) {
  PerturbationBase base = perturbation_base(model, session, image, protocol);
  base.tie_seed = options.seed + static_cast<std::uint64_t>(options.image_index);
  std::vector<PerturbationCurves> curves;
  for (ExplanationMethod m : methods) {
    const xt::xtensor<float, 2> map = cnn_explanation(m, model, session, image, base.class_index, options);
    curves.push_back(perturbation_curves(
        model, session, base,
        patch_relevance(map, static_cast<int>(image.shape(1)), static_cast<int>(image.shape(2)), protocol.patch_size),
        protocol));
  }
  return curves;
}

namespace {

std::vector<double> aucs(const std::vector<PerturbationCurves>& images, double PerturbationCurves::*auc) {
  std::vector<double> v;
  for (const PerturbationCurves& c : images) v.push_back(c.*auc);
  return v;
}

std::vector<double> mean_curve(const std::vector<PerturbationCurves>& images, std::vector<double> PerturbationCurves::*curve) {
  std::vector<double> mean((images.front().*curve).size(), 0.0);
  for (const PerturbationCurves& c : images)
    for (std::size_t i = 0; i < mean.size(); ++i) mean[i] += (c.*curve)[i] / static_cast<double>(images.size());
  return mean;
}

}  // namespace

std::vector<FaithfulnessSummary> summarize_faithfulness(const std::string& model,
                                                        const std::vector<ExplanationMethod>& methods,
                                                        const std::vector<std::vector<PerturbationCurves>>& per_image,
                                                        ExplanationMethod reference) {
  if (per_image.size() != methods.size()) throw ConfigError("faithfulness summary: one list of curves per method");
  auto index_of = [&](ExplanationMethod m) {
    return static_cast<int>(std::find(methods.begin(), methods.end(), m) - methods.begin());
  };
  const int ref = index_of(reference), random = index_of(ExplanationMethod::Random);
  std::vector<FaithfulnessSummary> out;
  for (std::size_t m = 0; m < methods.size(); ++m) {
    const std::vector<PerturbationCurves>& curves = per_image[m];
    if (curves.empty()) continue;
    FaithfulnessSummary s;
    s.model = model;
    s.method = methods[m];
    s.images = static_cast<int>(curves.size());
    s.positive_auc = bootstrap_mean(aucs(curves, &PerturbationCurves::positive_auc));
    s.negative_auc = bootstrap_mean(aucs(curves, &PerturbationCurves::negative_auc));
    s.deletion_auc = bootstrap_mean(aucs(curves, &PerturbationCurves::deletion_auc));
    s.insertion_auc = bootstrap_mean(aucs(curves, &PerturbationCurves::insertion_auc));
    if (ref < static_cast<int>(methods.size())) {
      const auto& other = per_image[static_cast<std::size_t>(ref)];
      s.reference_method = explanation_method_info(reference).name;
      s.positive_vs_reference = bootstrap_paired_difference(aucs(curves, &PerturbationCurves::positive_auc),
                                                            aucs(other, &PerturbationCurves::positive_auc));
      s.negative_vs_reference = bootstrap_paired_difference(aucs(curves, &PerturbationCurves::negative_auc),
                                                            aucs(other, &PerturbationCurves::negative_auc));
      s.deletion_vs_reference = bootstrap_paired_difference(aucs(curves, &PerturbationCurves::deletion_auc),
                                                            aucs(other, &PerturbationCurves::deletion_auc));
      s.insertion_vs_reference = bootstrap_paired_difference(aucs(curves, &PerturbationCurves::insertion_auc),
                                                             aucs(other, &PerturbationCurves::insertion_auc));
    }
    if (random < static_cast<int>(methods.size())) {
      const auto& other = per_image[static_cast<std::size_t>(random)];
      s.positive_vs_random = bootstrap_paired_difference(aucs(curves, &PerturbationCurves::positive_auc),
                                                         aucs(other, &PerturbationCurves::positive_auc));
      s.negative_vs_random = bootstrap_paired_difference(aucs(curves, &PerturbationCurves::negative_auc),
                                                         aucs(other, &PerturbationCurves::negative_auc));
      s.has_random = true;
      s.beats_random_positive = s.positive_vs_random.high < 0;
      s.beats_random_negative = s.negative_vs_random.low > 0;
    }
    s.positive = mean_curve(curves, &PerturbationCurves::positive);
    s.negative = mean_curve(curves, &PerturbationCurves::negative);
    s.deletion = mean_curve(curves, &PerturbationCurves::deletion);
    s.insertion = mean_curve(curves, &PerturbationCurves::insertion);
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace vitscope
