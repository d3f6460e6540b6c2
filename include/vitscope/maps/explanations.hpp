#pragma once
// Explanation maps: where a model's evidence for a class lies, by several methods, and two
// baselines a faithful map must beat. The ViT methods read one image's forward tape and the
// gradient of the explained class's logit (VitBackprop); the CNN methods run the CNN.
#include <cstdint>
#include <string>
#include <vector>

#include <xtensor/xtensor.hpp>

#include "vitscope/maps/vit_maps.hpp"
#include "vitscope/models/cnn.hpp"
#include "vitscope/models/vit_backprop.hpp"

namespace vitscope {

enum class ExplanationMethod {
  RawAttention,     // ViT: the class token's attention in the last block, mean over heads
  Rollout,          // ViT: attention rollout (Abnar & Zuidema, 2020), as attention_rollout()
  GradientRollout,  // ViT: generic attention explainability (Chefer et al., ICCV 2021)
  InputGradient,    // ViT: input × gradient per patch (Shrikumar et al., 2016)
  Cam,              // CNN: class activation map (Zhou et al., 2016)
  GradCam,          // CNN: Grad-CAM at a chosen layer (Selvaraju et al., 2017)
  Random,           // baseline: uniform random values per patch, fixed seed per image
  Gaussian,         // baseline: a centred Gaussian, σ a quarter of the grid's side
};

struct ExplanationMethodInfo {
  ExplanationMethod method;
  const char* name;         // as on the command line: "raw-attention", "rollout", "grad-rollout", ...
  bool vit, cnn;            // which models it applies to
  const char* description;  // one line
};
const std::vector<ExplanationMethodInfo>& explanation_methods();
const ExplanationMethodInfo& explanation_method_info(ExplanationMethod method);
ExplanationMethod parse_explanation_method(const std::string& name);  // ConfigError naming the known ones
// "rollout,cam,..." → the methods, in order; ConfigError "<option>: ..." when empty or unknown.
std::vector<ExplanationMethod> parse_explanation_methods(const std::string& list, const std::string& option);

struct ExplanationOptions {
  RolloutOptions rollout;      // for Rollout
  int gradcam_layer = -1;      // Grad-CAM's layer (index into the CNN's layers); -1: default_gradcam_layer()
  std::uint64_t seed = 0;      // Random: the map of image i is drawn with seed + i
  int image_index = 0;
};

// What the ViT methods read of one image: its tape, and the gradient of the explained class's
// logit (with the attention gradients) for the gradient methods.
struct VitEvidence {
  const xt::xtensor<float, 3>* image = nullptr;  // [3, H, W], the preprocessed input
  const VitTape* tape = nullptr;
  const VitGradient* class_gradient = nullptr;   // from_logits(one-hot, attention_gradients = true)
};

// ViT maps on the patch grid, [grid_h, grid_w]; ConfigError for a CNN-only method.
xt::xtensor<float, 2> vit_explanation(ExplanationMethod method, const VitModel& model, const VitEvidence& evidence,
                                      const ExplanationOptions& options);

// CNN maps at their layer's resolution, [h, w] (the baselines on the grid of the image's 16-pixel
// patches, as for a ViT); ConfigError for a ViT-only method. class_index must be valid.
xt::xtensor<float, 2> cnn_explanation(ExplanationMethod method, const CnnModel& model, Session& session,
                                      const xt::xtensor<float, 3>& image, int class_index,
                                      const ExplanationOptions& options);

// ---- the pieces -------------------------------------------------------------------------------

// The tape's attention as AttentionMaps of one image ([1, heads, T, T] per block).
AttentionMaps attention_maps_of(const VitTape& tape);

// Chefer et al. (ICCV 2021), for ViTs: R = I [T, T]; for each block in order,
// R ← R + mean_heads((∂y/∂A ⊙ A)⁺) · R; the map is the class token's row over the patches
// (without a class token: the mean of R's rows over the patches).
xt::xtensor<float, 2> gradient_weighted_rollout(const VitTape& tape, const VitGradient& class_gradient,
                                                const TokenLayout& layout);

// Σ over each patch's pixels and channels of image ⊙ gradient: the first-order share of the logit
// each patch carries (signed), [grid_h, grid_w].
xt::xtensor<float, 2> input_times_gradient(const xt::xtensor<float, 3>& image, const xt::xtensor<float, 3>& gradient,
                                           int patch_size);

// Grad-CAM's default layer: the last one (up to the pooled features) whose units are 16 input
// pixels apart, i.e. on a ViT/16's patch grid (MobileNet v1: conv_pw_11; a ResNet: the end of
// layer3); the pooled features when there is none. At the pooled features Grad-CAM is the CAM
// divided by h·w, so it would add nothing to the CAM.
int default_gradcam_layer(const CnnModel& model, int height, int width);

// Grad-CAM: ReLU(Σ_c α_c · A[y, x, c]) with α_c the mean over positions of ∂logit/∂A[·, ·, c].
xt::xtensor<float, 2> grad_cam(const CnnModel::LayerGradient& layer);

// Baselines on an h × w grid.
xt::xtensor<float, 2> random_map(int h, int w, std::uint64_t seed);
xt::xtensor<float, 2> gaussian_map(int h, int w);

// A map at any resolution → the mean over each patch_size × patch_size patch of the image of
// height × width, after bilinear resampling to the image (cv::resize, half-pixel centres): the
// relevance of each patch, [height / patch, width / patch]. A map already on that grid is returned as is.
xt::xtensor<float, 2> patch_relevance(const xt::xtensor<float, 2>& map, int height, int width, int patch_size);

}  // namespace vitscope
