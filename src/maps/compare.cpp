// One photo through both models: predictions, explanation maps, and how far each sees by depth.
#include "vitscope/maps/compare.hpp"

#include <algorithm>

#include "vitscope/core/error.hpp"
#include "vitscope/maps/map_overlap.hpp"
#include "vitscope/models/predictions.hpp"
#include "vitscope/maps/vit_receptive_fields.hpp"
#include "vitscope/preprocess/preprocess.hpp"

namespace vitscope {
namespace {

xt::xtensor<float, 4> as_batch(const xt::xtensor<float, 3>& image) {
  xt::xtensor<float, 4> batch =
      xt::xtensor<float, 4>::from_shape({1, image.shape(0), image.shape(1), image.shape(2)});
  std::copy(image.begin(), image.end(), batch.begin());
  return batch;
}

bool same_geometry(const PreprocessConfig& a, const PreprocessConfig& b) {
  return a.input_height == b.input_height && a.input_width == b.input_width && a.crop_pct == b.crop_pct;
}

bool needs_vit_gradient(const std::vector<ExplanationMethod>& methods) {
  return std::any_of(methods.begin(), methods.end(), [](ExplanationMethod m) {
    return m == ExplanationMethod::GradientRollout || m == ExplanationMethod::InputGradient;
  });
}

// The ViT half: logits, attention, reach by block, and its maps.
void compare_vit(const VitModel& vit, const VitBackprop* backprop, Session& session, const xt::xtensor<float, 3>& input,
                 const std::vector<std::string>& labels, const CompareOptions& options, Comparison& c) {
  const PreprocessConfig& config = vit.spec().preprocess;
  const TokenLayout layout = token_layout(vit, config.input_height, config.input_width);
  AttentionMaps attention;
  xt::xtensor<float, 1> logits;
  VitTape tape;
  if (backprop) {
    tape = backprop->record(input, session);
    logits = tape.logits;
    attention = attention_maps_of(tape);
  } else {
    VitForwardOptions record;
    record.record_attention = true;
    const xt::xtensor<float, 2> batch_logits = vit.forward(as_batch(input), session, record);
    logits = xt::xtensor<float, 1>::from_shape({batch_logits.shape(1)});
    std::copy(batch_logits.begin(), batch_logits.end(), logits.begin());
    attention = session.recording().attention;
  }
  require_finite_logits(logits.data(), vit.num_classes(), vit.spec().name);  // no maps of a broken model
  c.vit_top = top_k(logits.data(), vit.num_classes(), options.topk, labels);
  c.vit_class = options.explained_class >= 0 ? options.explained_class : c.vit_top.front().class_index;
  c.rollout = attention_rollout(attention, 0, layout, options.rollout);
  c.vit_layer = options.vit_layer < 0 ? static_cast<int>(attention.size()) - 1 : options.vit_layer;
  c.head_attention = class_token_attention(attention, c.vit_layer, 0, layout);
  c.attention_distance = mean_attention_distance(attention, layout);

  const int depth = static_cast<int>(attention.size()), heads = static_cast<int>(c.attention_distance.shape(1));
  for (int l = 0; l < depth; ++l) {
    VitBlockReach r;
    r.block = l;
    for (int h = 0; h < heads; ++h) {
      r.per_head.push_back(c.attention_distance(l, h));
      r.mean_attention_distance += c.attention_distance(l, h) / heads;
    }
    c.vit_reach.push_back(r);
  }
  if (backprop && options.effective_fields) {
    std::vector<int> blocks(static_cast<std::size_t>(depth));
    for (int l = 0; l < depth; ++l) blocks[l] = l;
    c.vit_erf_token = centre_patch_token(vit, tape);
    for (const VitEffectiveReceptiveField& erf : vit_effective_receptive_fields(*backprop, tape, session, blocks, c.vit_erf_token))
      c.vit_reach[erf.block].erf = erf.spread;
    if (layout.prefix > 0)
      c.vit_class_erf = vit_effective_receptive_fields(*backprop, tape, session, {depth - 1}, 0).front().spread;
  }

  VitGradient gradient;
  if (backprop && needs_vit_gradient(options.methods)) {
    std::vector<float> one_hot(static_cast<std::size_t>(vit.num_classes()), 0.0f);
    one_hot[static_cast<std::size_t>(c.vit_class)] = 1.0f;
    gradient = backprop->from_logits(tape, one_hot, true, session);
  }
  const VitEvidence evidence{&input, backprop ? &tape : nullptr, backprop ? &gradient : nullptr};
  for (ExplanationMethod m : options.methods) {
    if (!explanation_method_info(m).vit) continue;
    if (m == ExplanationMethod::Rollout) {
      c.vit_maps.push_back({m, c.rollout});
    } else if (m == ExplanationMethod::RawAttention) {
      c.vit_maps.push_back({m, xt::mean(class_token_attention(attention, depth - 1, 0, layout), {0})});
    } else {
      if (!backprop && m != ExplanationMethod::Random && m != ExplanationMethod::Gaussian)
        throw ConfigError(std::string(explanation_method_info(m).name) + ": needs the ViT's gradients (an fp32 model)");
      c.vit_maps.push_back({m, vit_explanation(m, vit, evidence, options.explanation)});
    }
  }
}

}  // namespace

Comparison compare_models(const VitModel& vit, const VitBackprop* backprop, const CnnModel& cnn, Session& session,
                          const RgbImage& photo, const std::vector<std::string>& labels,
                          const CompareOptions& options) {
  if (options.explained_class >= std::min(vit.num_classes(), cnn.num_classes()))
    throw ConfigError("class " + std::to_string(options.explained_class) + " is out of range (the models have " +
                      std::to_string(std::min(vit.num_classes(), cnn.num_classes())) + " classes)");
  Comparison c;
  const PreprocessConfig& vit_config = vit.spec().preprocess;
  const PreprocessConfig& cnn_config = cnn.spec().preprocess;
  c.same_frame = same_geometry(vit_config, cnn_config);

  c.vit_view = resize_and_crop(photo, vit_config);
  compare_vit(vit, backprop, session, normalize_image(c.vit_view, vit_config.mean, vit_config.std), labels, options, c);

  // CNN: logits and the class activation map, then its other maps and how far every layer sees.
  c.cnn_view = resize_and_crop(photo, cnn_config);
  const xt::xtensor<float, 3> cnn_input = normalize_image(c.cnn_view, cnn_config.mean, cnn_config.std);
  const ClassActivation cam = class_activation_map(cnn, session, cnn_input, options.explained_class);
  require_finite_logits(cam.logits.data(), cnn.num_classes(), cnn.spec().name);
  c.cnn_top = top_k(cam.logits.data(), cnn.num_classes(), options.topk, labels);
  c.cam_class = cam.class_index;
  c.cam_label = c.cam_class < static_cast<int>(labels.size()) ? labels[c.cam_class]
                                                              : "class " + std::to_string(c.cam_class);
  c.cam = cam.map;
  for (ExplanationMethod m : options.methods) {
    if (!explanation_method_info(m).cnn || explanation_method_info(m).vit) continue;  // baselines: once, with the ViT's
    c.cnn_maps.push_back({m, m == ExplanationMethod::Cam ? c.cam
                                                          : cnn_explanation(m, cnn, session, cnn_input, c.cam_class,
                                                                            options.explanation)});
  }
  c.cnn_reach = options.effective_fields ? layer_reach(cnn, session, cnn_input, {})
                                         : layer_reach(cnn, cnn_config.input_height, cnn_config.input_width);

  const int h = static_cast<int>(c.vit_view.shape(0)), w = static_cast<int>(c.vit_view.shape(1));
  c.top_region_iou = top_region_iou(c.rollout, c.cam, options.top_fraction, h, w);
  c.map_correlation = map_correlation(c.rollout, c.cam, h, w);
  return c;
}

}  // namespace vitscope
