// Every arithmetic of the matrix products against its scalar reference, through one set of checks:
// fp32, bf16 as the models run it (LinearWeights and the activation products of that precision,
// on the backend this CPU picks), and bf16 on the other backend when this CPU can run it. Linear
// layers on odd sizes, each epilogue and ViT shapes; attention's q·kᵀ and p·v on odd sizes with
// strides and alpha, and as read from a fused qkv buffer.
//
// Error measure: per element, |fast - ref| / (Σ_p |a_ip · b_pj| + |bias_j| + |previous out_ij|),
// the difference relative to the magnitudes summed (for bf16, of the bf16-rounded operands, which
// fast and reference both multiply: a product of two bf16 is exact in fp32, so the two differ only
// in the order of their fp32 sums). Both are within K·u of the exact value times that sum, so they
// may differ by K·FLT_EPSILON; an indexing, pair, panel or tail bug is off by a whole term, ~1/K.
#include <algorithm>
#include <cmath>
#include <functional>
#include <string>
#include <tuple>
#include <vector>

#include <catch2/catch.hpp>

#include "kernels/bf16.hpp"
#include "kernels/kernel_test_util.hpp"
#include "kernels/reference.hpp"
#include "vitscope/kernels/cpu_features.hpp"
#include "vitscope/kernels/gemm_bf16.hpp"
#include "vitscope/kernels/linear.hpp"

