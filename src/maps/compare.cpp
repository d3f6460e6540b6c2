#include "vitscope/maps/compare.hpp"

#include "vitscope/core/error.hpp"
#include "vitscope/maps/map_overlap.hpp"
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

}  // namespace

Comparison compare_models(const VitModel& vit, const CnnModel& cnn, Session& session,
                          const RgbImage& photo,
                          const std::vector<std::string>& labels, const CompareOptions& options) {
  Comparison c;
  const PreprocessConfig& vit_config = vit.spec().preprocess;
  const PreprocessConfig& cnn_config = cnn.spec().preprocess;
  c.same_frame = same_geometry(vit_config, cnn_config);

  // ViT: logits with every layer's attention.
  c.vit_view = resize_and_crop(photo, vit_config);
  VitForwardOptions record;
  record.record_attention = true;
  const xt::xtensor<float, 2> vit_logits = vit.forward(
      as_batch(normalize_image(c.vit_view, vit_config.mean, vit_config.std)), session, record);
  const AttentionMaps& attention = session.recording().attention;
  c.vit_top = top_k(vit_logits.data(), vit.num_classes(), options.topk, labels);
  const TokenLayout layout = token_layout(vit, vit_config.input_height, vit_config.input_width);
  c.rollout = attention_rollout(attention, 0, layout, options.rollout);
  c.vit_layer = options.vit_layer < 0 ? static_cast<int>(attention.size()) - 1 : options.vit_layer;
  c.head_attention = class_token_attention(attention, c.vit_layer, 0, layout);
  c.attention_distance = mean_attention_distance(attention, layout);

  // CNN: logits and the class activation map, then how far every layer sees.
  c.cnn_view = resize_and_crop(photo, cnn_config);
  const xt::xtensor<float, 3> cnn_input = normalize_image(c.cnn_view, cnn_config.mean, cnn_config.std);
  if (options.cnn_class >= cnn.num_classes())
    throw ConfigError("class " + std::to_string(options.cnn_class) + " is out of range (the CNN has " +
                      std::to_string(cnn.num_classes()) + " classes)");
  const ClassActivation cam = class_activation_map(cnn, session, cnn_input, options.cnn_class);
  c.cnn_top = top_k(cam.logits.data(), cnn.num_classes(), options.topk, labels);
  c.cam_class = cam.class_index;
  c.cam_label = c.cam_class < static_cast<int>(labels.size()) ? labels[c.cam_class]
                                                              : "class " + std::to_string(c.cam_class);
  c.cam = cam.map;
  c.cnn_reach = options.effective_fields ? layer_reach(cnn, session, cnn_input, {})
                                         : layer_reach(cnn, cnn_config.input_height, cnn_config.input_width);

  const int h = static_cast<int>(c.vit_view.shape(0)), w = static_cast<int>(c.vit_view.shape(1));
  c.top_region_iou = top_region_iou(c.rollout, c.cam, options.top_fraction, h, w);
  c.map_correlation = map_correlation(c.rollout, c.cam, h, w);
  return c;
}

}  // namespace vitscope
