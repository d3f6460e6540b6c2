// Fast GEMMs (linear, gemm_abt, gemm_ab) against the scalar references on odd and ViT-sized shapes.
//
// Error measure: per element, |fast - ref| / (Σ_p |a_ip · b_pj| + |bias_j| + |previous out_ij|),
// i.e. the difference relative to the magnitudes summed, which is what fp32 rounding error scales
// with. Both results are within K·u of the exact value times that sum (u = FLT_EPSILON / 2), so
// they may differ by K·FLT_EPSILON; an indexing or tail bug is off by at least one whole term, ~1/K
// of it.
#include <algorithm>
#include <cfloat>
#include <cmath>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "kernels/kernel_test_util.hpp"
#include "vitscope/kernels/gemm.hpp"
#include "kernels/reference.hpp"

namespace vitscope::kernels {
namespace {

using test::AttentionCase;
using test::fused_qkv_attention_cases;
using test::sweep_attention_cases;
using test::compare;
using test::GemmCheck;
using test::padding_untouched;
using test::random_vector;

double tolerance(int k) { return test::gemm_tolerance(k); }

struct LinearCase {
  int m, n, k;
  bool bias, gelu, accumulate;
  int pad;  // extra columns of lda and ldo
};

std::string describe(const LinearCase& c) {
  return "m=" + std::to_string(c.m) + " n=" + std::to_string(c.n) + " k=" + std::to_string(c.k) +
         (c.bias ? " +bias" : "") + (c.gelu ? " +gelu" : "") +
         (c.accumulate ? " +accumulate" : "") + " pad=" + std::to_string(c.pad);
}

// Runs linear() with 1 and 2 threads against linear_ref; both thread counts must agree bit for bit
// (the tiling changes with the thread count, the order of every sum does not).
void check_linear(const LinearCase& c) {
  INFO(describe(c));
  const int lda = c.k + c.pad, ldo = c.n + c.pad;
  const auto seed = static_cast<std::uint32_t>(c.m * 1000003 + c.n * 1009 + c.k);
  const std::vector<float> a = random_vector(std::size_t(c.m) * lda, seed);
  const std::vector<float> b = random_vector(std::size_t(c.n) * c.k, seed + 1);
  const std::vector<float> bias = random_vector(c.n, seed + 2);
  const float sentinel = 12345.0f;
  std::vector<float> out0(std::size_t(c.m) * ldo, sentinel);
  if (c.accumulate) {
    const std::vector<float> residual = random_vector(out0.size(), seed + 3, -4.0f, 4.0f);
    for (int i = 0; i < c.m; ++i)
      std::copy_n(residual.begin() + std::size_t(i) * ldo, c.n,
                  out0.begin() + std::size_t(i) * ldo);
  }

  LinearEpilogue epilogue;
  epilogue.bias = c.bias ? bias.data() : nullptr;
  epilogue.gelu = c.gelu;
  epilogue.accumulate = c.accumulate;

  std::vector<float> ref = out0;
  linear_ref(a.data(), lda, c.m, b.data(), c.n, c.k, ref.data(), ldo, epilogue);

  std::vector<double> magnitude(std::size_t(c.m) * c.n);
  for (int i = 0; i < c.m; ++i) {
    for (int j = 0; j < c.n; ++j) {
      double s = c.bias ? std::abs(bias[j]) : 0.0;
      for (int p = 0; p < c.k; ++p)
        s += std::abs(double(a[std::size_t(i) * lda + p]) * b[std::size_t(j) * c.k + p]);
      if (c.accumulate) s += std::abs(out0[std::size_t(i) * ldo + j]);
      magnitude[std::size_t(i) * c.n + j] = s;
    }
  }

  // The packed weights are built from a strided copy of b when pad > 0 (ldb > k).
  std::vector<float> b_strided(std::size_t(c.n) * lda, -777.0f);
  for (int j = 0; j < c.n; ++j)
    std::copy_n(b.begin() + std::size_t(j) * c.k, c.k, b_strided.begin() + std::size_t(j) * lda);
  const PackedMatrix packed = PackedMatrix::pack(b_strided.data(), c.n, c.k, lda);
  REQUIRE(packed.rows() == c.n);
  REQUIRE(packed.cols() == c.k);

  std::vector<float> first;
  for (int threads : {1, 2}) {
    INFO("threads=" << threads);
    ThreadPool pool(threads);
    std::vector<float> out = out0;
    linear(a.data(), lda, c.m, packed, out.data(), ldo, epilogue, &pool);
    const GemmCheck check = compare(out, ref, magnitude, c.m, c.n, ldo);
    INFO("worst normalised diff " << check.worst << " at [" << check.row << "," << check.col
                                  << "]: fast " << check.fast << " ref " << check.ref
                                  << " (tolerance " << tolerance(c.k) << ")");
    CHECK(check.worst <= tolerance(c.k));
    CHECK(padding_untouched(out, c.m, c.n, ldo, sentinel));
    if (first.empty()) {
      first = out;
    } else {
      CHECK(out == first);
    }
  }
}

const int kOddSizes[] = {1, 7, 17, 197, 385};

TEST_CASE("linear matches linear_ref for every combination of odd sizes", "[gemm][linear]") {
  int variant = 0;
  for (int m : kOddSizes) {
    for (int n : kOddSizes) {
      for (int k : kOddSizes) {
        // Cycle through the epilogues and strides so that each meets many shapes.
        const int v = variant++;
        check_linear(LinearCase{m, n, k, v % 2 == 0, v % 3 == 1, v % 4 == 2, (v % 5) * 3});
      }
    }
  }
}

TEST_CASE("linear applies each epilogue on its own and all together", "[gemm][linear]") {
  for (const auto& [m, n, k] :
       {std::tuple{17, 7, 197}, std::tuple{197, 385, 17}, std::tuple{7, 197, 385}}) {
    check_linear(LinearCase{m, n, k, false, false, false, 0});
    check_linear(LinearCase{m, n, k, true, false, false, 0});
    check_linear(LinearCase{m, n, k, false, true, false, 0});
    check_linear(LinearCase{m, n, k, false, false, true, 0});
    check_linear(LinearCase{m, n, k, true, true, true, 5});
  }
}

TEST_CASE("linear on ViT shapes", "[gemm][linear]") {
  check_linear(LinearCase{197, 576, 192, true, false, false, 0});  // DeiT-Tiny qkv
  check_linear(LinearCase{197, 192, 192, true, false, true, 0});  // attention projection + residual
  check_linear(LinearCase{197, 768, 192, true, true, false, 0});  // MLP fc1 + GELU
  check_linear(LinearCase{197, 192, 768, true, false, true, 0});  // MLP fc2 + residual
  check_linear(LinearCase{2 * 197, 2304, 768, true, false, false, 0});  // ViT-Base qkv, batch of 2
  check_linear(
      LinearCase{1, 1000, 768, true, false, false, 0});  // classifier head on the cls token
  check_linear(LinearCase{197, 64, 3072, false, false, false, 0});  // long K: many K blocks
}

TEST_CASE("linear with K = 0 writes the bias, with M = 0 writes nothing", "[gemm][linear]") {
  const std::vector<float> bias = {1.5f, -2.0f, 3.25f};
  const PackedMatrix empty = PackedMatrix::pack(nullptr, 3, 0, 0);
  std::vector<float> out(6, 99.0f);
  LinearEpilogue epilogue;
  epilogue.bias = bias.data();
  linear(nullptr, 0, 2, empty, out.data(), 3, epilogue, nullptr);
  CHECK(out == std::vector<float>{1.5f, -2.0f, 3.25f, 1.5f, -2.0f, 3.25f});

  std::vector<float> untouched(6, 99.0f);
  linear(nullptr, 0, 0, empty, untouched.data(), 3, epilogue, nullptr);
  CHECK(untouched == std::vector<float>(6, 99.0f));
}

TEST_CASE("PackedMatrix packed on a pool is the same as packed on one thread", "[gemm]") {
  // Packing is pure data movement: the two must be bitwise equal, padding included (the serial
  // packing itself is checked through linear() against linear_ref above).
  ThreadPool pool(2);
  for (int n : {1, 7, 17, 197, 385, 1152}) {
    for (int k : {1, 17, 385}) {
      INFO("n=" << n << " k=" << k);
      const int ldb = k + 3;
      const std::vector<float> b = random_vector(std::size_t(n) * ldb, static_cast<std::uint32_t>(n * 131 + k));
      const PackedMatrix serial = PackedMatrix::pack(b.data(), n, k, ldb);
      const PackedMatrix threaded = PackedMatrix::pack(b.data(), n, k, ldb, &pool);
      REQUIRE(threaded.size() == serial.size());
      CHECK(std::equal(serial.data(), serial.data() + serial.size(), threaded.data()));
    }
  }
}

TEST_CASE("PackedMatrix rejects impossible shapes", "[gemm]") {
  const std::vector<float> b(12, 1.0f);
  CHECK_THROWS_AS(PackedMatrix::pack(b.data(), 3, 4, 3), std::invalid_argument);
  CHECK_THROWS_AS(PackedMatrix::pack(b.data(), -1, 4), std::invalid_argument);
}

void check_gemm_abt(const AttentionCase& c) {
  INFO("gemm_abt m=" << c.m << " n=" << c.n << " k=" << c.k << " lda=" << c.lda << " ldb=" << c.ldb
                     << " ldc=" << c.ldc << " alpha=" << c.alpha);
  const auto seed = static_cast<std::uint32_t>(c.m * 7919 + c.n * 31 + c.k);
  const std::vector<float> a = random_vector(std::size_t(c.m) * c.lda, seed);
  const std::vector<float> b = random_vector(std::size_t(c.n) * c.ldb, seed + 1);
  const float sentinel = -4321.0f;
  std::vector<float> ref(std::size_t(c.m) * c.ldc, sentinel);
  gemm_abt_ref(c.m, c.n, c.k, c.alpha, a.data(), c.lda, b.data(), c.ldb, ref.data(), c.ldc);

  std::vector<double> magnitude(std::size_t(c.m) * c.n);
  for (int i = 0; i < c.m; ++i)
    for (int j = 0; j < c.n; ++j) {
      double s = 0.0;
      for (int p = 0; p < c.k; ++p)
        s += std::abs(double(a[std::size_t(i) * c.lda + p]) * b[std::size_t(j) * c.ldb + p]);
      magnitude[std::size_t(i) * c.n + j] = s * std::abs(c.alpha);
    }

  for (int threads : {1, 2}) {
    INFO("threads=" << threads);
    ThreadPool pool(threads);
    std::vector<float> out(ref.size(), sentinel);
    gemm_abt(c.m, c.n, c.k, c.alpha, a.data(), c.lda, b.data(), c.ldb, out.data(), c.ldc, &pool);
    const GemmCheck check = compare(out, ref, magnitude, c.m, c.n, c.ldc);
    INFO("worst normalised diff " << check.worst << " at [" << check.row << "," << check.col
                                  << "]: fast " << check.fast << " ref " << check.ref);
    CHECK(check.worst <= tolerance(c.k));
    CHECK(padding_untouched(out, c.m, c.n, c.ldc, sentinel));
  }
}

void check_gemm_ab(const AttentionCase& c) {
  INFO("gemm_ab m=" << c.m << " n=" << c.n << " k=" << c.k << " lda=" << c.lda << " ldb=" << c.ldb
                    << " ldc=" << c.ldc);
  const auto seed = static_cast<std::uint32_t>(c.m * 104729 + c.n * 37 + c.k);
  const std::vector<float> a = random_vector(std::size_t(c.m) * c.lda, seed, 0.0f, 1.0f);
  const std::vector<float> b = random_vector(std::size_t(c.k) * c.ldb, seed + 1);
  const float sentinel = -4321.0f;
  std::vector<float> ref(std::size_t(c.m) * c.ldc, sentinel);
  gemm_ab_ref(c.m, c.n, c.k, a.data(), c.lda, b.data(), c.ldb, ref.data(), c.ldc);

  std::vector<double> magnitude(std::size_t(c.m) * c.n);
  for (int i = 0; i < c.m; ++i)
    for (int j = 0; j < c.n; ++j) {
      double s = 0.0;
      for (int p = 0; p < c.k; ++p)
        s += std::abs(double(a[std::size_t(i) * c.lda + p]) * b[std::size_t(p) * c.ldb + j]);
      magnitude[std::size_t(i) * c.n + j] = s;
    }

  for (int threads : {1, 2}) {
    INFO("threads=" << threads);
    ThreadPool pool(threads);
    std::vector<float> out(ref.size(), sentinel);
    gemm_ab(c.m, c.n, c.k, a.data(), c.lda, b.data(), c.ldb, out.data(), c.ldc, &pool);
    const GemmCheck check = compare(out, ref, magnitude, c.m, c.n, c.ldc);
    INFO("worst normalised diff " << check.worst << " at [" << check.row << "," << check.col
                                  << "]: fast " << check.fast << " ref " << check.ref);
    CHECK(check.worst <= tolerance(c.k));
    CHECK(padding_untouched(out, c.m, c.n, c.ldc, sentinel));
  }
}

TEST_CASE("gemm_abt and gemm_ab match their references on odd sizes with strides and alpha",
          "[gemm][attention]") {
  sweep_attention_cases(std::vector<int>(std::begin(kOddSizes), std::end(kOddSizes)),
                        check_gemm_abt, check_gemm_ab);
}

TEST_CASE("attention shapes read from a fused qkv buffer", "[gemm][attention]") {
  fused_qkv_attention_cases(check_gemm_abt, check_gemm_ab);
}

TEST_CASE("gemm entry points reject impossible strides", "[gemm]") {
  std::vector<float> buf(64, 0.0f);
  CHECK_THROWS_AS(gemm_abt(2, 2, 4, 1.0f, buf.data(), 3, buf.data(), 4, buf.data(), 2, nullptr),
                  std::invalid_argument);
  CHECK_THROWS_AS(gemm_ab(2, 4, 2, buf.data(), 2, buf.data(), 3, buf.data(), 4, nullptr),
                  std::invalid_argument);
}

}  // namespace
}  // namespace vitscope::kernels
