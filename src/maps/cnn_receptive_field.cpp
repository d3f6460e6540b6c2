// Theoretical receptive fields of a CNN's layers by the usual recurrence over kernel, stride and
// padding (Araujo et al., 2019), in input pixels.
#include <algorithm>
#include <stdexcept>

#include "vitscope/maps/cnn_maps.hpp"

namespace vitscope {

std::vector<ReceptiveField> theoretical_receptive_fields(const CnnModel& model, int height, int width) {
  const std::vector<CnnLayer>& layers = model.layers();
  const std::vector<CnnFeatureSize> sizes = model.feature_sizes(height, width);
  std::vector<ReceptiveField> fields(layers.size());  // layer 0, the image: one pixel per unit
  for (std::size_t i = 1; i < layers.size(); ++i) {
    const CnnLayer& l = layers[i];
    const ReceptiveField& in = fields[l.inputs[0]];
    ReceptiveField& out = fields[i];
    if (l.op == CnnOp::AddRelu) {
      // The union of the inputs' fields (same jump: the sum is element-wise).
      const ReceptiveField& other = fields[l.inputs[1]];
      if (other.jump != in.jump)
        throw std::logic_error("layer '" + l.name + "' adds maps of different strides");
      out.jump = in.jump;
      out.start_y = std::min(in.start_y, other.start_y);
      out.start_x = std::min(in.start_x, other.start_x);
      out.size = std::max(std::max(in.start_y + in.size, other.start_y + other.size) - out.start_y,
                          std::max(in.start_x + in.size, other.start_x + other.size) - out.start_x);
      continue;
    }
    const CnnFeatureSize& s = sizes[l.inputs[0]];
    const kernels::Padding2d pad = l.padding.resolve(s.height, s.width, l.kernel, l.stride);
    out.size = in.size + (l.kernel - 1) * in.jump;
    out.jump = in.jump * l.stride;
    out.start_y = in.start_y - pad.top * in.jump;
    out.start_x = in.start_x - pad.left * in.jump;
  }
  return fields;
}

}  // namespace vitscope
