#pragma once
// Numbers read from JSON files that people edit (manifests, settings files), checked before they are
// converted: a double outside the range of int or float, converted anyway, is undefined behaviour,
// and 224.5 pixels or a NaN std are mistakes to name, not values to round.

#include <string>

#include <nlohmann/json.hpp>

namespace vitscope {

// An integer within [min, max]; anything else (a fraction, a string, out of range) throws
// ConfigError naming `what`.
int json_int(const nlohmann::json& value, const std::string& what, int min, int max);

// A finite number that float can hold; anything else throws ConfigError naming `what`.
float json_float(const nlohmann::json& value, const std::string& what);

// A finite number; anything else throws ConfigError naming `what`.
double json_double(const nlohmann::json& value, const std::string& what);

}  // namespace vitscope