namespace vitscope::kernels {
namespace {

using test::AttentionCase;
using test::compare;
using test::GemmCheck;
using test::gemm_tolerance;
using test::padding_untouched;
using test::random_vector;

using LinearRun = std::function<void(const float* a, int lda, int m, float* out, int ldo,
                                     const LinearEpilogue& epilogue, ThreadPool* pool)>;
using LinearRef = void (*)(const float* a, int lda, int m, const float* b, int n, int k, float* out,
                           int ldo, const LinearEpilogue& epilogue);
using AbtRef = void (*)(int m, int n, int k, float alpha, const float* a, int lda, const float* b,
                        int ldb, float* c, int ldc);
using AbRef = void (*)(int m, int n, int k, const float* a, int lda, const float* b, int ldb,
                       float* c, int ldc);

// One arithmetic of the products: how to pack a weight and run linear with it, the activation
// products, their references, and the operand values the magnitudes are computed on.
struct Arithmetic {
  std::string name;
  std::function<LinearRun(const float* b, int n, int k, int ldb)> pack;
  LinearRef linear_reference;
  ActivationProducts products;
  AbtRef abt_reference;
  AbRef ab_reference;
  float (*operand)(float);
};

float unchanged(float x) { return x; }
float bf16_value(float x) { return round_to_bf16(x); }

LinearRun weights_of(LinearWeights w) {
  return [w = std::move(w)](const float* a, int lda, int m, float* out, int ldo,
                            const LinearEpilogue& e, ThreadPool* pool) { w.apply(a, lda, m, out, ldo, e, pool); };
}

// The bf16 products on one backend, named explicitly.
Arithmetic bf16_backend(Bf16Backend backend, const char* name) {
  static Bf16Backend emulation = Bf16Backend::fp32_emulation, hardware = Bf16Backend::avx512_bf16;
  const bool hw = backend == Bf16Backend::avx512_bf16;
  ActivationProducts products =
      hw ? ActivationProducts{[](int m, int n, int k, float alpha, const float* a, int lda, const float* b,
                                 int ldb, float* c, int ldc, ThreadPool* pool) {
                                gemm_abt_bf16(m, n, k, alpha, a, lda, b, ldb, c, ldc, pool, hardware);
                              },
                              [](int m, int n, int k, const float* a, int lda, const float* b, int ldb,
                                 float* c, int ldc, ThreadPool* pool) {
                                gemm_ab_bf16(m, n, k, a, lda, b, ldb, c, ldc, pool, hardware);
                              }}
         : ActivationProducts{[](int m, int n, int k, float alpha, const float* a, int lda, const float* b,
                                 int ldb, float* c, int ldc, ThreadPool* pool) {
                                gemm_abt_bf16(m, n, k, alpha, a, lda, b, ldb, c, ldc, pool, emulation);
                              },
                              [](int m, int n, int k, const float* a, int lda, const float* b, int ldb,
                                 float* c, int ldc, ThreadPool* pool) {
                                gemm_ab_bf16(m, n, k, a, lda, b, ldb, c, ldc, pool, emulation);
                              }};
  return Arithmetic{name,
                    [backend](const float* b, int n, int k, int ldb) -> LinearRun {
                      PackedMatrixBf16 packed = PackedMatrixBf16::pack(b, n, k, ldb, backend);
                      REQUIRE(packed.backend() == backend);
                      return [packed](const float* a, int lda, int m, float* out, int ldo,
                                      const LinearEpilogue& e, ThreadPool* pool) {
                        linear_bf16(a, lda, m, packed, out, ldo, e, pool);
                      };
                    },
                    linear_bf16_ref, products, gemm_abt_bf16_ref, gemm_ab_bf16_ref, bf16_value};
}

std::vector<Arithmetic> arithmetics() {
  std::vector<Arithmetic> all;
  for (Precision precision : {Precision::Fp32, Precision::Bf16}) {
    const bool bf16 = precision == Precision::Bf16;
    all.push_back(Arithmetic{
        bf16 ? "bf16 (LinearWeights, the backend this CPU picks)" : "fp32 (LinearWeights)",
        [precision](const float* b, int n, int k, int ldb) {
          LinearWeights w = LinearWeights::pack(b, n, k, ldb, precision);
          REQUIRE(w.precision() == precision);
          REQUIRE(w.rows() == n);
          REQUIRE(w.cols() == k);
          return weights_of(std::move(w));
        },
        bf16 ? linear_bf16_ref : linear_ref, activation_products(precision),
        bf16 ? gemm_abt_bf16_ref : gemm_abt_ref, bf16 ? gemm_ab_bf16_ref : gemm_ab_ref,
        bf16 ? bf16_value : unchanged});
  }
  // The backend automatic did not pick, when this CPU runs it (both are tested in the same run).
  if (bf16_hardware_available())
    all.push_back(bf16_backend(Bf16Backend::fp32_emulation, "bf16 (fp32 emulation backend)"));
  else if (supports_avx512_bf16_kernels(cpu_features()))
    all.push_back(bf16_backend(Bf16Backend::avx512_bf16, "bf16 (AVX512-BF16 backend)"));
  return all;
}

// Σ_p |x_ip · y_jp| (+ |bias_j| + |out0_ij|) on the operands as the arithmetic sees them: the scale
// of out[i, j]'s rounding error. x has row stride ldx, y row stride ldy.
std::vector<double> magnitudes(const Arithmetic& arith, const std::vector<float>& x, int ldx,
                               const std::vector<float>& y, int ldy, int m, int n, int k,
                               const float* bias, const std::vector<float>* out0, int ldo) {
  std::vector<double> magnitude(std::size_t(m) * n);
  for (int i = 0; i < m; ++i)
    for (int j = 0; j < n; ++j) {
      double s = bias ? std::abs(bias[j]) : 0.0;
      for (int p = 0; p < k; ++p)
        s += std::abs(double(arith.operand(x[std::size_t(i) * ldx + p])) *
                      arith.operand(y[std::size_t(j) * ldy + p]));
      if (out0) s += std::abs((*out0)[std::size_t(i) * ldo + j]);
      magnitude[std::size_t(i) * n + j] = s;
    }
  return magnitude;
}

struct LinearCase {
  int m, n, k;
  bool bias, gelu, accumulate;
  int pad;  // extra columns of lda and ldo
  bool residual = false;  // a residual [M,N] (row stride ldo) added
  bool clamp = false;     // the result clamped to [-0.5, 0.75]
};

std::string describe(const LinearCase& c) {
  return "m=" + std::to_string(c.m) + " n=" + std::to_string(c.n) + " k=" + std::to_string(c.k) +
         (c.bias ? " +bias" : "") + (c.gelu ? " +gelu" : "") +
         (c.accumulate ? " +accumulate" : "") + (c.residual ? " +residual" : "") +
         (c.clamp ? " +clamp" : "") + " pad=" + std::to_string(c.pad);
}

// Runs linear with 1 and 2 threads against the reference; both thread counts must agree bit for
// bit (the tiling changes with the thread count, the order of every sum does not).
void check_linear(const Arithmetic& arith, const LinearCase& c) {
  INFO(arith.name << ": " << describe(c));
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
      std::copy_n(residual.begin() + std::size_t(i) * ldo, c.n, out0.begin() + std::size_t(i) * ldo);
  }
  const std::vector<float> residual = random_vector(out0.size(), seed + 4, -4.0f, 4.0f);
  LinearEpilogue epilogue;
  epilogue.bias = c.bias ? bias.data() : nullptr;
  epilogue.gelu = c.gelu;
  epilogue.accumulate = c.accumulate;
  if (c.residual) epilogue.residual = residual.data();
  if (c.clamp) epilogue.lo = -0.5f, epilogue.hi = 0.75f;

