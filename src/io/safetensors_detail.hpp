#pragma once
// Internals of the safetensors reader, shared by src/io/safetensors_*.cpp and their tests.
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "vitscope/io/safetensors.hpp"

namespace vitscope::detail {

// The official reader's limit; real headers are kilobytes, rarely a few megabytes.
constexpr std::size_t kMaxSafeTensorsHeaderBytes = 100'000'000;

// A whole file mapped read-only. Owns the mapping; an empty file maps to (nullptr, 0).
class MappedFile {
 public:
  // Throws WeightsError "<path>: cannot open: <strerror>" (also for directories and other
  // non-regular files) or "<path>: cannot map: <strerror>".
  static MappedFile map(const std::string& path);
  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&& other) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile();

  const std::uint8_t* data() const { return data_; }
  std::size_t size() const { return size_; }
  // Drops the whole pages inside [begin, end) from memory (they are read again if touched).
  void drop_pages(std::size_t begin, std::size_t end) const noexcept;

 private:
  MappedFile(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}
  void release() noexcept;
  const std::uint8_t* data_ = nullptr;
  std::size_t size_ = 0;
};

struct SafeTensorsHeader {
  std::map<std::string, TensorInfo> tensors;
  std::map<std::string, std::string> metadata;
};

// Parses the JSON header [json, json + json_size) and validates every entry against a data
// section of data_size bytes: known dtype, non-negative shape, shape × dtype size equal to the
// byte span, spans inside the data section and pairwise disjoint. Throws WeightsError "<path>: ...".
SafeTensorsHeader parse_safetensors_header(const std::string& path, const char* json,
                                           std::size_t json_size, std::size_t data_size);

// "F32" → DType::F32; nullopt for a name the format does not define (or we do not read).
std::optional<DType> parse_dtype(std::string_view name);

// A tensor name for an error message: in single quotes, control bytes escaped as \xNN so the
// message stays on one line, and cut to a readable length.
std::string quote_name(std::string_view name);

// IEEE 754 binary16 → binary32, exact (every half is representable as a float), including
// subnormals, signed zeros, infinities and NaNs (payload kept).
float f16_to_f32(std::uint16_t half);
// bfloat16 is the high half of a binary32.
float bf16_to_f32(std::uint16_t bf16);

}  // namespace vitscope::detail
