#pragma once
// --shard K/N: which of N disjoint parts of the inputs this process takes. A file belongs to part
// FNV-1a-64(path relative to its folder argument) mod N, so the split depends only on the names,
// never on the machine, the order of discovery or std::hash.
#include <cstdint>
#include <string>

namespace vitscope::batch {

struct Shard {
  int index = 1;  // K, 1-based
  int count = 1;  // N
  bool contains(const std::string& relative_path) const;
};

// "K/N" with 1 <= K <= N; ConfigError otherwise.
Shard parse_shard(const std::string& text);

// FNV-1a, 64 bits, over the bytes of the string.
std::uint64_t fnv1a64(const std::string& bytes);

}  // namespace vitscope::batch
