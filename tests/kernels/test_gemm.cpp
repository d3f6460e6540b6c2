// The fp32 GEMM's own contracts: packing on a pool, and shapes and strides it refuses. Its results
// against the scalar references are checked with the other arithmetics in test_products.cpp.
#include <algorithm>
#include <stdexcept>
#include <vector>

#include <catch2/catch.hpp>

#include "kernels/kernel_test_util.hpp"
#include "vitscope/kernels/gemm.hpp"

namespace vitscope::kernels {
namespace {

using test::random_vector;

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

TEST_CASE("gemm entry points reject impossible strides", "[gemm]") {
  std::vector<float> buf(64, 0.0f);
  CHECK_THROWS_AS(gemm_abt(2, 2, 4, 1.0f, buf.data(), 3, buf.data(), 4, buf.data(), 2, nullptr),
                  std::invalid_argument);
  CHECK_THROWS_AS(gemm_ab(2, 4, 2, buf.data(), 2, buf.data(), 3, buf.data(), 4, nullptr),
                  std::invalid_argument);
}

}  // namespace
}  // namespace vitscope::kernels
