// The probe experiments: which variants each runs, and what it measures besides their scores.
#include "vitscope/maps/probe_experiments.hpp"

#include <algorithm>
#include <numeric>
#include <random>

#include "vitscope/core/error.hpp"

namespace vitscope {

WindowProbe probe_windows(VitProbe& probe, const std::vector<int>& windows,
                          const std::vector<int>& layer_counts) {
  const int depth = probe.model().config().depth;
  for (int k : windows)
    if (k <= 0 || k % 2 == 0)
      throw ConfigError("window " + std::to_string(k) + ": not a positive odd number of patches");
  for (int layers : layer_counts)
    if (layers < 1 || layers > depth)
      throw ConfigError("layers " + std::to_string(layers) + ": outside 1.." + std::to_string(depth));
  const TokenLayout layout = probe.layout();
  const double tokens = layout.prefix + layout.grid_h * layout.grid_w;

  WindowProbe result;
  result.windows = windows;
  std::vector<int> counts{0};
  counts.insert(counts.end(), layer_counts.begin(), layer_counts.end());
  for (int layers : counts)
    for (int k : windows) {
      VitForwardOptions options;
      options.window = k;
      options.visibility_blocks = layers;
      const int windowed = layers == 0 ? depth : layers;
      const double share = window_keys_per_query(layout, k) / tokens;
      result.rows.push_back({k, layers, (windowed * share + (depth - windowed)) / depth, probe.score(options)});
    }

  // How much of the unmodified attention each window would hide, block by block.
  result.outside.assign(windows.size(), std::vector<double>(static_cast<std::size_t>(depth), 0.0));
  double rows_seen = 0;  // images · heads · patch queries
  probe.visit_attention([&](const AttentionMaps& attention, int) {
    rows_seen += double(attention[0].shape(0)) * attention[0].shape(1) * layout.grid_h * layout.grid_w;
    for (std::size_t w = 0; w < windows.size(); ++w) {
      const std::vector<double> outside = attention_outside_window(attention, layout, windows[w]);
      for (int b = 0; b < depth; ++b) result.outside[w][b] += outside[b];
    }
  });
  for (auto& per_block : result.outside)
    for (double& x : per_block) x /= rows_seen;
  return result;
}

std::vector<NamedProbeRow> probe_positions(VitProbe& probe, unsigned seed) {
  const TokenLayout layout = probe.layout();
  std::vector<NamedProbeRow> rows(3);
  rows[0].name = "trained";
  rows[1].name = "zero";
  rows[1].options.position = PositionMode::Zero;
  rows[2].name = "permuted";
  rows[2].options.position = PositionMode::Permuted;
  rows[2].options.permutation.resize(static_cast<std::size_t>(layout.grid_h * layout.grid_w));
  std::iota(rows[2].options.permutation.begin(), rows[2].options.permutation.end(), 0);
  std::mt19937 rng(seed);
  std::shuffle(rows[2].options.permutation.begin(), rows[2].options.permutation.end(), rng);
  for (NamedProbeRow& row : rows) row.scores = probe.score(row.options);
  return rows;
}

std::vector<NamedProbeRow> probe_normalisations(VitProbe& probe) {
  const int depth = probe.model().config().depth, half = depth / 2;
  std::vector<NamedProbeRow> rows(4);
  rows[0].name = "softmax";
  const char* names[] = {"relu", "relu first half", "relu last half"};
  const BlockRange ranges[] = {{0, 0}, {0, half}, {half, 0}};
  for (int i = 0; i < 3; ++i) {
    rows[i + 1].name = names[i];
    rows[i + 1].options.normalization = ScoreNormalization::ReluVisible;
    rows[i + 1].options.normalization_blocks = ranges[i];
  }
  for (NamedProbeRow& row : rows) row.scores = probe.score(row.options);
  return rows;
}

std::vector<HeadProbeRow> probe_heads(VitProbe& probe) {
  const VitConfig& c = probe.model().config();
  const TokenLayout layout = probe.layout();
  // Distance and entropy of each head in the unmodified model, over every image.
  xt::xtensor<double, 2> distance = xt::zeros<double>({static_cast<std::size_t>(c.depth), static_cast<std::size_t>(c.heads)});
  xt::xtensor<double, 2> entropy = distance;
  double images = 0;
  probe.visit_attention([&](const AttentionMaps& attention, int) {
    const double n = double(attention[0].shape(0));
    distance += n * mean_attention_distance(attention, layout);  // a mean over the chunk's images
    entropy += attention_entropy_sum(attention, layout);
    images += n;
  });
  const double patch_rows = images * layout.grid_h * layout.grid_w;
  std::vector<HeadProbeRow> rows;
  for (int block = 0; block < c.depth; ++block)
    for (int head = 0; head < c.heads; ++head) {
      VitForwardOptions options;
      options.heads_off = {{block, head}};
      rows.push_back({block, head, probe.score(options), distance(block, head) / images,
                      entropy(block, head) / patch_rows});
    }
  std::stable_sort(rows.begin(), rows.end(), [](const HeadProbeRow& a, const HeadProbeRow& b) {
    if (a.scores.agreement.count != b.scores.agreement.count)
      return a.scores.agreement.count < b.scores.agreement.count;
    return a.scores.kl.mean > b.scores.kl.mean;
  });
  return rows;
}

ConvProbe probe_convolutions(VitProbe& probe) {
  const VitConfig& c = probe.model().config();
  const TokenLayout layout = probe.layout();
  const int gh = layout.grid_h, gw = layout.grid_w, kw = 2 * gw - 1, P = layout.prefix;
  const std::size_t offsets = static_cast<std::size_t>(2 * gh - 1) * kw, heads = static_cast<std::size_t>(c.heads);
  std::vector<double> sums(static_cast<std::size_t>(c.depth) * heads * offsets, 0.0);
  std::vector<double> prefix(static_cast<std::size_t>(c.depth) * heads, 0.0);
  std::vector<double> pairs(offsets, 0.0);  // (image, query) pairs with a key at each offset
  double queries = 0;                        // images · patch queries
  probe.visit_attention([&](const AttentionMaps& attention, int) {
    const std::size_t images = attention[0].shape(0);
    queries += double(images) * gh * gw;
    for (int r = 0; r < gh; ++r)
      for (int col = 0; col < gw; ++col)
        for (int rr = 0; rr < gh; ++rr)
          for (int cc = 0; cc < gw; ++cc) pairs[static_cast<std::size_t>(rr - r + gh - 1) * kw + (cc - col + gw - 1)] += images;
    for (int b = 0; b < c.depth; ++b)
      for (std::size_t i = 0; i < images; ++i)
        for (std::size_t h = 0; h < heads; ++h) {
          double* sum = sums.data() + (static_cast<std::size_t>(b) * heads + h) * offsets;
          for (int q = 0; q < gh * gw; ++q) {
            const float* row = &attention[b](i, h, P + q, 0);
            const int r = q / gw, col = q % gw;
            for (int t = 0; t < P; ++t) prefix[b * heads + h] += row[t];
            for (int k = 0; k < gh * gw; ++k)
              sum[static_cast<std::size_t>(k / gw - r + gh - 1) * kw + (k % gw - col + gw - 1)] += row[P + k];
          }
        }
  });
  ConvProbe result;
  result.grid_h = gh;
  result.grid_w = gw;
  for (int b = 0; b < c.depth; ++b)
    for (int h = 0; h < c.heads; ++h) {
      HeadKernel k;
      k.block = b;
      k.head = h;
      k.prefix_share = static_cast<float>(prefix[b * heads + h] / queries);
      const double* sum = sums.data() + (static_cast<std::size_t>(b) * heads + h) * offsets;
      for (std::size_t o = 0; o < offsets; ++o) k.kernel.push_back(static_cast<float>(sum[o] / pairs[o]));
      result.kernels.push_back(std::move(k));
    }
  for (const HeadKernel& k : result.kernels) {
    VitForwardOptions options;
    options.head_kernels = {k};
    ConvProbeRow row{k.block, k.head, probe.score(options), false};
    row.convolution_like = 1.0 - row.scores.agreement.value < 0.005;
    result.rows.push_back(std::move(row));
  }
  std::stable_sort(result.rows.begin(), result.rows.end(), [](const ConvProbeRow& a, const ConvProbeRow& b) {
    if (a.scores.agreement.count != b.scores.agreement.count) return a.scores.agreement.count < b.scores.agreement.count;
    return a.scores.kl.mean > b.scores.kl.mean;
  });
  return result;
}

}  // namespace vitscope
