#pragma once
// Read-only access to a .safetensors file through mmap. The whole header is validated on open
// (length, JSON, dtypes, shapes, byte spans inside the data section and not overlapping), so a
// file that opens is safe to read; every failure is a WeightsError "<path>: <problem>".
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <xtensor/xarray.hpp>

namespace vitscope {

enum class DType { F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL };

const char* dtype_name(DType dtype);
std::size_t dtype_size(DType dtype);

struct TensorInfo {
  std::string name;
  DType dtype;
  std::vector<std::int64_t> shape;
  std::size_t begin = 0;  // byte offsets into the data section (after the header)
  std::size_t end = 0;
  std::int64_t numel() const;
};

class SafeTensors {
 public:
  static SafeTensors open(const std::string& path);
  SafeTensors(SafeTensors&&) noexcept;
  SafeTensors& operator=(SafeTensors&&) noexcept;
  ~SafeTensors();

  const std::string& path() const;
  bool contains(const std::string& name) const;
  // Throws WeightsError "<path>: no tensor '<name>'" when absent.
  const TensorInfo& info(const std::string& name) const;
  std::vector<std::string> names() const;  // sorted
  const std::map<std::string, std::string>& metadata() const;  // the "__metadata__" entry

  // The tensor's bytes, exactly as stored (little-endian).
  const std::uint8_t* data(const std::string& name) const;

  // Says the tensor's bytes are no longer needed: the pages wholly inside it leave memory (a later
  // read maps them in again). Loaders call it after copying a tensor, so that loading a model does
  // not hold the file and its unpacked copy in memory at once.
  void release(const std::string& name) const;

  // A float32 copy of a floating-point tensor (F32 as is; F16, BF16 widened; F64 narrowed).
  // With expected_shape non-empty the shape must match exactly (an entry of -1 matches any size),
  // else WeightsError "<path>: tensor '<name>' has shape [..], expected [..]".
  xt::xarray<float> load_f32(const std::string& name,
                             const std::vector<std::int64_t>& expected_shape = {}) const;
  // An 8-bit copy of a U8 tensor (golden images in tests).
  xt::xarray<std::uint8_t> load_u8(const std::string& name,
                                   const std::vector<std::int64_t>& expected_shape = {}) const;

 private:
  struct Impl;
  explicit SafeTensors(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

std::string shape_to_string(const std::vector<std::int64_t>& shape);

}  // namespace vitscope
