#pragma once
// Helpers for the io tests: a scratch directory, a byte-level safetensors file builder, and a
// probe that returns the message of the WeightsError an action throws.
#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include <stdlib.h>  // mkdtemp

#include <catch2/catch.hpp>

#include "vitscope/core/error.hpp"

namespace vitscope::test {

using Bytes = std::vector<std::uint8_t>;

// A fresh directory under $TMPDIR (or /tmp), removed with everything in it on destruction.
class TempDir {
 public:
  TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string pattern = std::string(base && *base ? base : "/tmp") + "/vitscope_io_XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) FAIL("mkdtemp " << pattern << ": " << std::strerror(errno));
    path_ = pattern;
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }

  std::string file(const std::string& name) const { return path_ + "/" + name; }

  // Writes `bytes` to <dir>/<name> and returns the full path.
  std::string write(const std::string& name, const Bytes& bytes) const {
    const std::string path = file(name);
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    out.close();
    if (!out) FAIL("cannot write " << path);
    return path;
  }
  std::string write(const std::string& name, const std::string& text) const {
    return write(name, Bytes(text.begin(), text.end()));
  }

 private:
  std::string path_;
};

// The 8-byte little-endian length of a header of `header_length` bytes.
inline Bytes length_prefix(std::uint64_t header_length) {
  Bytes out(8);
  for (int i = 0; i < 8; ++i) out[i] = static_cast<std::uint8_t>(header_length >> (8 * i));
  return out;
}

// A safetensors file: length prefix, the JSON header text as given, then the data section.
inline Bytes safetensors_bytes(const std::string& header, const Bytes& data = {}) {
  const Bytes prefix = length_prefix(header.size());
  Bytes out(prefix.size() + header.size() + data.size());
  auto next = std::copy(prefix.begin(), prefix.end(), out.begin());
  next = std::copy(header.begin(), header.end(), next);
  std::copy(data.begin(), data.end(), next);
  return out;
}

// The little-endian bytes of `values` (the host is little-endian, as the reader requires).
template <typename T>
Bytes bytes_of(const std::vector<T>& values) {
  Bytes out(values.size() * sizeof(T));
  if (!out.empty()) std::memcpy(out.data(), values.data(), out.size());
  return out;
}

inline Bytes concat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const Bytes& part : parts) out.insert(out.end(), part.begin(), part.end());
  return out;
}

// Runs `action`, which must throw WeightsError, and returns its message. Any other outcome
// (no exception, another exception type) fails the test.
inline std::string weights_error(const std::function<void()>& action) {
  try {
    action();
  } catch (const WeightsError& e) {
    return e.what();
  } catch (const std::exception& e) {
    FAIL("expected a WeightsError, got another exception: " << e.what());
  } catch (...) {
    FAIL("expected a WeightsError, got a non-standard exception");
  }
  FAIL("expected a WeightsError, but nothing was thrown");
  return {};
}

}  // namespace vitscope::test