  std::vector<float> ref = out0;
  arith.linear_reference(a.data(), lda, c.m, b.data(), c.n, c.k, ref.data(), ldo, epilogue);
  std::vector<double> magnitude = magnitudes(arith, a, lda, b, c.k, c.m, c.n, c.k, epilogue.bias,
                                             c.accumulate ? &out0 : nullptr, ldo);
  if (c.residual)
    for (int i = 0; i < c.m; ++i)
      for (int j = 0; j < c.n; ++j) magnitude[std::size_t(i) * c.n + j] += std::abs(residual[std::size_t(i) * ldo + j]);
  // The weights are packed from a strided copy of b when pad > 0 (ldb > k).
  std::vector<float> b_strided(std::size_t(c.n) * lda, -777.0f);
  for (int j = 0; j < c.n; ++j)
    std::copy_n(b.begin() + std::size_t(j) * c.k, c.k, b_strided.begin() + std::size_t(j) * lda);
  const LinearRun run = arith.pack(b_strided.data(), c.n, c.k, lda);

  std::vector<float> first;
  for (int threads : {1, 2}) {
    INFO("threads=" << threads);
    ThreadPool pool(threads);
    std::vector<float> out = out0;
    run(a.data(), lda, c.m, out.data(), ldo, epilogue, &pool);
    const GemmCheck check = compare(out, ref, magnitude, c.m, c.n, ldo);
    INFO("worst normalised diff " << check.worst << " at [" << check.row << "," << check.col
                                  << "]: fast " << check.fast << " ref " << check.ref
                                  << " (tolerance " << gemm_tolerance(c.k) << ")");
    CHECK(check.worst <= gemm_tolerance(c.k));
    CHECK(padding_untouched(out, c.m, c.n, ldo, sentinel));
    if (first.empty())
      first = out;
    else
      CHECK(out == first);
  }
}

// c = alpha · a·bᵀ (transposed_b) or a·b against the reference, with 1 and 2 threads.
void check_product(const Arithmetic& arith, const AttentionCase& c, bool transposed_b) {
  INFO(arith.name << (transposed_b ? ": a·bT" : ": a·b") << " m=" << c.m << " n=" << c.n
                  << " k=" << c.k << " lda=" << c.lda << " ldb=" << c.ldb << " ldc=" << c.ldc
                  << " alpha=" << c.alpha);
  const auto seed = static_cast<std::uint32_t>(c.m * 7919 + c.n * 31 + c.k + (transposed_b ? 0 : 5));
  // a·b is p·v: a holds probabilities in [0, 1).
  const std::vector<float> a = transposed_b ? random_vector(std::size_t(c.m) * c.lda, seed)
                                            : random_vector(std::size_t(c.m) * c.lda, seed, 0.0f, 1.0f);
  const std::vector<float> b = random_vector(std::size_t(transposed_b ? c.n : c.k) * c.ldb, seed + 1);
  const float sentinel = -4321.0f;
  std::vector<float> ref(std::size_t(c.m) * c.ldc, sentinel);
  std::vector<double> magnitude;
  if (transposed_b) {
    arith.abt_reference(c.m, c.n, c.k, c.alpha, a.data(), c.lda, b.data(), c.ldb, ref.data(), c.ldc);
    magnitude = magnitudes(arith, a, c.lda, b, c.ldb, c.m, c.n, c.k, nullptr, nullptr, 0);
    for (double& x : magnitude) x *= std::abs(c.alpha);
  } else {
    arith.ab_reference(c.m, c.n, c.k, a.data(), c.lda, b.data(), c.ldb, ref.data(), c.ldc);
    std::vector<float> bt(std::size_t(c.n) * c.k);  // b transposed: magnitudes walks both along K
    for (int p = 0; p < c.k; ++p)
      for (int j = 0; j < c.n; ++j) bt[std::size_t(j) * c.k + p] = b[std::size_t(p) * c.ldb + j];
    magnitude = magnitudes(arith, a, c.lda, bt, c.k, c.m, c.n, c.k, nullptr, nullptr, 0);
  }
  for (int threads : {1, 2}) {
    INFO("threads=" << threads);
    ThreadPool pool(threads);
    std::vector<float> out(ref.size(), sentinel);
    if (transposed_b)
      arith.products.abt(c.m, c.n, c.k, c.alpha, a.data(), c.lda, b.data(), c.ldb, out.data(), c.ldc, &pool);
    else
      arith.products.ab(c.m, c.n, c.k, a.data(), c.lda, b.data(), c.ldb, out.data(), c.ldc, &pool);
    const GemmCheck check = compare(out, ref, magnitude, c.m, c.n, c.ldc);
    INFO("worst normalised diff " << check.worst << " at [" << check.row << "," << check.col
                                  << "]: fast " << check.fast << " ref " << check.ref);
    CHECK(check.worst <= gemm_tolerance(c.k));
    CHECK(padding_untouched(out, c.m, c.n, c.ldc, sentinel));
  }
}

const int kOddSizes[] = {1, 7, 17, 197, 385};

}  // namespace

