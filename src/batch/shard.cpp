#include "vitscope/batch/shard.hpp"

#include <cerrno>
#include <cstdlib>

#include "vitscope/core/error.hpp"

namespace vitscope::batch {
namespace {

// A whole decimal number in [1, 1'000'000], else -1.
long parse_count(const std::string& text) {
  if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos) return -1;
  errno = 0;
  const long value = std::strtol(text.c_str(), nullptr, 10);
  return errno == 0 && value >= 1 && value <= 1'000'000 ? value : -1;
}

}  // namespace

std::uint64_t fnv1a64(const std::string& bytes) {
  std::uint64_t hash = 0xcbf29ce484222325ull;  // offset basis
  for (const char c : bytes) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 0x100000001b3ull;  // FNV prime
  }
  return hash;
}

bool Shard::contains(const std::string& relative_path) const {
  return fnv1a64(relative_path) % static_cast<std::uint64_t>(count) ==
         static_cast<std::uint64_t>(index - 1);
}

Shard parse_shard(const std::string& text) {
  const auto slash = text.find('/');
  const long k = slash == std::string::npos ? -1 : parse_count(text.substr(0, slash));
  const long n = slash == std::string::npos ? -1 : parse_count(text.substr(slash + 1));
  if (k < 1 || n < 1 || k > n)
    throw ConfigError("--shard " + text + ": expected K/N with 1 <= K <= N, e.g. 2/8");
  return Shard{static_cast<int>(k), static_cast<int>(n)};
}

}  // namespace vitscope::batch
