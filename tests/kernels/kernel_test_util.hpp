#pragma once
// Shared helpers of the kernel tests: seeded random data and error measures.
#include <cfloat>
#include <cmath>
#include <cstring>
#include <cstddef>
#include <cstdint>
#include <random>
#include <vector>

namespace vitscope::kernels::test {

// n floats uniform in [lo, hi), the same for the same seed.
inline std::vector<float> random_vector(std::size_t n, std::uint32_t seed, float lo = -1.0f,
                                        float hi = 1.0f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

// The largest difference between two arrays, and where it is.
struct WorstDiff {
  double diff = 0.0;  // |a[index] - b[index]|, or a normalised form of it
  std::size_t index = 0;
  float a = 0.0f, b = 0.0f;
};

// Units in the last place between two floats of the same sign (large when the signs differ).
inline std::int64_t ulp_distance(float a, float b) {
  auto ordered = [](float x) {
    std::int32_t i;
    static_assert(sizeof(i) == sizeof(x));
    std::memcpy(&i, &x, sizeof(x));
    return i < 0 ? std::int64_t{INT32_MIN} - i : std::int64_t{i};
  };
  const std::int64_t d = ordered(a) - ordered(b);
  return d < 0 ? -d : d;
}

// GEMM results: the worst element of fast against ref, normalised per element by magnitude[i, j],
// the sum of the absolute values of everything added into out[i, j] (Σ_p |a_ip · b_pj|, |bias_j|,
// |previous out_ij|). fp32 rounding error scales with that sum.
struct GemmCheck {
  double worst = 0.0;  // worst normalised difference (infinite for a NaN)
  int row = 0, col = 0;
  float fast = 0.0f, ref = 0.0f;
};

inline GemmCheck compare(const std::vector<float>& fast, const std::vector<float>& ref,
                         const std::vector<double>& magnitude, int m, int n, int ld) {
  GemmCheck check;
  for (int i = 0; i < m; ++i) {
    for (int j = 0; j < n; ++j) {
      const std::size_t at = std::size_t(i) * ld + j;
      const double scale = magnitude[std::size_t(i) * n + j] + 1e-30;
      const double d = std::abs(double(fast[at]) - double(ref[at])) / scale;
      if (d > check.worst || std::isnan(fast[at])) {
        check = GemmCheck{std::isnan(fast[at]) ? INFINITY : d, i, j, fast[at], ref[at]};
      }
    }
  }
  return check;
}

// Two fp32 sums of the same K terms in different orders are each within K·u of the exact value
// times the magnitude (u = FLT_EPSILON / 2), so they may differ by K·FLT_EPSILON; the 8 covers the
// epilogue (bias, alpha, GELU, accumulate). An indexing or tail bug is off by a whole term, ~1/K.
inline double gemm_tolerance(int k) { return (k + 8) * double(FLT_EPSILON); }

// Cells of out outside [m, n] (the padding of a strided out) must keep their sentinel.
inline bool padding_untouched(const std::vector<float>& out, int m, int n, int ld, float sentinel) {
  for (int i = 0; i < m; ++i)
    for (int j = n; j < ld; ++j)
      if (out[std::size_t(i) * ld + j] != sentinel) return false;
  return true;
}

// c[M,N] = alpha · a[M,K] · b[N,K]ᵀ and c[M,N] = a[M,K] · b[K,N] with strided operands, the way
// attention reads q, k and v out of the fused qkv buffer.
struct AttentionCase {
  int m, n, k;
  int lda, ldb, ldc;
  float alpha;
};

// The odd-size sweep of the attention products: every (m, n, k) drawn from sizes, row strides
// padded by 0, 5 or 10 in turn and, for a·bᵀ, alpha alternating between 0.125 and -0.3.
template <class CheckAbt, class CheckAb>
void sweep_attention_cases(const std::vector<int>& sizes, CheckAbt check_abt, CheckAb check_ab) {
  int variant = 0;
  for (int m : sizes)
    for (int n : sizes)
      for (int k : sizes) {
        const int pad = (variant++ % 3) * 5;
        check_abt(AttentionCase{m, n, k, k + pad, k + 2 * pad, n + pad, variant % 2 ? 0.125f : -0.3f});
        check_ab(AttentionCase{m, n, k, k + pad, n + 2 * pad, n + pad, 1.0f});
      }
}

// Attention as DeiT-Tiny (3 heads of 64 in rows of 3 · 192) and ViT-Base (12 heads, rows of
// 3 · 768) run it on 197 tokens.
template <class CheckAbt, class CheckAb>
void fused_qkv_attention_cases(CheckAbt check_abt, CheckAb check_ab) {
  const int tokens = 197, head_dim = 64;
  check_abt(AttentionCase{tokens, tokens, head_dim, 3 * 192, 3 * 192, tokens, 0.125f});
  check_ab(AttentionCase{tokens, head_dim, tokens, tokens, 3 * 192, 192, 1.0f});
  check_abt(AttentionCase{tokens, tokens, head_dim, 3 * 768, 3 * 768, tokens + 3, 0.125f});
  check_ab(AttentionCase{tokens, head_dim, tokens, tokens + 3, 3 * 768, 768, 1.0f});
}

}  // namespace vitscope::kernels::test
