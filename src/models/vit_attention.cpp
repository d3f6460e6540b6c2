// Multi-head self-attention of one ViT block, split into tasks of (image, head, block of query rows).
#include "models/vit_attention.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "vitscope/kernels/softmax.hpp"

namespace vitscope::vit_detail {
namespace {

constexpr float kMinusInf = -std::numeric_limits<float>::infinity();

// How the T query rows of one (image, head) pair are cut into tasks: about two tasks per thread
// even when the heads are few (DeiT-Tiny: 3), rather than spreading each small product over the
// threads, and a task count that is a multiple of the thread count where it can be (9 equal
// tasks on 2 threads would leave one idle for a ninth of the time). Each task converts the pair's
// k and v for itself, so more blocks cost more conversions: DeiT-Tiny's attention on 2 threads
// took 8% less time in 6 tasks than in 12. On one thread there is nothing to balance: one task per
// pair.
struct TaskSplit {
  int blocks = 1, block_rows = 0;
};

TaskSplit split_rows(int pairs, int T, int threads) {
  const int max_blocks = threads == 1 ? 1 : std::max(1, T / 24);
  int blocks = std::min(max_blocks, (2 * threads + pairs - 1) / pairs);
  for (int candidate = blocks; candidate <= std::min(max_blocks, 2 * blocks); ++candidate)
    if (pairs * candidate % threads == 0) {
      blocks = candidate;
      break;
    }
  const int block_rows = ((T + blocks - 1) / blocks + 5) / 6 * 6;  // whole 6-row micro-tiles
  return {(T + block_rows - 1) / block_rows, block_rows};
}

// s[n] ← the weights of one query row over n keys, visible[j] saying which keys it sees (null:
// all of them): softmax with invisible scores at −∞, or max(s, 0) / visible count.
void normalise_row(float* s, int n, const std::uint8_t* visible, bool relu) {
  if (relu) {
    int count = n;
    if (visible) count = static_cast<int>(std::count_if(visible, visible + n, [](std::uint8_t v) { return v != 0; }));
    const float inv = 1.0f / static_cast<float>(count);
    for (int j = 0; j < n; ++j) s[j] = (!visible || visible[j]) ? std::max(s[j], 0.0f) * inv : 0.0f;
    return;
  }
  if (visible)
    for (int j = 0; j < n; ++j)
      if (!visible[j]) s[j] = kMinusInf;
  kernels::softmax_rows(s, 1, n, n, nullptr);
}

// Per-thread buffers of the variant paths, grown on first use and kept.
struct VariantScratch {
  std::vector<float> scores;          // [rows, keys]
  std::vector<float> keys, values;    // gathered [keys, hd]
  std::vector<int> key_token;         // token index of each gathered key
  std::vector<std::uint8_t> visible;  // [keys] of the current query
};

// The pair's operands: q, k, v of head h of image b, rows of stride 3·D.
struct HeadOperands {
  const float* q;
  const float* k;
  const float* v;
  float* out;       // attended, row stride D
  float* recorded;  // [T, T] of this pair, or null
};

// Where the weights of query rows [row0, row0 + rows) over all T keys go: the recorded maps when
// they are kept, else the thread's scratch.
float* score_rows(const HeadOperands& op, VariantScratch& scratch, int row0, int rows, int T) {
  if (op.recorded) return op.recorded + static_cast<std::size_t>(row0) * T;
  scratch.scores.resize(static_cast<std::size_t>(rows) * T);
  return scratch.scores.data();
}

// visible[T] ← which keys query token t may see under a k×k window (h = (k − 1) / 2): every key for
// a prefix query; for the patch at (r, c), the prefix tokens and the patches of rows r ± h,
// columns c ± h.
void window_visibility(const AttentionShape& g, int h, int t, std::uint8_t* visible) {
  const int T = g.tokens;
  if (t < g.prefix) {
    std::fill_n(visible, T, 1);
    return;
  }
  std::fill_n(visible, T, 0);
  std::fill_n(visible, g.prefix, 1);
  const int r = (t - g.prefix) / g.grid_w, c = (t - g.prefix) % g.grid_w;
  const int c_lo = std::max(0, c - h), c_hi = std::min(g.grid_w - 1, c + h);
  for (int rr = std::max(0, r - h); rr <= std::min(g.grid_h - 1, r + h); ++rr)
    std::fill(visible + g.prefix + rr * g.grid_w + c_lo, visible + g.prefix + rr * g.grid_w + c_hi + 1, 1);
}

// Query rows [row0, row0 + rows) against every key, the visibility (an explicit mask, a window, or
// none) applied to the scores of each row: products as large as the unmodified attention's.
void attend_all_keys(const AttentionShape& g, const AttentionVariant& variant,
                     const kernels::ActivationProducts& products, const HeadOperands& op,
                     bool head_off, int row0, int rows, float scale, VariantScratch& scratch) {
  const int T = g.tokens, D = g.width, hd = D / g.heads;
  float* s = score_rows(op, scratch, row0, rows, T);
  products.abt(rows, T, hd, scale, op.q + static_cast<std::size_t>(row0) * 3 * D, 3 * D, op.k,
               3 * D, s, T, nullptr);
  scratch.visible.resize(T);
  for (int i = 0; i < rows; ++i) {
    const std::uint8_t* visible = nullptr;
    if (variant.mask) {
      visible = variant.mask + static_cast<std::size_t>(row0 + i) * T;
    } else if (variant.window > 0) {
      window_visibility(g, variant.window / 2, row0 + i, scratch.visible.data());
      visible = scratch.visible.data();
    }
    normalise_row(s + static_cast<std::size_t>(i) * T, T, visible, variant.relu);
  }
  float* out = op.out + static_cast<std::size_t>(row0) * D;
  if (head_off) {
    for (int i = 0; i < rows; ++i) std::fill_n(out + static_cast<std::size_t>(i) * D, hd, 0.0f);
    return;
  }
  products.ab(rows, hd, T, s, T, op.v, 3 * D, out, D, nullptr);
}

// Patch queries of grid row r, columns [c0, c0 + n), within a k×k window, all in the segment of
// columns [segment_c0, segment_c0 + segment_n): the keys that segment can see (prefix tokens, and
// patches of rows r ± h, columns segment_c0 − h .. segment_c0 + segment_n − 1 + h) are gathered
// into contiguous buffers, so the work grows with the window, not with the token count. The keys
// depend on the segment alone, not on where a task's rows begin, so every query gets the same
// bits whatever the thread count.
void attend_window(const AttentionShape& g, const AttentionVariant& variant,
                   const kernels::ActivationProducts& products, const HeadOperands& op,
                   bool head_off, int r, int segment_c0, int segment_n, int c0, int n, float scale,
                   VariantScratch& scratch) {
  const int T = g.tokens, D = g.width, hd = D / g.heads, h = variant.window / 2;
  const int r_lo = std::max(0, r - h), r_hi = std::min(g.grid_h - 1, r + h);
  const int c_lo = std::max(0, segment_c0 - h);
  const int c_hi = std::min(g.grid_w - 1, segment_c0 + segment_n - 1 + h);
  scratch.key_token.clear();
  for (int t = 0; t < g.prefix; ++t) scratch.key_token.push_back(t);
  for (int rr = r_lo; rr <= r_hi; ++rr)
    for (int cc = c_lo; cc <= c_hi; ++cc) scratch.key_token.push_back(g.prefix + rr * g.grid_w + cc);
  const int keys = static_cast<int>(scratch.key_token.size());
  scratch.keys.resize(static_cast<std::size_t>(keys) * hd);
  scratch.values.resize(static_cast<std::size_t>(keys) * hd);
  for (int j = 0; j < keys; ++j) {
    const std::size_t at = static_cast<std::size_t>(scratch.key_token[j]) * 3 * D;
    std::memcpy(scratch.keys.data() + static_cast<std::size_t>(j) * hd, op.k + at, sizeof(float) * hd);
    std::memcpy(scratch.values.data() + static_cast<std::size_t>(j) * hd, op.v + at, sizeof(float) * hd);
  }
  scratch.scores.resize(static_cast<std::size_t>(n) * keys);
  float* s = scratch.scores.data();
  const int row0 = g.prefix + r * g.grid_w + c0;
  products.abt(n, keys, hd, scale, op.q + static_cast<std::size_t>(row0) * 3 * D, 3 * D,
               scratch.keys.data(), hd, s, keys, nullptr);
  scratch.visible.resize(keys);
  for (int i = 0; i < n; ++i) {
    const int c = c0 + i;
    for (int j = 0; j < keys; ++j) {
      const int t = scratch.key_token[j] - g.prefix;
      scratch.visible[j] = t < 0 || std::abs(t % g.grid_w - c) <= h;
    }
    float* row = s + static_cast<std::size_t>(i) * keys;
    normalise_row(row, keys, scratch.visible.data(), variant.relu);
    if (op.recorded) {
      float* full = op.recorded + static_cast<std::size_t>(row0 + i) * T;
      std::fill_n(full, T, 0.0f);
      for (int j = 0; j < keys; ++j) full[scratch.key_token[j]] = row[j];
    }
  }
  float* out = op.out + static_cast<std::size_t>(row0) * D;
  if (head_off) {
    for (int i = 0; i < n; ++i) std::fill_n(out + static_cast<std::size_t>(i) * D, hd, 0.0f);
    return;
  }
  products.ab(n, hd, keys, s, keys, scratch.values.data(), hd, out, D, nullptr);
}

// Query rows [row0, row0 + rows) of a head replaced by a fixed relative-position kernel: patch
// queries take the kernel's weights (renormalised over the keys inside the grid), prefix queries
// attend as trained.
void attend_kernel(const AttentionShape& g, const HeadKernel& kernel,
                   const kernels::ActivationProducts& products, const HeadOperands& op, int row0,
                   int rows, float scale, VariantScratch& scratch) {
  const int T = g.tokens, D = g.width, hd = D / g.heads, end = row0 + rows;
  int t = row0;
  if (t < g.prefix) {
    const int n = std::min(end, g.prefix) - t;
    attend_all_keys(g, AttentionVariant{}, products, op, false, t, n, scale, scratch);
    t += n;
  }
  if (t >= end) return;
  const int n = end - t;
  float* s = score_rows(op, scratch, t, n, T);
  const int kw = 2 * g.grid_w - 1;
  const float prefix_weight = g.prefix > 0 ? kernel.prefix_share / static_cast<float>(g.prefix) : 0.0f;
  for (int i = 0; i < n; ++i) {
    float* row = s + static_cast<std::size_t>(i) * T;
    const int patch = t + i - g.prefix, r = patch / g.grid_w, c = patch % g.grid_w;
    std::fill_n(row, g.prefix, prefix_weight);
    double sum = 0;
    for (int rr = 0; rr < g.grid_h; ++rr)
      for (int cc = 0; cc < g.grid_w; ++cc) {
        const float w = kernel.kernel[static_cast<std::size_t>(rr - r + g.grid_h - 1) * kw + (cc - c + g.grid_w - 1)];
        row[g.prefix + rr * g.grid_w + cc] = w;
        sum += w;
      }
    const float scale_patches = sum > 0 ? static_cast<float>((1.0 - kernel.prefix_share) / sum) : 0.0f;
    for (int k = g.prefix; k < T; ++k) row[k] *= scale_patches;
  }
  products.ab(n, hd, T, s, T, op.v, 3 * D, op.out + static_cast<std::size_t>(t) * D, D, nullptr);
}

// Segments of patch queries in one grid row are at most this wide: wide enough to keep the
// products efficient, narrow enough that the gathered columns (width + k − 1) stay near k.
int segment_width(int window) { return std::max(8, window); }

// Gathering a segment's keys pays when they are few: past a third of the tokens (measured on
// DeiT-Tiny, 197 tokens: window 5 gathers 61 keys per segment and runs at 0.9× full attention's
// time, window 7 gathers 99 and runs at 1.3×), every key is scored and the window applied to the
// scores instead, at about full attention's cost.
bool gather_window_keys(const AttentionShape& g, int window) {
  const int h = window / 2;
  const int rows = std::min(g.grid_h, window), columns = std::min(g.grid_w, segment_width(window) + 2 * h);
  return 3 * (g.prefix + rows * columns) <= g.tokens;
}

// Query rows [row0, row0 + rows) of one pair under a variant: all keys, with the visibility applied
// to the scores, or, for a window that sees few keys, the prefix queries against all keys and the
// patch queries a grid-row segment at a time against the keys they can see.
void attend_variant(const AttentionShape& g, const AttentionVariant& variant,
                    const kernels::ActivationProducts& products, const HeadOperands& op, int head,
                    bool head_off, int row0, int rows, float scale) {
  thread_local VariantScratch scratch;
  if (variant.kernels && variant.kernels[head]) {
    attend_kernel(g, *variant.kernels[head], products, op, row0, rows, scale, scratch);
    return;
  }
  if (variant.window <= 0 || !gather_window_keys(g, variant.window)) {
    attend_all_keys(g, variant, products, op, head_off, row0, rows, scale, scratch);
    return;
  }
  const int end = row0 + rows, segment = segment_width(variant.window);
  int t = row0;
  if (t < g.prefix) {
    const int n = std::min(end, g.prefix) - t;
    attend_all_keys(g, AttentionVariant{0, nullptr, variant.relu, nullptr}, products, op, head_off, t,
                    n, scale, scratch);
    t += n;
  }
  while (t < end) {
    const int patch = t - g.prefix, r = patch / g.grid_w, c = patch % g.grid_w;
    const int segment_c0 = c / segment * segment;
    const int segment_n = std::min(segment, g.grid_w - segment_c0);
    const int n = std::min(end - t, segment_c0 + segment_n - c);
    attend_window(g, variant, products, op, head_off, r, segment_c0, segment_n, c, n, scale, scratch);
    t += n;
  }
}

}  // namespace

void run_attention(const AttentionShape& g, const AttentionVariant& variant,
                   const kernels::ActivationProducts& products, const float* qkv, float* attended,
                   float* recorded, ThreadPool* pool) {
  const int B = g.images, T = g.tokens, D = g.width, heads = g.heads, hd = D / heads;
  const int Q = g.queries > 0 ? std::min(g.queries, T) : T;
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
  const int pairs = B * heads;
  const TaskSplit split = split_rows(pairs, Q, pool ? pool->size() : 1);
  const bool any_variant = variant.any();
  auto attend = [&](int task) {
    const int pair = task / split.blocks, row0 = (task % split.blocks) * split.block_rows;
    const int rows = std::min(split.block_rows, Q - row0);
    if (rows <= 0) return;
    const int b = pair / heads, h = pair % heads;
    const float* qkv_b = qkv + static_cast<std::size_t>(b) * T * 3 * D + h * hd;
    HeadOperands op{qkv_b, qkv_b + D, qkv_b + 2 * D,
                    attended + static_cast<std::size_t>(b) * T * D + h * hd,
                    recorded ? recorded + static_cast<std::size_t>(pair) * T * T : nullptr};
    if (any_variant) {
      attend_variant(g, variant, products, op, h, variant.head_off && variant.head_off[h], row0, rows,
                     scale);
      return;
    }
    // Recorded maps need every head's scores at once; otherwise each task reuses its thread's own
    // block of rows, which stays in L2 between the three steps and from one task to the next
    // (a fresh [T, T] slice per head meant writing ~1 MB of cold memory per layer at batch 1).
    thread_local std::vector<float> task_scores;
    float* s;
    if (op.recorded) {
      s = op.recorded + static_cast<std::size_t>(row0) * T;
    } else {
      task_scores.resize(static_cast<std::size_t>(split.block_rows) * T);
      s = task_scores.data();
    }
    float* out = op.out + static_cast<std::size_t>(row0) * D;
    products.abt(rows, T, hd, scale, op.q + static_cast<std::size_t>(row0) * 3 * D, 3 * D, op.k,
                 3 * D, s, T, nullptr);
    kernels::softmax_rows(s, rows, T, T, nullptr);
    products.ab(rows, hd, T, s, T, op.v, 3 * D, out, D, nullptr);
  };
  const int tasks = pairs * split.blocks;
  if (pool)
    pool->run(tasks, attend);
  else
    for (int task = 0; task < tasks; ++task) attend(task);
}

}  // namespace vitscope::vit_detail
