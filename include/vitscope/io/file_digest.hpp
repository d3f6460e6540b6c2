#pragma once
// SHA-256 of bytes in memory or of a file, as the lowercase hex string sha256sum prints.
#include <cstddef>
#include <cstdint>
#include <string>

namespace vitscope {

// 64 lowercase hex digits.
std::string sha256_hex(const std::uint8_t* data, std::size_t size);

// The file's digest, read in 1 MiB pieces (weights files run to gigabytes); throws
// std::runtime_error naming the file when it cannot be read.
std::string file_sha256_hex(const std::string& path);

}  // namespace vitscope
