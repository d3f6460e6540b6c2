#pragma once
// The lecture's claims as experiments on a trained ViT, each a set of forward variants scored by a
// VitProbe: truncated (windowed) attention, the positional embedding, the score normalisation, and
// every head switched off alone.
#include <string>
#include <vector>

#include <xtensor/xtensor.hpp>

#include "vitscope/maps/probe.hpp"

namespace vitscope {

struct WindowProbeRow {
  int window = 0;      // k
  int layers = 0;      // the window applies to the first `layers` blocks; 0: every block
  double key_share = 0;  // q·kᵀ and p·v work left, over the blocks, against full attention
  ProbeScores scores;
};

struct WindowProbe {
  std::vector<int> windows;
  std::vector<WindowProbeRow> rows;  // for each layer count (0 first), for each window
  // [window][block]: the unmodified model's attention weight on keys the window hides, as a mean
  // over images, heads and patch queries (a share: rows sum to 1).
  std::vector<std::vector<double>> outside;
};

// windows: odd and positive; layer_counts: each in 1 .. depth (every block is always probed too).
WindowProbe probe_windows(VitProbe& probe, const std::vector<int>& windows,
                          const std::vector<int>& layer_counts);

struct NamedProbeRow {
  std::string name;  // "trained", "zero", "permuted"; "softmax", "relu", "relu first half", ...
  VitForwardOptions options;
  ProbeScores scores;
};

// The positional embedding as trained, zero, and with the patch rows permuted (std::mt19937(seed)).
std::vector<NamedProbeRow> probe_positions(VitProbe& probe, unsigned seed);

// Softmax as trained, and ReLU over the visible keys in every block, the first half, the last half.
std::vector<NamedProbeRow> probe_normalisations(VitProbe& probe);

struct HeadProbeRow {
  int block = 0, head = 0;
  ProbeScores scores;           // with this head's output zeroed
  double distance_pixels = 0;   // its mean attention distance (unmodified model)
  double entropy = 0;           // mean entropy of its patch queries' attention rows, nats
};

// Every head switched off alone, most harmful first (lowest agreement, then highest KL).
std::vector<HeadProbeRow> probe_heads(VitProbe& probe);

struct ConvProbeRow {
  int block = 0, head = 0;
  ProbeScores scores;             // with the head replaced by its averaged kernel
  bool convolution_like = false;  // the replacement changes under 0.5% of the top-1 predictions
};

struct ConvProbe {
  int grid_h = 0, grid_w = 0;
  // [depth·heads], block-major: each head's attention of the patch queries averaged over the images
  // and queries as a function of the key's offset (Δr, Δc) from the query (the mean over the
  // (image, query) pairs that have a key at that offset), and its mean weight on the prefix tokens.
  std::vector<HeadKernel> kernels;
  std::vector<ConvProbeRow> rows;  // every head replaced alone by its kernel, most harmful first
};

// Is a head a convolution? (Cordonnier et al., 2020): each head's averaged relative-position kernel,
// and the model with that head alone replaced by it.
ConvProbe probe_convolutions(VitProbe& probe);

}  // namespace vitscope
