#include "vitscope/core/json_numbers.hpp"

#include <cmath>
#include <limits>

#include "vitscope/core/error.hpp"

namespace vitscope {

int json_int(const nlohmann::json& value, const std::string& what, int min, int max) {
  const std::string range = " an integer in " + std::to_string(min) + ".." + std::to_string(max);
  if (value.is_number_unsigned()) {
    const auto v = value.get<std::uint64_t>();
    if (v <= static_cast<std::uint64_t>(max) && static_cast<std::int64_t>(v) >= min) return static_cast<int>(v);
  } else if (value.is_number_integer()) {
    const auto v = value.get<std::int64_t>();
    if (v >= min && v <= max) return static_cast<int>(v);
  }
  throw ConfigError(what + " is " + value.dump() + "; expected" + range);
}

double json_double(const nlohmann::json& value, const std::string& what) {
  if (value.is_number()) {
    const double v = value.get<double>();
    if (std::isfinite(v)) return v;
  }
  throw ConfigError(what + " is " + value.dump() + "; expected a finite number");
}

float json_float(const nlohmann::json& value, const std::string& what) {
  const double v = json_double(value, what);
  if (std::fabs(v) > static_cast<double>(std::numeric_limits<float>::max()))
    throw ConfigError(what + " is " + value.dump() + "; beyond the range of a 32-bit float");
  return static_cast<float>(v);
}

}  // namespace vitscope
