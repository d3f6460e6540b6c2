#include "vitscope/core/error.hpp"
#include "vitscope/maps/vit_maps.hpp"

namespace vitscope {

TokenLayout token_layout(const VitModel& model, int input_height, int input_width) {
  const VitConfig& c = model.config();
  return {c.prefix_tokens, input_height / c.patch_size, input_width / c.patch_size, c.patch_size};
}

HeadFusion parse_head_fusion(const std::string& name) {
  if (name == "mean") return HeadFusion::Mean;
  if (name == "max") return HeadFusion::Max;
  if (name == "min") return HeadFusion::Min;
  throw ConfigError("head fusion '" + name + "': expected mean, max or min");
}

const char* head_fusion_name(HeadFusion fusion) {
  switch (fusion) {
    case HeadFusion::Mean: return "mean";
    case HeadFusion::Max: return "max";
    case HeadFusion::Min: return "min";
  }
  return "?";
}

}  // namespace vitscope
