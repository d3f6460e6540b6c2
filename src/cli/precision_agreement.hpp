#pragma once
// `vitscope validate --against PRECISION`: how a model's outputs at its precision agree, image by
// image, with the same model's at another (int8 or bf16 against fp32): top-1 agreement with a 95%
// Wilson interval, KL(p_reference ‖ p) in nats with a 95% bootstrap interval of its mean, and the
// largest and mean absolute logit difference.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace vitscope::cli {

class PrecisionAgreement {
 public:
  // One image's logits at the run's precision and at the reference's, `classes` each.
  void add(const float* logits, const float* reference_logits, int classes);

  int images() const { return static_cast<int>(kl_.size()); }
  // "against fp32 on 100 images: top-1 agreement ..." (several lines).
  std::string summary(const std::string& precision, const std::string& reference) const;
  nlohmann::json to_json(const std::string& reference) const;

 private:
  int top1_agree_ = 0;
  std::vector<double> kl_;
  double worst_logit_difference_ = 0, sum_logit_difference_ = 0;
  long long logits_ = 0;
};

}  // namespace vitscope::cli
