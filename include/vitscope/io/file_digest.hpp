#pragma once
// SHA-256 of bytes in memory, as the lowercase hex string sha256sum prints.
#include <cstddef>
#include <cstdint>
#include <string>

namespace vitscope {

// 64 lowercase hex digits.
std::string sha256_hex(const std::uint8_t* data, std::size_t size);

}  // namespace vitscope
