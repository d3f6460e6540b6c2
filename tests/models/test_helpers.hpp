#pragma once
// Shared helpers of the model tests: golden-file paths and tensor comparisons.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <filesystem>
#include <string>

#include <catch2/catch.hpp>

namespace vitscope::testing {

inline std::string data_path(const std::string& relative) {
  return std::string(VITSCOPE_TEST_DATA_DIR) + "/" + relative;
}

// The shared models/images folder beside the repository; a test that needs it fails loudly
// (never skips) when it is missing.
inline std::string shared_path(const std::string& relative) {
  const std::string path = std::string(VITSCOPE_SHARED_DIR) + "/" + relative;
  if (!std::filesystem::exists(path))
    FAIL("required file " << path << " is missing: this test needs ../shared beside the repository");
  return path;
}

struct Difference {
  double max_abs = 0;
  std::size_t where = 0;
};

template <class A, class B>
Difference max_abs_difference(const A& actual, const B& expected) {
  REQUIRE(actual.size() == expected.size());
  Difference d;
  auto a = actual.begin();
  auto e = expected.begin();
  for (std::size_t i = 0; i < actual.size(); ++i, ++a, ++e) {
    const double diff = std::abs(static_cast<double>(*a) - static_cast<double>(*e));
    if (!(diff <= d.max_abs)) {  // also catches NaN
      d.max_abs = std::isnan(diff) ? INFINITY : diff;
      d.where = i;
    }
  }
  return d;
}

}  // namespace vitscope::testing
