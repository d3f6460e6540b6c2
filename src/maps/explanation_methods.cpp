// The explanation methods by name, and which model each applies to.
#include <algorithm>
#include <sstream>

#include "vitscope/core/error.hpp"
#include "vitscope/maps/explanations.hpp"

namespace vitscope {

const std::vector<ExplanationMethodInfo>& explanation_methods() {
  static const std::vector<ExplanationMethodInfo> methods = {
      {ExplanationMethod::RawAttention, "raw-attention", true, false,
       "class-token attention of the last block, mean over heads"},
      {ExplanationMethod::Rollout, "rollout", true, false,
       "attention rollout: (A + I) / 2 per block, multiplied through the blocks (Abnar & Zuidema, 2020)"},
      {ExplanationMethod::GradientRollout, "grad-rollout", true, false,
       "R <- R + mean over heads of (dA * A)+ . R from the identity (Chefer et al., ICCV 2021)"},
      {ExplanationMethod::InputGradient, "input-x-gradient", true, false,
       "image * d(logit)/d(image), summed per patch (Shrikumar et al., 2016)"},
      {ExplanationMethod::Cam, "cam", false, true,
       "class activation map of the pooled features (Zhou et al., 2016)"},
      {ExplanationMethod::GradCam, "grad-cam", false, true,
       "Grad-CAM at a chosen layer (Selvaraju et al., 2017)"},
      {ExplanationMethod::Random, "random", true, true, "baseline: uniform random per patch, fixed seed"},
      {ExplanationMethod::Gaussian, "gaussian", true, true,
       "baseline: centred Gaussian, sigma a quarter of the side"},
  };
  return methods;
}

const ExplanationMethodInfo& explanation_method_info(ExplanationMethod method) {
  for (const ExplanationMethodInfo& info : explanation_methods())
    if (info.method == method) return info;
  throw ConfigError("unknown explanation method");
}

ExplanationMethod parse_explanation_method(const std::string& name) {
  std::string known;
  for (const ExplanationMethodInfo& info : explanation_methods()) {
    if (name == info.name) return info.method;
    known += (known.empty() ? "" : ", ") + std::string(info.name);
  }
  throw ConfigError("unknown map method '" + name + "' (known: " + known + ")");
}

std::vector<ExplanationMethod> parse_explanation_methods(const std::string& list, const std::string& option) {
  std::vector<ExplanationMethod> methods;
  std::stringstream in(list);
  std::string name;
  while (std::getline(in, name, ','))
    if (!name.empty()) methods.push_back(parse_explanation_method(name));
  if (methods.empty()) throw ConfigError(option + ": no method given");
  return methods;
}

}  // namespace vitscope
