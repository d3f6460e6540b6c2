#pragma once
// A copy of a safetensors file with one F32 value changed: weights that load but compute nonsense
// (a NaN or infinite bias), for the tests of what each command does with such a model's output.
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "cli/cli_runner.hpp"

namespace vitscope::testing {

// Writes `to`: `from` with element 0 of the F32 tensor `tensor` set to `value`.
inline void copy_with_value(const std::filesystem::path& from, const std::string& tensor, float value,
                            const std::filesystem::path& to) {
  std::string bytes = read_file(from);
  std::uint64_t header_length = 0;
  std::memcpy(&header_length, bytes.data(), 8);
  const nlohmann::json header = nlohmann::json::parse(bytes.substr(8, header_length));
  REQUIRE(header.at(tensor).at("dtype") == "F32");
  const std::size_t offset = 8 + header_length + header.at(tensor).at("data_offsets")[0].get<std::size_t>();
  std::memcpy(&bytes[offset], &value, sizeof value);
  std::ofstream(to, std::ios::binary) << bytes;
}

}  // namespace vitscope::testing
