// int8 products (W8A8, per output channel and per token) on both backends: the quantisation itself,
// the fast kernels against the scalar reference on odd sizes (1, 7, 17, 197, 385) with every
// epilogue, K over several blocks, threads, the two backends bit for bit against each other, and
// the error against the fp32 product that the quantisation costs.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <tuple>
#include <vector>

#include <catch2/catch.hpp>

#include "kernels/kernel_test_util.hpp"
#include "kernels/reference.hpp"
#include "vitscope/kernels/cpu_features.hpp"
#include "vitscope/kernels/gemm_int8.hpp"

namespace vitscope::kernels {
namespace {

using test::random_vector;

std::vector<Int8Backend> testable_backends() {
  std::vector<Int8Backend> backends = {Int8Backend::portable};
  if (supports_avx512_vnni_kernels(cpu_features())) backends.push_back(Int8Backend::avx512_vnni);
  return backends;
}

const char* name(Int8Backend backend) {
  return backend == Int8Backend::avx512_vnni ? "avx512_vnni" : backend == Int8Backend::portable ? "portable" : "automatic";
}

// The largest difference relative to the largest magnitude of the reference (the int32 sums are
// exact; only the float epilogue's order and the SIMD GELU can differ).
double relative_difference(const std::vector<float>& fast, const std::vector<float>& ref) {
  double worst = 0, scale = 0;
  for (std::size_t i = 0; i < ref.size(); ++i) {
    worst = std::max(worst, std::fabs(double{fast[i]} - double{ref[i]}));
    scale = std::max(scale, std::fabs(double{ref[i]}));
  }
  return scale > 0 ? worst / scale : worst;
}

}  // namespace

TEST_CASE("quantize_rows_int8: per-row symmetric scale, round to nearest even, zero and non-finite rows",
          "[int8]") {
  const std::vector<float> x = {1.0f, -2.0f, 0.5f, 0.0f,                    // 127/2: 63.5 -> 64, -127, 31.75 -> 32
                                0.0f, 0.0f, 0.0f, 0.0f,                      // all zero
                                1.0f, std::numeric_limits<float>::quiet_NaN(), 0.0f, 0.0f,
                                3.0f, -3.0f, 1.5f, 0.0f};                    // 63.5 -> 64 (even), -127
  std::vector<std::int8_t> q(16, 99);
  std::vector<float> scale(4, -1.0f);
  quantize_rows_int8(x.data(), 4, 4, 4, q.data(), 4, scale.data());
  CHECK(scale[0] == 2.0f / 127.0f);
  CHECK(std::vector<int>(q.begin(), q.begin() + 4) == std::vector<int>{64, -127, 32, 0});
  CHECK(scale[1] == 0.0f);
  CHECK(std::vector<int>(q.begin() + 4, q.begin() + 8) == std::vector<int>{0, 0, 0, 0});
  CHECK(std::isnan(scale[2]));
  CHECK(std::vector<int>(q.begin() + 8, q.begin() + 12) == std::vector<int>{0, 0, 0, 0});
  CHECK(std::vector<int>(q.begin() + 12, q.begin() + 16) == std::vector<int>{127, -127, 64, 0});
}

TEST_CASE("quantize_rows_int8 equals its scalar reference bit for bit on odd sizes", "[int8]") {
  for (const int k : {1, 7, 17, 197, 385}) {
    const int rows = 5, ld = k + 2;
    std::vector<float> x = random_vector(static_cast<std::size_t>(rows) * ld, 40 + k, -3.0f, 3.0f);
    // Row 1: values that land exactly on .5 after scaling (ties to even); row 2 all zero; row 3 an
    // infinity at the end; row 4 a NaN at the start.
    for (int i = 0; i < k; ++i) x[static_cast<std::size_t>(ld + i)] = (i % 2 ? -1.0f : 1.0f) * (0.5f + float(i % 127)) / 127.0f;
    x[static_cast<std::size_t>(ld)] = 1.0f;  // the row's maximum: the scale is exactly 1/127
    std::fill(x.begin() + 2 * ld, x.begin() + 2 * ld + k, 0.0f);
    x[static_cast<std::size_t>(3 * ld + k - 1)] = std::numeric_limits<float>::infinity();
    x[static_cast<std::size_t>(4 * ld)] = std::numeric_limits<float>::quiet_NaN();
    std::vector<std::int8_t> fast(static_cast<std::size_t>(rows) * k, 1), ref(fast.size(), 2);
    std::vector<float> fast_scale(rows), ref_scale(rows);
    quantize_rows_int8(x.data(), ld, rows, k, fast.data(), k, fast_scale.data());
    quantize_rows_int8_ref(x.data(), ld, rows, k, ref.data(), k, ref_scale.data());
    INFO("k=" << k);
    CHECK(fast == ref);
    for (int r = 0; r < rows; ++r) {
      if (std::isnan(ref_scale[r])) CHECK(std::isnan(fast_scale[r]));
      else CHECK(fast_scale[r] == ref_scale[r]);
    }
  }
}

TEST_CASE("linear_int8 equals the scalar reference on odd sizes, every epilogue, both backends", "[int8]") {
  ThreadPool pool(3);
  const std::vector<int> sizes = {1, 7, 17, 197, 385};
  for (const Int8Backend backend : testable_backends()) {
    for (const int m : sizes) {
      for (const int n : {1, 17, 385}) {
        for (const int k : {1, 7, 197, 385}) {
          const int lda = k + 3, ldo = n + 5;
          const std::vector<float> a = random_vector(static_cast<std::size_t>(m) * lda, 11 + m + k);
          const std::vector<float> b = random_vector(static_cast<std::size_t>(n) * k, 29 + n + k);
          const std::vector<float> bias = random_vector(static_cast<std::size_t>(n), 5 + n);
          const PackedMatrixInt8 packed = PackedMatrixInt8::pack(b.data(), n, k, k, backend);
          const std::vector<float> residual = random_vector(static_cast<std::size_t>(m) * ldo, 13 + m);
          for (const auto& [use_bias, gelu, accumulate, fused] :
               {std::tuple{false, false, false, false}, std::tuple{true, true, false, false},
                std::tuple{true, false, true, false}, std::tuple{true, false, false, true}}) {
            INFO(name(backend) << " m=" << m << " n=" << n << " k=" << k << " bias=" << use_bias << " gelu=" << gelu
                               << " accumulate=" << accumulate << " residual and clamp=" << fused);
            LinearEpilogue e{use_bias ? bias.data() : nullptr, gelu, accumulate};
            if (fused) e.residual = residual.data(), e.lo = -0.5f, e.hi = 0.75f;
            std::vector<float> fast = random_vector(static_cast<std::size_t>(m) * ldo, 7), ref = fast;
            linear_int8(a.data(), lda, m, packed, fast.data(), ldo, e, m * n * k > 100000 ? &pool : nullptr);
            linear_int8_ref(a.data(), lda, m, b.data(), n, k, ref.data(), ldo, e);
            CHECK(relative_difference(fast, ref) <= 2e-6);
          }
        }
      }
    }
  }
}

TEST_CASE("linear_int8: K over several blocks, threads and backends give the same floats", "[int8][threads]") {
  const int m = 37, n = 70, k = 4 * 1024 * 2 + 3;  // three K blocks of the micro-kernel
  const std::vector<float> a = random_vector(static_cast<std::size_t>(m) * k, 3);
  const std::vector<float> b = random_vector(static_cast<std::size_t>(n) * k, 4);
  std::vector<float> ref(static_cast<std::size_t>(m) * n);
  linear_int8_ref(a.data(), k, m, b.data(), n, k, ref.data(), n, {});
  std::vector<std::vector<float>> results;
  ThreadPool pool(2);
  for (const Int8Backend backend : testable_backends()) {
    const PackedMatrixInt8 packed = PackedMatrixInt8::pack(b.data(), n, k, k, backend, &pool);
    for (ThreadPool* p : {static_cast<ThreadPool*>(nullptr), &pool}) {
      std::vector<float> out(static_cast<std::size_t>(m) * n);
      linear_int8(a.data(), k, m, packed, out.data(), n, {}, p);
      INFO(name(backend));
      CHECK(relative_difference(out, ref) <= 2e-6);
      results.push_back(out);
    }
  }
  for (const auto& r : results) CHECK(r == results.front());  // bit for bit
}

TEST_CASE("linear_int8: what per-channel, per-token quantisation costs against fp32", "[int8]") {
  const int m = 197, n = 192, k = 768;  // DeiT-Tiny's fc2
  const std::vector<float> a = random_vector(static_cast<std::size_t>(m) * k, 8);
  const std::vector<float> b = random_vector(static_cast<std::size_t>(n) * k, 9, -0.05f, 0.05f);
  std::vector<float> fp32(static_cast<std::size_t>(m) * n), int8(fp32.size());
  linear_ref(a.data(), k, m, b.data(), n, k, fp32.data(), n, {});
  linear_int8(a.data(), k, m, PackedMatrixInt8::pack(b.data(), n, k), int8.data(), n, {}, nullptr);
  double error = 0, norm = 0;
  for (std::size_t i = 0; i < fp32.size(); ++i) {
    error += (int8[i] - fp32[i]) * double(int8[i] - fp32[i]);
    norm += fp32[i] * double(fp32[i]);
  }
  // Uniform operands: each rounding is at most half a step of 1/127 of the row's maximum, about
  // 0.23% rms of a uniform value; summed over K independent terms the relative rms error is of that
  // order, and far below 1%.
  CHECK(std::sqrt(error / norm) < 0.01);
  CHECK(std::sqrt(error / norm) > 1e-4);  // and it is not the fp32 product
}

TEST_CASE("int8 backend choice and shape checks", "[int8]") {
  CHECK(resolve_int8_backend(Int8Backend::portable) == Int8Backend::portable);
  const Int8Backend automatic = resolve_int8_backend(Int8Backend::automatic);
  CHECK(automatic != Int8Backend::automatic);
  if (!supports_avx512_vnni_kernels(cpu_features())) {
    CHECK(automatic == Int8Backend::portable);
    CHECK_THROWS_AS(resolve_int8_backend(Int8Backend::avx512_vnni), std::invalid_argument);
  }
  const std::vector<float> b = random_vector(12, 1);
  const PackedMatrixInt8 packed = PackedMatrixInt8::pack(b.data(), 3, 4);
  std::vector<float> out(6);
  CHECK_THROWS_AS(linear_int8(b.data(), 3, 2, packed, out.data(), 3, {}, nullptr), std::invalid_argument);
}

}  // namespace vitscope::kernels
