// The numbers behind the receptive-field plot, for one image or as means over many.
#include <cmath>

#include "vitscope/core/error.hpp"
#include "vitscope/maps/compare.hpp"
#include "vitscope/maps/probe.hpp"

namespace vitscope {
namespace {

void add(CurveStat& curve, double value) {
  curve.mean.push_back(value);
  curve.low.push_back(value);
  curve.high.push_back(value);
}

CurveStat summarize(const std::vector<ReachCurves>& images, CurveStat ReachCurves::*member) {
  CurveStat out;
  const std::size_t points = (images.front().*member).mean.size();
  for (std::size_t i = 0; i < points; ++i) {
    std::vector<double> values;
    for (const ReachCurves& r : images) {
      if ((r.*member).mean.size() != points) throw ConfigError("receptive-field summary: curves of different lengths");
      if (std::isfinite((r.*member).mean[i])) values.push_back((r.*member).mean[i]);
    }
    if (values.empty()) {
      out.mean.push_back(NAN);
      out.low.push_back(NAN);
      out.high.push_back(NAN);
      continue;
    }
    const MeanInterval m = mean_interval(values);
    out.mean.push_back(m.mean);
    out.low.push_back(m.low);
    out.high.push_back(m.high);
  }
  return out;
}

}  // namespace

ReachCurves reach_curves(const Comparison& c) {
  ReachCurves r;
  const double blocks = static_cast<double>(c.vit_reach.size());
  for (const VitBlockReach& b : c.vit_reach) {
    r.vit_depth.push_back((b.block + 1) / blocks);
    add(r.vit_erf_size, b.erf.size);
    add(r.vit_erf_distance, b.erf.mean_distance);
    add(r.vit_attention_distance, b.mean_attention_distance);
    r.vit_head_distance.push_back(b.per_head);
  }
  int max_depth = 1;
  for (const LayerReach& l : c.cnn_reach) max_depth = std::max(max_depth, l.depth);
  for (const LayerReach& l : c.cnn_reach) {
    if (l.op == CnnOp::Input) continue;
    const double x = static_cast<double>(l.depth) / max_depth;
    r.cnn_depth.push_back(x);
    r.cnn_layers.push_back(l.name);
    add(r.cnn_erf_size, l.effective_size);
    add(r.cnn_erf_distance, l.effective_mean_distance);
    add(r.cnn_theoretical, l.theoretical_size);
    if (l.op == CnnOp::Conv || l.op == CnnOp::DepthwiseConv || l.op == CnnOp::MaxPool) {
      r.cnn_hop_depth.push_back(x);
      r.cnn_hop_layers.push_back(l.name);
      add(r.cnn_one_hop, l.one_hop_mean_distance);
    }
  }
  return r;
}

ReachCurves summarize_reach(const std::vector<ReachCurves>& images) {
  if (images.empty()) throw ConfigError("receptive-field summary: no images");
  ReachCurves out = images.front();
  out.images = static_cast<int>(images.size());
  out.vit_head_distance.clear();
  for (CurveStat ReachCurves::*member :
       {&ReachCurves::vit_erf_size, &ReachCurves::vit_erf_distance, &ReachCurves::vit_attention_distance,
        &ReachCurves::cnn_erf_size, &ReachCurves::cnn_erf_distance, &ReachCurves::cnn_theoretical,
        &ReachCurves::cnn_one_hop})
    out.*member = summarize(images, member);
  return out;
}

}  // namespace vitscope