TEST_CASE("linear matches its reference for every combination of odd sizes", "[gemm][linear]") {
  for (const Arithmetic& arith : arithmetics()) {
    int variant = 0;
    for (int m : kOddSizes)
      for (int n : kOddSizes)
        for (int k : kOddSizes) {
          // Cycle through the epilogues and strides so that each meets many shapes.
          const int v = variant++;
          check_linear(arith, LinearCase{m, n, k, v % 2 == 0, v % 3 == 1, v % 4 == 2, (v % 5) * 3});
        }
  }
}

TEST_CASE("linear applies each epilogue (bias, GELU, accumulate, residual, clamp) on its own and all together", "[gemm][linear]") {
  for (const Arithmetic& arith : arithmetics())
    for (const auto& [m, n, k] : {std::tuple{17, 7, 197}, std::tuple{197, 385, 17}, std::tuple{7, 197, 385}}) {
      check_linear(arith, LinearCase{m, n, k, false, false, false, 0});
      check_linear(arith, LinearCase{m, n, k, true, false, false, 0});
      check_linear(arith, LinearCase{m, n, k, false, true, false, 0});
      check_linear(arith, LinearCase{m, n, k, false, false, true, 0});
      check_linear(arith, LinearCase{m, n, k, true, true, true, 5});
      check_linear(arith, LinearCase{m, n, k, false, false, false, 0, true, false});
      check_linear(arith, LinearCase{m, n, k, false, false, false, 0, false, true});
      check_linear(arith, LinearCase{m, n, k, true, false, false, 3, true, true});  // a ResNet block's end
      check_linear(arith, LinearCase{m, n, k, true, true, true, 2, true, true});
    }
}

