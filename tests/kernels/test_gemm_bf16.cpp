// bf16 products on both backends: the conversions and layouts beneath them, what bf16 arithmetic
// means (rounding to nearest even, NaN and Inf), packing on a pool, and the backend choice. Their
// results against the bf16 references, on odd and ViT-sized shapes, are in test_products.cpp.
// (The AVX512-BF16 conversion also flushes fp32 denormals to zero; the random data has none.)
//
// Against the exact product of the unrounded operands, each term carries the rounding of both
// operands, at most 2^-8 relative each (the unit roundoff of an 8-bit significand), so the
// normalised error is at most 2^-7 + 2^-16 plus the fp32 tolerance.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <string>
#include <tuple>
#include <vector>

#include <catch2/catch.hpp>

#include "kernels/bf16.hpp"
#include "kernels/gemm_bf16_layout.hpp"
#include "kernels/kernel_test_util.hpp"
#include "vitscope/kernels/cpu_features.hpp"
#include "vitscope/kernels/gemm.hpp"
#include "vitscope/kernels/gemm_bf16.hpp"
#include "kernels/reference.hpp"

namespace vitscope::kernels {
namespace {

using test::compare;
using test::GemmCheck;
using test::gemm_tolerance;
using test::padding_untouched;
using test::random_vector;

bool hardware_present() { return supports_avx512_bf16_kernels(cpu_features()); }

// Every backend this CPU can run: the emulation always, the AVX512-BF16 kernels when present
// (whatever VITSCOPE_DISABLE_BF16 says: both are tested in the same run).
std::vector<Bf16Backend> testable_backends() {
  std::vector<Bf16Backend> backends = {Bf16Backend::fp32_emulation};
  if (hardware_present()) backends.push_back(Bf16Backend::avx512_bf16);
  return backends;
}

const char* name(Bf16Backend backend) {
  switch (backend) {
    case Bf16Backend::automatic: return "automatic";
    case Bf16Backend::avx512_bf16: return "avx512_bf16";
    case Bf16Backend::fp32_emulation: return "fp32_emulation";
  }
  return "?";
}

float from_bits(std::uint32_t bits) {
  float x;
  std::memcpy(&x, &bits, sizeof(x));
  return x;
}

std::uint32_t to_bits(float x) {
  std::uint32_t bits;
  std::memcpy(&bits, &x, sizeof(bits));
  return bits;
}

// ---------------------------------------------------------------------------------------------
// Conversions

struct Conversion {
  std::uint32_t fp32;
  std::uint16_t bf16;
  const char* what;
};

const Conversion kConversions[] = {
    {0x3f800000u, 0x3f80, "1"},
    {0xbfc00000u, 0xbfc0, "-1.5"},
    {0x3f808000u, 0x3f80, "1 + 2^-8: a tie, to the even 1"},
    {0x3f818000u, 0x3f82, "a tie between 0x3f81 and 0x3f82, to the even one"},
    {0x3f808001u, 0x3f81, "just past a tie"},
    {0x3f807fffu, 0x3f80, "just short of a tie"},
    {0x3f80ffffu, 0x3f81, "nearly the next bf16"},
    {0x7f7f0000u, 0x7f7f, "the largest bf16"},
    {0x7f7fffffu, 0x7f80, "FLT_MAX rounds to Inf"},
    {0x7f800000u, 0x7f80, "+Inf"},
    {0xff800000u, 0xff80, "-Inf"},
    {0x7fc00000u, 0x7fc0, "quiet NaN"},
    {0x7f800001u, 0x7fc0, "signalling NaN with a low payload stays NaN"},
    {0xff800001u, 0xffc0, "negative NaN"},
    {0x7fa00000u, 0x7fe0, "NaN keeps its upper payload"},
    {0x80000000u, 0x8000, "-0"},
    {0x00800000u, 0x0080, "smallest normal"},
};

const Conversion kDenormals[] = {
    {0x00010000u, 0x0001, "denormal bf16"},
    {0x00008000u, 0x0000, "denormal tie to even 0"},
    {0x00018000u, 0x0002, "denormal tie to even 2"},
    {0x807fffffu, 0x8080, "largest negative denormal rounds to the smallest normal"},
};

TEST_CASE("float_to_bf16 rounds to nearest even and keeps NaN", "[bf16][convert]") {
  for (const Conversion& c : kConversions) {
    INFO(c.what << ": 0x" << std::hex << c.fp32 << " -> 0x" << float_to_bf16(from_bits(c.fp32))
                << ", expected 0x" << c.bf16);
    CHECK(float_to_bf16(from_bits(c.fp32)) == c.bf16);
  }
  for (const Conversion& c : kDenormals) {
    INFO(c.what << ": 0x" << std::hex << c.fp32);
    CHECK(float_to_bf16(from_bits(c.fp32)) == c.bf16);
  }
  CHECK(bf16_to_float(0x3f80) == 1.0f);
  CHECK(bf16_to_float(0xc040) == -3.0f);
  CHECK(round_to_bf16(3.14159265f) == 3.140625f);
  CHECK(std::isnan(round_to_bf16(std::numeric_limits<float>::quiet_NaN())));
}

TEST_CASE("The AVX512-BF16 conversion agrees with float_to_bf16, denormals flushed",
          "[bf16][convert]") {
  if (!hardware_present()) {
    WARN("this CPU has no AVX512-BF16: hardware conversion not tested");
    return;
  }
  // One row of 37 values (an odd K past a whole vector): the special cases, then random ones.
  std::vector<float> row;
  for (const Conversion& c : kConversions) row.push_back(from_bits(c.fp32));
  const std::vector<float> randoms = random_vector(37 - row.size(), 7, -100.0f, 100.0f);
  row.insert(row.end(), randoms.begin(), randoms.end());
  const int k = static_cast<int>(row.size());
  std::vector<std::uint32_t> pairs(32, 0xdeadbeefu);
  gemm_bf16_detail::avx512bf16::convert_a(row.data(), k, 1, k, pairs.data(), 32);
  for (int p = 0; p < k; ++p) {
    const std::uint16_t got = static_cast<std::uint16_t>(pairs[p / 2] >> (16 * (p % 2)));
    INFO("element " << p << " = 0x" << std::hex << to_bits(row[p]) << ": hardware 0x" << got
                    << ", scalar 0x" << float_to_bf16(row[p]));
    CHECK(got == float_to_bf16(row[p]));
  }
  CHECK((pairs[k / 2] >> 16) == 0u);              // the odd K's last pair has a zero high half
  CHECK(pairs[(k + 1) / 2] == 0xdeadbeefu);        // nothing written past ceil(K/2) pairs

  std::vector<float> denormals;
  for (const Conversion& c : kDenormals) denormals.push_back(from_bits(c.fp32));
  gemm_bf16_detail::avx512bf16::convert_a(denormals.data(), 4, 1, 4, pairs.data(), 32);
  for (int p = 0; p < 4; ++p) {
    const std::uint16_t got = static_cast<std::uint16_t>(pairs[p / 2] >> (16 * (p % 2)));
    INFO("denormal 0x" << std::hex << to_bits(denormals[p]) << " -> 0x" << got);
    CHECK(got == (to_bits(denormals[p]) >> 16 & 0x8000u));  // ±0
  }
}

// ---------------------------------------------------------------------------------------------
// Layouts of the AVX512-BF16 kernels (gemm_bf16_layout.hpp), element by element.

// Element p of K (0 past k) of packed panels with k2 pairs, output column j.
std::uint16_t packed_element(const std::vector<std::uint32_t>& packed, int k2, int j, int p) {
  using gemm_bf16_detail::kNR;
  const std::uint32_t pair =
      packed[std::size_t(j / kNR) * k2 * kNR + std::size_t(p / 2) * kNR + j % kNR];
  return static_cast<std::uint16_t>(pair >> (16 * (p % 2)));
}

TEST_CASE("bf16 packing puts every element in its pair, panel and column", "[bf16][layout]") {
  if (!hardware_present()) {
    WARN("this CPU has no AVX512-BF16: its packing is not tested");
    return;
  }
  using gemm_bf16_detail::kNR;
  for (const auto& [n, k, pad] : {std::tuple{1, 1, 0}, std::tuple{7, 33, 3}, std::tuple{49, 64, 0},
                                  std::tuple{97, 17, 5}, std::tuple{16, 2, 1}}) {
    INFO("n=" << n << " k=" << k << " pad=" << pad);
    const int k2 = (k + 1) / 2, n_padded = (n + kNR - 1) / kNR * kNR;
    const std::vector<float> nk = random_vector(std::size_t(n) * (k + pad), n * 31 + k);
    std::vector<std::uint32_t> packed(gemm_bf16_detail::packed_b_pairs_size(n, k), 0xdeadbeefu);
    gemm_bf16_detail::avx512bf16::pack_b_nk(nk.data(), k + pad, n, k, packed.data());
    int wrong = 0;
    for (int j = 0; j < n_padded; ++j)
      for (int p = 0; p < 2 * k2; ++p) {
        const std::uint16_t expected =
            j < n && p < k ? float_to_bf16(nk[std::size_t(j) * (k + pad) + p]) : 0;
        wrong += packed_element(packed, k2, j, p) != expected;
      }
    CHECK(wrong == 0);

    const std::vector<float> kn = random_vector(std::size_t(k) * (n + pad), n * 37 + k);
    std::fill(packed.begin(), packed.end(), 0xdeadbeefu);
    gemm_bf16_detail::avx512bf16::pack_b_kn(kn.data(), n + pad, k, n, packed.data());
    wrong = 0;
    for (int j = 0; j < n_padded; ++j)
      for (int p = 0; p < 2 * k2; ++p) {
        const std::uint16_t expected =
            j < n && p < k ? float_to_bf16(kn[std::size_t(p) * (n + pad) + j]) : 0;
        wrong += packed_element(packed, k2, j, p) != expected;
      }
    CHECK(wrong == 0);
  }
}

// ---------------------------------------------------------------------------------------------
// linear_bf16: what bf16 arithmetic means (its results against the references are checked with
// the other arithmetics in test_products.cpp)

TEST_CASE("linear_bf16 multiplies the operands rounded to nearest even bf16", "[bf16][linear]") {
  // Each value and its bf16, chosen so that every product and sum below is exact in fp32:
  //   1 + 2^-8        → 1           (a tie, to even)
  //   1 + 3·2^-8      → 1 + 2^-6    (a tie, to even)
  //   1 + 2^-8 + 2^-12 → 1 + 2^-7   (past the tie)
  //   3 − 2^-9        → 3           (nearest)
  // K = 3 and 5 leave the last bf16 pair half empty.
  const float a[2][5] = {
      {1.0f + 0x1p-8f, 1.0f + 3 * 0x1p-8f, 1.0f + 0x1p-8f + 0x1p-12f, 2.0f, 0.5f},
      {3.0f - 0x1p-9f, -1.0f, 1.0f, 0.25f, -4.0f}};
  const float b[2][5] = {{1.0f, 1.0f, 1.0f, 1.0f, 1.0f}, {2.0f, 4.0f, 8.0f, 16.0f, 32.0f}};
  const float a16[2][5] = {{1.0f, 1.0f + 0x1p-6f, 1.0f + 0x1p-7f, 2.0f, 0.5f},
                           {3.0f, -1.0f, 1.0f, 0.25f, -4.0f}};
  for (int k : {3, 5}) {
    for (Bf16Backend backend : testable_backends()) {
      INFO("backend " << name(backend) << " k=" << k);
      const PackedMatrixBf16 packed = PackedMatrixBf16::pack(&b[0][0], 2, k, 5, backend);
      std::vector<float> out(4, 0.0f);
      linear_bf16(&a[0][0], 5, 2, packed, out.data(), 2, LinearEpilogue{}, nullptr);
      for (int i = 0; i < 2; ++i) {
        for (int j = 0; j < 2; ++j) {
          float expected = 0.0f;
          for (int p = 0; p < k; ++p) expected += a16[i][p] * b[j][p];
          INFO("out[" << i << "," << j << "]");
          CHECK(out[std::size_t(i) * 2 + j] == expected);
        }
      }
    }
  }
}

TEST_CASE("linear_bf16 differs from the fp32 product by bf16 rounding, no more and no less",
          "[bf16][linear]") {
  const int m = 33, n = 65, k = 385;
  const std::vector<float> a = random_vector(std::size_t(m) * k, 101);
  const std::vector<float> b = random_vector(std::size_t(n) * k, 102);
  std::vector<float> exact(std::size_t(m) * n);
  std::vector<double> magnitude(exact.size());
  for (int i = 0; i < m; ++i) {
    for (int j = 0; j < n; ++j) {
      double s = 0.0, mag = 0.0;
      for (int p = 0; p < k; ++p) {
        const double t = double(a[std::size_t(i) * k + p]) * b[std::size_t(j) * k + p];
        s += t;
        mag += std::abs(t);
      }
      exact[std::size_t(i) * n + j] = static_cast<float>(s);
      magnitude[std::size_t(i) * n + j] = mag;
    }
  }
  const double bound = 0x1p-7 + 0x1p-16 + gemm_tolerance(k);
  for (Bf16Backend backend : testable_backends()) {
    INFO("backend " << name(backend));
    const PackedMatrixBf16 packed = PackedMatrixBf16::pack(b.data(), n, k, k, backend);
    std::vector<float> out(exact.size());
    linear_bf16(a.data(), k, m, packed, out.data(), n, LinearEpilogue{}, nullptr);
    const GemmCheck check = compare(out, exact, magnitude, m, n, n);
    INFO("worst normalised diff from the exact fp32 product " << check.worst << " at ["
         << check.row << "," << check.col << "]: bf16 " << check.fast << " exact " << check.ref
         << " (bound " << bound << ", fp32 tolerance " << gemm_tolerance(k) << ")");
    CHECK(check.worst <= bound);
    // Operands really are rounded: random terms with errors of up to 2^-7 relative do not all
    // cancel to within fp32 rounding.
    CHECK(check.worst > 4 * gemm_tolerance(k));
  }
}

TEST_CASE("linear_bf16 propagates NaN and Inf to the outputs they reach", "[bf16][linear]") {
  const int m = 9, n = 50, k = 35;
  std::vector<float> a = random_vector(std::size_t(m) * k, 201);
  std::vector<float> b = random_vector(std::size_t(n) * k, 202);
  a[std::size_t(2) * k + 33] = std::numeric_limits<float>::quiet_NaN();  // row 2
  b[std::size_t(49) * k + 34] = std::numeric_limits<float>::infinity();  // column 49, odd K tail
  for (Bf16Backend backend : testable_backends()) {
    INFO("backend " << name(backend));
    const PackedMatrixBf16 packed = PackedMatrixBf16::pack(b.data(), n, k, k, backend);
    std::vector<float> out(std::size_t(m) * n);
    linear_bf16(a.data(), k, m, packed, out.data(), n, LinearEpilogue{}, nullptr);
    int wrong = 0;
    for (int i = 0; i < m; ++i) {
      for (int j = 0; j < n; ++j) {
        const float x = out[std::size_t(i) * n + j];
        const bool nan_expected = i == 2;
        const bool inf_expected = !nan_expected && j == 49;
        wrong += nan_expected ? !std::isnan(x) : inf_expected ? !std::isinf(x) : !std::isfinite(x);
      }
    }
    CHECK(wrong == 0);
  }
}

TEST_CASE("PackedMatrixBf16 packed on a pool is the same as packed on one thread", "[bf16][linear]") {
  // Packing is data movement plus rounding per element: the two must be bitwise equal, padding
  // included (the serial packing itself is checked through linear_bf16 against the reference).
  ThreadPool pool(2);
  for (Bf16Backend backend : testable_backends()) {
    for (int n : {1, 7, 17, 197, 385, 1152}) {
      for (int k : {1, 17, 385}) {
        INFO("backend " << name(backend) << " n=" << n << " k=" << k);
        const int ldb = k + 3;
        const std::vector<float> b =
            random_vector(std::size_t(n) * ldb, static_cast<std::uint32_t>(n * 131 + k));
        const PackedMatrixBf16 serial = PackedMatrixBf16::pack(b.data(), n, k, ldb, backend);
        const PackedMatrixBf16 threaded =
            PackedMatrixBf16::pack(b.data(), n, k, ldb, backend, &pool);
        REQUIRE(threaded.bytes() == serial.bytes());
        if (backend == Bf16Backend::avx512_bf16) {
          const std::size_t words = serial.bytes() / sizeof(std::uint32_t);
          CHECK(std::equal(serial.pairs(), serial.pairs() + words, threaded.pairs()));
        } else {
          const PackedMatrix& a = serial.emulated();
          CHECK(std::equal(a.data(), a.data() + a.size(), threaded.emulated().data()));
        }
      }
    }
  }
}

TEST_CASE("PackedMatrixBf16 rejects impossible shapes and halves the weights' memory",
          "[bf16][linear]") {
  const std::vector<float> b(12, 1.0f);
  CHECK_THROWS_AS(PackedMatrixBf16::pack(b.data(), 3, 4, 3), std::invalid_argument);
  CHECK_THROWS_AS(PackedMatrixBf16::pack(b.data(), -1, 4), std::invalid_argument);
  const std::vector<float> w = random_vector(std::size_t(768) * 768, 5);
  const PackedMatrix fp32 = PackedMatrix::pack(w.data(), 768, 768);
  for (Bf16Backend backend : testable_backends()) {
    INFO("backend " << name(backend));
    const PackedMatrixBf16 packed = PackedMatrixBf16::pack(w.data(), 768, 768, 768, backend);
    const std::size_t fp32_bytes = fp32.size() * sizeof(float);
    CHECK(packed.bytes() == (backend == Bf16Backend::avx512_bf16 ? fp32_bytes / 2 : fp32_bytes));
  }
}

TEST_CASE("bf16 entry points reject impossible strides", "[bf16]") {
  std::vector<float> buf(64, 0.0f);
  for (Bf16Backend backend : testable_backends()) {
    CHECK_THROWS_AS(gemm_abt_bf16(2, 2, 4, 1.0f, buf.data(), 3, buf.data(), 4, buf.data(), 2,
                                  nullptr, backend),
                    std::invalid_argument);
    CHECK_THROWS_AS(
        gemm_ab_bf16(2, 4, 2, buf.data(), 2, buf.data(), 3, buf.data(), 4, nullptr, backend),
        std::invalid_argument);
  }
  const PackedMatrixBf16 packed = PackedMatrixBf16::pack(buf.data(), 4, 4);
  CHECK_THROWS_AS(linear_bf16(buf.data(), 3, 2, packed, buf.data(), 4, {}, nullptr),
                  std::invalid_argument);
}

// ---------------------------------------------------------------------------------------------
// Backend choice

TEST_CASE("The bf16 backend follows the CPU and VITSCOPE_DISABLE_BF16", "[bf16][backend]") {
  const bool disabled = kernels_disabled_by_env_value(std::getenv("VITSCOPE_DISABLE_BF16"));
  CHECK(bf16_hardware_available() == (hardware_present() && !disabled));
  CHECK(resolve_bf16_backend(Bf16Backend::automatic) ==
        (bf16_hardware_available() ? Bf16Backend::avx512_bf16 : Bf16Backend::fp32_emulation));
  CHECK(resolve_bf16_backend(Bf16Backend::fp32_emulation) == Bf16Backend::fp32_emulation);
  if (hardware_present()) {
    CHECK(resolve_bf16_backend(Bf16Backend::avx512_bf16) == Bf16Backend::avx512_bf16);
  } else {
    CHECK_THROWS_AS(resolve_bf16_backend(Bf16Backend::avx512_bf16), std::invalid_argument);
  }
  const std::vector<float> b(8, 1.0f);
  CHECK(PackedMatrixBf16::pack(b.data(), 2, 4).backend() ==
        resolve_bf16_backend(Bf16Backend::automatic));
}

}  // namespace
}  // namespace vitscope::kernels
