// Binding a timm-layout checkpoint to VitModel: the config comes from tensor shapes (and the
// manifest for heads), every tensor's shape is checked, and no tensor may be left unused.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdint>
#include <set>
#include <string>

#include "models/tensor_binder.hpp"
#include "models/vit_weights.hpp"
#include "vitscope/core/error.hpp"

namespace vitscope {
namespace {

using Shape = TensorShape;

// The precision of the linear layer `name` ("blocks.3.mlp.fc2"): int8 unless spec.keep_fp32 names it.
Precision layer_precision(const ModelSpec& spec, const std::string& name) {
  if (spec.precision != Precision::Int8) return spec.precision;
  for (const std::string& kept : spec.keep_fp32) {
    if (name == kept) return Precision::Fp32;
    if (name.size() > kept.size() && name.compare(name.size() - kept.size(), kept.size(), kept) == 0 &&
        name[name.size() - kept.size() - 1] == '.')
      return Precision::Fp32;
  }
  return Precision::Int8;
}

// Every entry of spec.keep_fp32 must name a layer of this model (a typo would quietly keep nothing).
void check_kept_layers(const ModelSpec& spec, int depth) {
  std::vector<std::string> layers = {"patch_embed", "head"};
  for (int i = 0; i < depth; ++i)
    for (const char* layer : {"attn.qkv", "attn.proj", "mlp.fc1", "mlp.fc2"})
      layers.push_back("blocks." + std::to_string(i) + "." + layer);
  for (const std::string& kept : spec.keep_fp32) {
    ModelSpec only = spec;
    only.keep_fp32 = {kept};
    const bool found = std::any_of(layers.begin(), layers.end(), [&](const std::string& layer) {
      return layer_precision(only, layer) == Precision::Fp32;
    });
    if (!found)
      throw ConfigError("--keep-fp32 " + kept + ": no such layer (patch_embed, head, blocks.N.attn.qkv, "
                        "blocks.N.attn.proj, blocks.N.mlp.fc1, blocks.N.mlp.fc2, or one without blocks.N.)");
  }
}

// A Linear layer <prefix>.weight (stored as `stored`, else [out, in]) and <prefix>.bias, packed
// for the model's precision.
PackedLinear bind_linear(TensorBinder& bind, const std::string& prefix, std::int64_t out,
                         std::int64_t in, Precision precision, const Shape& stored = {}) {
  PackedLinear layer;
  layer.weight = bind.linear_weight(prefix + ".weight", out, in, precision, stored);
  layer.bias = bind.vector(prefix + ".bias", {out});
  return layer;
}

LayerNormParams bind_layernorm(TensorBinder& bind, const std::string& prefix, std::int64_t width) {
  return {bind.vector(prefix + ".weight", {width}), bind.vector(prefix + ".bias", {width})};
}

// 1 + the largest N of any "blocks.N.*" tensor: a block that lacks a tensor is then reported as
// missing that tensor, not as a shorter model with unexpected leftovers.
int count_blocks(const SafeTensors& file) {
  int depth = 0;
  for (const std::string& name : file.names()) {
    if (name.compare(0, 7, "blocks.") != 0) continue;
    const std::size_t dot = name.find('.', 7);
    if (dot == std::string::npos || dot == 7 || dot - 7 > 4) continue;
    const std::string number = name.substr(7, dot - 7);
    if (number.find_first_not_of("0123456789") != std::string::npos) continue;
    depth = std::max(depth, std::stoi(number) + 1);
  }
  return depth;
}

int metadata_int(const SafeTensors& file, const std::string& key) {
  auto it = file.metadata().find(key);
  if (it == file.metadata().end()) return 0;
  try {
    return std::stoi(it->second);
  } catch (const std::exception&) {
    throw WeightsError(file.path() + ": metadata '" + key + "' is not an integer: " + it->second);
  }
}

// The patch grid pos_embed was trained for: metadata, else the spec's input size, else a square.
std::pair<int, int> trained_grid(const SafeTensors& file, const ModelSpec& spec, int grid_tokens) {
  const int meta_h = metadata_int(file, "pos_grid_h"), meta_w = metadata_int(file, "pos_grid_w");
  if (meta_h > 0 && meta_w > 0 && meta_h * meta_w == grid_tokens) return {meta_h, meta_w};
  const int spec_h = spec.preprocess.input_height / spec.patch_size;
  const int spec_w = spec.preprocess.input_width / spec.patch_size;
  if (spec_h * spec_w == grid_tokens) return {spec_h, spec_w};
  const int side = static_cast<int>(std::lround(std::sqrt(static_cast<double>(grid_tokens))));
  if (side * side == grid_tokens) return {side, side};
  const int with_prefix = static_cast<int>(std::lround(std::sqrt(static_cast<double>(grid_tokens - 1))));
  if (!file.contains("cls_token") && with_prefix * with_prefix == grid_tokens - 1)
    throw WeightsError(file.path() + ": no tensor 'cls_token' (pos_embed has " + std::to_string(grid_tokens) +
                       " positions: a class token and a " + std::to_string(with_prefix) + "x" +
                       std::to_string(with_prefix) + " grid)");
  throw WeightsError(file.path() + ": pos_embed has " + std::to_string(grid_tokens) +
                     " grid positions, which is not the input size's grid nor a square");
}

}  // namespace

VitModel::VitModel() : session_key_(Session::new_owner_key()) {}

std::unique_ptr<VitModel> VitModel::load(const SafeTensors& file, const ModelSpec& spec,
                                         ThreadPool* pool) {
  const std::string& path = file.path();
  if (!file.contains("patch_embed.proj.weight") || !file.contains("blocks.0.attn.qkv.weight"))
    throw WeightsError(path + ": not a ViT checkpoint in timm layout (no tensor "
                              "'patch_embed.proj.weight' or 'blocks.0.attn.qkv.weight')");
  std::unique_ptr<VitModel> model(new VitModel());
  model->spec_ = spec;
  model->weights_ = std::make_unique<Weights>();
  VitConfig& c = model->config_;
  Weights& w = *model->weights_;
  TensorBinder bind(file, "a ViT in timm layout", pool);

  const Shape& patch_shape = bind.shape("patch_embed.proj.weight");  // [D, 3, P, P]
  if (patch_shape.size() != 4 || patch_shape[1] != 3 || patch_shape[2] != patch_shape[3] ||
      patch_shape[0] <= 0 || patch_shape[2] <= 0)
    throw WeightsError(path + ": tensor 'patch_embed.proj.weight' has shape " +
                       shape_to_string(patch_shape) + ", expected [width,3,patch,patch]");
  c.width = static_cast<int>(patch_shape[0]);
  c.patch_size = static_cast<int>(patch_shape[2]);
  c.depth = count_blocks(file);
  c.layernorm_eps = spec.layernorm_eps;
  c.pos_embed_antialias = spec.pos_embed_antialias;
  c.precision = spec.precision;
  c.heads = spec.heads > 0 ? spec.heads : metadata_int(file, "heads");
  if (c.heads <= 0) c.heads = std::max(1, c.width / 64);
  if (c.width % c.heads != 0)
    throw WeightsError(path + ": width " + std::to_string(c.width) + " is not divisible by " +
                       std::to_string(c.heads) + " heads");
  const bool has_cls = bind.has("cls_token"), has_dist = bind.has("dist_token");
  if (has_dist && !has_cls) throw WeightsError(path + ": dist_token without cls_token");
  c.prefix_tokens = (has_cls ? 1 : 0) + (has_dist ? 1 : 0);
  c.fc_norm = bind.has("fc_norm.weight");
  c.pooling = has_dist ? VitPooling::Distilled
                       : (has_cls && !c.fc_norm ? VitPooling::ClassToken : VitPooling::Mean);
  if (!bind.has("head.weight")) throw WeightsError(path + ": no tensor 'head.weight'");
  c.num_classes = static_cast<int>(bind.shape("head.weight").at(0));
  c.mlp_hidden = static_cast<int>(bind.shape("blocks.0.mlp.fc1.weight").at(0));
  const std::int64_t D = c.width, P = c.patch_size;

  // The 16×16 stride-16 convolution is a GEMM over patches: [D, 3, P, P] read as [D, 3·P·P].
  w.patch_embed =
      bind_linear(bind, "patch_embed.proj", D, 3 * P * P, layer_precision(spec, "patch_embed"), {D, 3, P, P});
  if (has_cls) w.cls_token = bind.vector("cls_token", {1, 1, D});
  if (has_dist) w.dist_token = bind.vector("dist_token", {1, 1, D});

  if (!bind.has("pos_embed")) throw WeightsError(path + ": no tensor 'pos_embed'");
  const std::int64_t pos_tokens = bind.shape("pos_embed").size() == 3 ? bind.shape("pos_embed")[1] : -1;
  const int grid_tokens = static_cast<int>(pos_tokens - c.prefix_tokens);
  if (grid_tokens <= 0)
    throw WeightsError(path + ": tensor 'pos_embed' has shape " +
                       shape_to_string(bind.shape("pos_embed")) + ", expected [1,tokens," +
                       std::to_string(D) + "]");
  std::tie(c.pos_grid_h, c.pos_grid_w) = trained_grid(file, spec, grid_tokens);
  xt::xarray<float> pos = bind.take("pos_embed", {1, pos_tokens, D});
  w.pos_embed = xt::xtensor<float, 2>::from_shape({static_cast<std::size_t>(pos_tokens),
                                                   static_cast<std::size_t>(D)});
  std::copy(pos.begin(), pos.end(), w.pos_embed.begin());

  for (int i = 0; i < c.depth; ++i) {
    const std::string scope = "blocks." + std::to_string(i) + ".";
    TensorBinder b = bind.scope(scope);
    auto at = [&](const char* layer) { return layer_precision(spec, scope + layer); };
    VitBlockWeights block;
    block.norm1 = bind_layernorm(b, "norm1", D);
    block.qkv = bind_linear(b, "attn.qkv", 3 * D, D, at("attn.qkv"));
    block.proj = bind_linear(b, "attn.proj", D, D, at("attn.proj"));
    block.norm2 = bind_layernorm(b, "norm2", D);
    block.fc1 = bind_linear(b, "mlp.fc1", c.mlp_hidden, D, at("mlp.fc1"));
    block.fc2 = bind_linear(b, "mlp.fc2", D, c.mlp_hidden, at("mlp.fc2"));
    w.blocks.push_back(std::move(block));
  }
  w.final_norm = bind_layernorm(bind, c.fc_norm ? "fc_norm" : "norm", D);
  w.head = bind_linear(bind, "head", c.num_classes, D, layer_precision(spec, "head"));
  if (has_dist) w.head_dist = bind_linear(bind, "head_dist", c.num_classes, D, layer_precision(spec, "head"));
  bind.check_all_used();
  if (spec.precision == Precision::Int8) check_kept_layers(spec, c.depth);
  w.parameters = bind.parameters();
  return model;
}

ModelSummary VitModel::summary() const {
  const VitConfig& c = config_;
  const std::int64_t D = c.width, P = c.patch_size, H = c.mlp_hidden;
  const std::int64_t grid = static_cast<std::int64_t>(spec_.preprocess.input_height / P) *
                            (spec_.preprocess.input_width / P);
  const std::int64_t T = grid + c.prefix_tokens;
  const std::int64_t per_block = T * D * 3 * D   // qkv
                                 + 2 * T * T * D  // q·kᵀ and p·v over all heads
                                 + T * D * D      // proj
                                 + 2 * T * D * H; // fc1, fc2
  const std::int64_t heads_out = (c.pooling == VitPooling::Distilled ? 2 : 1) * D * c.num_classes;
  ModelSummary s;
  s.architecture = "vit";
  s.parameters = weights_->parameters;
  s.macs_per_image = grid * D * 3 * P * P + c.depth * per_block + heads_out;
  const char* pooling = c.pooling == VitPooling::ClassToken ? "class token"
                        : c.pooling == VitPooling::Distilled ? "class + distillation tokens"
                                                              : "mean of patch tokens";
  const PreprocessConfig& p = spec_.preprocess;
  auto triple = [](const std::array<float, 3>& v) {
    char buf[96];
    std::snprintf(buf, sizeof buf, "(%.4g, %.4g, %.4g)", v[0], v[1], v[2]);
    return std::string(buf);
  };
  char crop[32];
  std::snprintf(crop, sizeof crop, "%.4g", p.crop_pct);
  s.config = {
      {"input size", std::to_string(p.input_height) + "x" + std::to_string(p.input_width)},
      {"patch size", std::to_string(c.patch_size) + "x" + std::to_string(c.patch_size)},
      {"tokens", std::to_string(T) + " (" + std::to_string(grid) + " patches + " +
                     std::to_string(c.prefix_tokens) + " prefix)"},
      {"trained patch grid", std::to_string(c.pos_grid_h) + "x" + std::to_string(c.pos_grid_w)},
      {"width", std::to_string(c.width)},
      {"depth", std::to_string(c.depth)},
      {"heads", std::to_string(c.heads) + " (head dim " + std::to_string(c.head_dim()) + ")"},
      {"mlp hidden", std::to_string(c.mlp_hidden)},
      {"layernorm eps", [&] { char b[32]; std::snprintf(b, sizeof b, "%g", c.layernorm_eps); return std::string(b); }()},
      {"classifier", pooling},
      {"classes", std::to_string(c.num_classes)},
      {"preprocess", std::string("resize ") + interpolation_name(p.interpolation) + ", crop_pct " +
                         crop + ", mean " + triple(p.mean) + ", std " + triple(p.std)},
  };
  return s;
}

}  // namespace vitscope