TEST_CASE("linear on ViT shapes", "[gemm][linear]") {
  for (const Arithmetic& arith : arithmetics()) {
    check_linear(arith, LinearCase{197, 576, 192, true, false, false, 0});   // DeiT-Tiny qkv
    check_linear(arith, LinearCase{197, 192, 192, true, false, true, 0});    // projection + residual
    check_linear(arith, LinearCase{197, 768, 192, true, true, false, 0});    // MLP fc1 + GELU
    check_linear(arith, LinearCase{197, 192, 768, true, false, true, 0});    // MLP fc2 + residual
    check_linear(arith, LinearCase{2 * 197, 2304, 768, true, false, false, 0});  // ViT-Base qkv, batch 2
    check_linear(arith, LinearCase{1, 1000, 768, true, false, false, 0});    // classifier head
    check_linear(arith, LinearCase{197, 64, 3072, false, false, false, 0});  // long K: many K blocks
    check_linear(arith, LinearCase{17, 40, 1001, true, true, true, 3});      // narrow last panel
  }
}

TEST_CASE("linear with K = 0 writes the bias, with M = 0 writes nothing", "[gemm][linear]") {
  const std::vector<float> bias = {1.5f, -2.0f, 3.25f};
  for (const Arithmetic& arith : arithmetics()) {
    INFO(arith.name);
    const LinearRun run = arith.pack(nullptr, 3, 0, 0);
    LinearEpilogue epilogue;
    epilogue.bias = bias.data();
    std::vector<float> out(6, 99.0f);
    run(nullptr, 0, 2, out.data(), 3, epilogue, nullptr);
    CHECK(out == std::vector<float>{1.5f, -2.0f, 3.25f, 1.5f, -2.0f, 3.25f});
    std::vector<float> untouched(6, 99.0f);
    run(nullptr, 0, 0, untouched.data(), 3, epilogue, nullptr);
    CHECK(untouched == std::vector<float>(6, 99.0f));
  }
}

TEST_CASE("The activation products match their references on odd sizes with strides and alpha",
          "[gemm][attention]") {
  for (const Arithmetic& arith : arithmetics())
    test::sweep_attention_cases(
        std::vector<int>(std::begin(kOddSizes), std::end(kOddSizes)),
        [&](const AttentionCase& c) { check_product(arith, c, true); },
        [&](const AttentionCase& c) { check_product(arith, c, false); });
}

TEST_CASE("The activation products on attention shapes read from a fused qkv buffer", "[gemm][attention]") {
  for (const Arithmetic& arith : arithmetics())
    test::fused_qkv_attention_cases([&](const AttentionCase& c) { check_product(arith, c, true); },
                                    [&](const AttentionCase& c) { check_product(arith, c, false); });
}

TEST_CASE("LinearWeights keeps its precision and reports its memory", "[gemm][linear]") {
  const std::vector<float> w = random_vector(std::size_t(768) * 768, 5);
  const LinearWeights fp32 = LinearWeights::pack(w.data(), 768, 768, 768, Precision::Fp32);
  const LinearWeights bf16 = LinearWeights::pack(w.data(), 768, 768, 768, Precision::Bf16);
  CHECK(fp32.precision() == Precision::Fp32);
  CHECK(bf16.precision() == Precision::Bf16);
  CHECK(fp32.bytes() == std::size_t(768) * 768 * sizeof(float));
  CHECK(bf16.bytes() == (bf16_hardware_available() ? fp32.bytes() / 2 : fp32.bytes()));
}

}  // namespace vitscope::kernels
