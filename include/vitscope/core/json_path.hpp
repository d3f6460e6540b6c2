#pragma once
// File paths in JSON output, exactly and reversibly, whatever bytes the name holds. JSON strings
// are UTF-8, file names are bytes: a name that is valid UTF-8 is written as is under `key`; one
// that is not is written under `key` with each invalid byte replaced by U+FFFD (for reading), and
// its exact bytes under `key + "_bytes"` as lowercase hex (for programs).
#include <string>

#include <nlohmann/json.hpp>

namespace vitscope {

bool is_valid_utf8(const std::string& text);

// j[key] = path (made valid), and j[key + "_bytes"] = hex bytes when it had to be.
template <class Json>
void put_path(Json& j, const std::string& key, const std::string& path);

// The exact path a put_path object holds (key + "_bytes" when present, else key).
std::string get_path(const nlohmann::json& j, const std::string& key);

// The text with every byte that is not part of valid UTF-8 replaced by U+FFFD.
std::string utf8_or_replacement(const std::string& text);
std::string hex_of(const std::string& bytes);
std::string bytes_of_hex(const std::string& hex);  // std::invalid_argument on bad hex

extern template void put_path<nlohmann::json>(nlohmann::json&, const std::string&, const std::string&);
extern template void put_path<nlohmann::ordered_json>(nlohmann::ordered_json&, const std::string&, const std::string&);

}  // namespace vitscope
