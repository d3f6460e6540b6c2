#pragma once
// Variants of a ViT forward pass, as plain data: each is off by default, and a pass with every
// variant off runs exactly the unmodified model (same code path, same bits).
#include <cstdint>
#include <utility>
#include <vector>

namespace vitscope {

// How a block turns attention scores s = q·kᵀ/√d into weights over the visible keys.
enum class ScoreNormalization {
  Softmax,      // softmax over the visible keys (invisible scores are −∞)
  ReluVisible,  // max(s, 0) / (number of visible keys), 0 for invisible keys
};

// The positional embedding added to the tokens.
enum class PositionMode {
  Trained,   // as trained (resampled for another grid)
  Zero,      // none at all, for every token
  Permuted,  // patch i gets the (resampled) embedding of patch permutation[i]; prefix rows kept
};

// Blocks [begin, end) of the model; end = 0 stands for the last block + 1.
struct BlockRange {
  int begin = 0;
  int end = 0;
  bool contains(int block) const { return block >= begin && (end == 0 || block < end); }
};

// A head whose attention is replaced by a fixed function of the relative position, as a
// convolution's kernel is (Cordonnier et al., 2020): a patch query at (r, c) gives the patch key at
// (r + Δr, c + Δc) the weight kernel(Δr, Δc), renormalised over the keys inside the grid to sum to
// 1 − prefix_share, and each prefix token prefix_share / prefix. Prefix queries attend as trained.
struct HeadKernel {
  int block = 0, head = 0;
  // [(2·grid_h − 1) · (2·grid_w − 1)]: the weight of offset (Δr, Δc) at
  // (Δr + grid_h − 1) · (2·grid_w − 1) + Δc + grid_w − 1, for the input's patch grid.
  std::vector<float> kernel;
  float prefix_share = 0;
};

struct VitForwardOptions {
  // Attention visibility, applied to blocks [0, visibility_blocks) (0: every block):
  // - window k (odd, > 0): a patch query at grid (r, c) sees the patch keys with |Δr| ≤ (k−1)/2 and
  //   |Δc| ≤ (k−1)/2, and every prefix (class, distillation) token; a prefix token's query sees every
  //   token. The invisible keys are skipped: the work per query grows with k², not with the tokens.
  // - mask: an explicit [T, T] visibility (row = query, column = key; non-zero = visible) for the
  //   token count T of the input; every row must see at least one key. Exclusive with window.
  int window = 0;
  std::vector<std::uint8_t> mask;
  int visibility_blocks = 0;

  ScoreNormalization normalization = ScoreNormalization::Softmax;
  BlockRange normalization_blocks;  // where `normalization` applies (default: every block)

  // (block, head) pairs whose output is zero before the heads are concatenated and projected (their
  // weights are still computed, and recorded when asked).
  std::vector<std::pair<int, int>> heads_off;

  // Heads whose attention weights are a fixed relative-position kernel instead of softmax(q·kᵀ/√d).
  std::vector<HeadKernel> head_kernels;

  PositionMode position = PositionMode::Trained;
  std::vector<int> permutation;  // PositionMode::Permuted: a permutation of 0 .. patches − 1

  // Into the session's Recording: every block's attention weights, and the token activations.
  bool record_attention = false;
  bool record_tokens = false;

  // True when the pass is the unmodified model's (recording aside).
  bool unmodified() const {
    return window == 0 && mask.empty() && normalization == ScoreNormalization::Softmax &&
           heads_off.empty() && head_kernels.empty() && position == PositionMode::Trained;
  }
};

}  // namespace vitscope
