// The ViT's explanation maps from one image's tape and class gradient.
#include <algorithm>
#include <vector>

#include <xtensor/xview.hpp>

#include "vitscope/core/error.hpp"
#include "vitscope/maps/explanations.hpp"

namespace vitscope {

AttentionMaps attention_maps_of(const VitTape& tape) {
  AttentionMaps maps;
  for (const xt::xtensor<float, 3>& a : tape.attention) {
    xt::xtensor<float, 4> one = xt::xtensor<float, 4>::from_shape({1, a.shape(0), a.shape(1), a.shape(2)});
    std::copy(a.begin(), a.end(), one.begin());
    maps.push_back(std::move(one));
  }
  return maps;
}

xt::xtensor<float, 2> gradient_weighted_rollout(const VitTape& tape, const VitGradient& class_gradient,
                                                const TokenLayout& layout) {
  const std::size_t T = static_cast<std::size_t>(tape.tokens);
  if (class_gradient.attention.size() != tape.attention.size())
    throw ConfigError("gradient-weighted rollout: the class gradient has no attention gradients");
  // relevance[T, T] (row i: how much token i's representation draws on each token), in double.
  std::vector<double> relevance(T * T, 0.0), fused(T * T), next(T * T);
  for (std::size_t i = 0; i < T; ++i) relevance[i * T + i] = 1.0;
  for (std::size_t l = 0; l < tape.attention.size(); ++l) {
    const xt::xtensor<float, 3>& a = tape.attention[l];
    const xt::xtensor<float, 3>& g = class_gradient.attention[l];
    const std::size_t heads = a.shape(0);
    std::fill(fused.begin(), fused.end(), 0.0);
    for (std::size_t h = 0; h < heads; ++h)
      for (std::size_t i = 0; i < T * T; ++i)
        fused[i] += std::max(0.0, static_cast<double>(a.data()[h * T * T + i]) * g.data()[h * T * T + i]) /
                    static_cast<double>(heads);
    next = relevance;  // R + Ā·R
    for (std::size_t i = 0; i < T; ++i)
      for (std::size_t k = 0; k < T; ++k) {
        const double f = fused[i * T + k];
        if (f == 0.0) continue;
        const double* row = relevance.data() + k * T;
        double* out = next.data() + i * T;
        for (std::size_t j = 0; j < T; ++j) out[j] += f * row[j];
      }
    relevance.swap(next);
  }
  const std::size_t prefix = static_cast<std::size_t>(layout.prefix);
  xt::xtensor<float, 2> map = xt::zeros<float>({static_cast<std::size_t>(layout.grid_h), static_cast<std::size_t>(layout.grid_w)});
  for (std::size_t j = prefix; j < T; ++j) {
    double v = 0;
    if (prefix > 0) {
      v = relevance[j];  // row 0: the class token
    } else {
      for (std::size_t i = 0; i < T; ++i) v += relevance[i * T + j];
      v /= static_cast<double>(T);
    }
    map.data()[j - prefix] = static_cast<float>(v);
  }
  return map;
}

xt::xtensor<float, 2> input_times_gradient(const xt::xtensor<float, 3>& image, const xt::xtensor<float, 3>& gradient,
                                           int patch_size) {
  const std::size_t H = image.shape(1), W = image.shape(2), P = static_cast<std::size_t>(patch_size);
  if (gradient.shape() != image.shape() || H % P != 0 || W % P != 0)
    throw ConfigError("input x gradient: image and gradient shapes differ or are not whole patches");
  xt::xtensor<float, 2> map = xt::zeros<float>({H / P, W / P});
  for (std::size_t c = 0; c < image.shape(0); ++c)
    for (std::size_t y = 0; y < H; ++y)
      for (std::size_t x = 0; x < W; ++x) map(y / P, x / P) += image(c, y, x) * gradient(c, y, x);
  return map;
}

xt::xtensor<float, 2> vit_explanation(ExplanationMethod method, const VitModel& model, const VitEvidence& e,
                                      const ExplanationOptions& options) {
  if (method == ExplanationMethod::Random || method == ExplanationMethod::Gaussian) {
    const int P = model.config().patch_size;
    const int gh = static_cast<int>(e.image->shape(1)) / P, gw = static_cast<int>(e.image->shape(2)) / P;
    return method == ExplanationMethod::Random
               ? random_map(gh, gw, options.seed + static_cast<std::uint64_t>(options.image_index))
               : gaussian_map(gh, gw);
  }
  if (!e.tape) throw ConfigError("explanation: the attention methods need the image's forward tape");
  const VitTape& tape = *e.tape;
  const TokenLayout layout = token_layout(model, tape.height, tape.width);
  auto need_gradient = [&] {
    if (!e.class_gradient) throw ConfigError("explanation: the gradient methods need the class gradient");
    return e.class_gradient;
  };
  switch (method) {
    case ExplanationMethod::RawAttention: {
      if (layout.prefix == 0) throw ConfigError("raw-attention: the model has no class token");
      const xt::xtensor<float, 3> heads =
          class_token_attention(attention_maps_of(tape), static_cast<int>(tape.attention.size()) - 1, 0, layout);
      return xt::mean(heads, {0});
    }
    case ExplanationMethod::Rollout:
      if (layout.prefix == 0) throw ConfigError("rollout: the model has no class token");
      return attention_rollout(attention_maps_of(tape), 0, layout, options.rollout);
    case ExplanationMethod::GradientRollout:
      return gradient_weighted_rollout(tape, *need_gradient(), layout);
    case ExplanationMethod::InputGradient:
      return input_times_gradient(*e.image, need_gradient()->image, layout.patch_size);
    case ExplanationMethod::Random:
    case ExplanationMethod::Gaussian:
    case ExplanationMethod::Cam:
    case ExplanationMethod::GradCam:
      break;
  }
  throw ConfigError(std::string(explanation_method_info(method).name) + " is a CNN map, not a ViT one");
}

}  // namespace vitscope
