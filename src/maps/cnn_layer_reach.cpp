// The per-layer table behind "how far each layer sees" plots: theoretical and effective field sizes.
#include "vitscope/maps/cnn_maps.hpp"

#include <cmath>

namespace vitscope {

double kernel_mean_distance(int kernel, int jump) {
  double sum = 0;
  const double centre = (kernel - 1) / 2.0;
  for (int i = 0; i < kernel; ++i)
    for (int j = 0; j < kernel; ++j) sum += std::hypot(i - centre, j - centre);
  return jump * sum / (static_cast<double>(kernel) * kernel);
}

std::vector<LayerReach> layer_reach(const CnnModel& model, int height, int width) {
  const std::vector<ReceptiveField> fields = theoretical_receptive_fields(model, height, width);
  std::vector<LayerReach> rows;
  for (std::size_t i = 1; i < model.layers().size(); ++i) {
    const CnnLayer& l = model.layers()[i];
    LayerReach r;
    r.layer = static_cast<int>(i);
    r.name = l.name;
    r.op = l.op;
    r.depth = l.depth;
    r.theoretical_size = fields[i].size;
    r.jump = fields[i].jump;
    if (l.op == CnnOp::Conv || l.op == CnnOp::DepthwiseConv || l.op == CnnOp::MaxPool)
      r.one_hop_mean_distance = kernel_mean_distance(l.kernel, fields[l.inputs[0]].jump);
    rows.push_back(r);
  }
  return rows;
}

std::vector<LayerReach> layer_reach(const CnnModel& model, Session& session,
                                    const xt::xtensor<float, 3>& image,
                                    const std::vector<int>& erf_layers, const ErfOptions& options) {
  std::vector<LayerReach> rows =
      layer_reach(model, static_cast<int>(image.shape(1)), static_cast<int>(image.shape(2)));
  std::vector<int> layers = erf_layers;
  if (layers.empty())
    for (const LayerReach& r : rows) layers.push_back(r.layer);
  for (const EffectiveReceptiveField& erf : effective_receptive_fields(model, session, image, layers, options)) {
    LayerReach& r = rows[erf.layer - 1];  // rows start at layer 1
    r.effective_size = erf.spread.size;
    r.effective_sigma = erf.spread.sigma;
    r.effective_mean_distance = erf.spread.mean_distance;
  }
  return rows;
}

}  // namespace vitscope
