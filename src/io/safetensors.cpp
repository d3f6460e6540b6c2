// SafeTensors: open (map + validate) and typed copies of the tensors.
// Layout: 8-byte little-endian header length N, N bytes of JSON, then the data section.
#include "vitscope/io/safetensors.hpp"

#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "io/safetensors_detail.hpp"
#include "vitscope/core/error.hpp"

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "safetensors data is little-endian and is read without byte swapping");
static_assert(std::numeric_limits<float>::is_iec559 && std::numeric_limits<double>::is_iec559,
              "F64 → F32 narrowing relies on IEEE 754 rounding (out-of-range values become inf)");

namespace vitscope {

struct SafeTensors::Impl {
  Impl(std::string path_, detail::MappedFile file_)
      : path(std::move(path_)), file(std::move(file_)) {}

  std::string path;
  detail::MappedFile file;
  const std::uint8_t* data_section = nullptr;  // within `file`, just after the header
  std::map<std::string, TensorInfo> tensors;
  std::map<std::string, std::string> metadata;
};

namespace {

constexpr std::size_t kLengthBytes = 8;

[[noreturn]] void fail(const std::string& path, const std::string& problem) {
  throw WeightsError(path + ": " + problem);
}

std::uint64_t read_u64_le(const std::uint8_t* bytes) {
  std::uint64_t value = 0;
  for (std::size_t i = 0; i < kLengthBytes; ++i) value |= std::uint64_t{bytes[i]} << (8 * i);
  return value;
}

bool shape_matches(const std::vector<std::int64_t>& shape,
                   const std::vector<std::int64_t>& expected) {
  if (shape.size() != expected.size()) return false;
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (expected[i] != -1 && expected[i] != shape[i]) return false;
  }
  return true;
}

void check_shape(const std::string& path, const TensorInfo& info,
                 const std::vector<std::int64_t>& expected) {
  if (!expected.empty() && !shape_matches(info.shape, expected)) {
    fail(path, "tensor " + detail::quote_name(info.name) + " has shape " +
                   shape_to_string(info.shape) + ", expected " + shape_to_string(expected));
  }
}

std::vector<std::size_t> xshape(const std::vector<std::int64_t>& shape) {
  return std::vector<std::size_t>(shape.begin(), shape.end());
}

// dst[i] = convert(element i of src), reading each element with memcpy (src may be unaligned).
template <typename Stored, typename Convert>
void widen(const std::uint8_t* src, std::size_t count, float* dst, Convert convert) {
  for (std::size_t i = 0; i < count; ++i) {
    Stored value;
    std::memcpy(&value, src + i * sizeof(Stored), sizeof(Stored));
    dst[i] = convert(value);
  }
}

}  // namespace

SafeTensors SafeTensors::open(const std::string& path) {
  auto impl = std::make_unique<Impl>(path, detail::MappedFile::map(path));
  const std::uint8_t* bytes = impl->file.data();
  const std::size_t size = impl->file.size();

  if (size == 0) fail(path, "file is empty");
  if (size < kLengthBytes) {
    fail(path, "file is " + std::to_string(size) + " bytes, too short for the 8-byte header length");
  }
  const std::uint64_t header_length = read_u64_le(bytes);
  if (header_length > size - kLengthBytes) {
    fail(path, "header length " + std::to_string(header_length) + " runs past the end of the file (" +
                   std::to_string(size) + " bytes)");
  }
  if (header_length > detail::kMaxSafeTensorsHeaderBytes) {
    fail(path, "header length " + std::to_string(header_length) + " is implausibly large (limit " +
                   std::to_string(detail::kMaxSafeTensorsHeaderBytes) + " bytes)");
  }
  if (header_length == 0) fail(path, "header length is 0, expected a JSON object");

  const auto json_size = static_cast<std::size_t>(header_length);
  const char* json = reinterpret_cast<const char*>(bytes + kLengthBytes);
  const std::size_t data_size = size - kLengthBytes - json_size;
  detail::SafeTensorsHeader header = detail::parse_safetensors_header(path, json, json_size, data_size);

  impl->data_section = bytes + kLengthBytes + json_size;
  impl->tensors = std::move(header.tensors);
  impl->metadata = std::move(header.metadata);
  return SafeTensors(std::move(impl));
}

SafeTensors::SafeTensors(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SafeTensors::SafeTensors(SafeTensors&&) noexcept = default;
SafeTensors& SafeTensors::operator=(SafeTensors&&) noexcept = default;
SafeTensors::~SafeTensors() = default;

const std::string& SafeTensors::path() const { return impl_->path; }

bool SafeTensors::contains(const std::string& name) const {
  return impl_->tensors.count(name) != 0;
}

const TensorInfo& SafeTensors::info(const std::string& name) const {
  const auto it = impl_->tensors.find(name);
  if (it == impl_->tensors.end()) fail(impl_->path, "no tensor " + detail::quote_name(name));
  return it->second;
}

std::vector<std::string> SafeTensors::names() const {
  std::vector<std::string> names;
  names.reserve(impl_->tensors.size());
  for (const auto& [name, info] : impl_->tensors) names.push_back(name);
  return names;  // std::map keeps them sorted
}

const std::map<std::string, std::string>& SafeTensors::metadata() const { return impl_->metadata; }

const std::uint8_t* SafeTensors::data(const std::string& name) const {
  return impl_->data_section + info(name).begin;
}

void SafeTensors::release(const std::string& name) const {
  const TensorInfo& t = info(name);
  const std::size_t offset = static_cast<std::size_t>(impl_->data_section - impl_->file.data());
  impl_->file.drop_pages(offset + t.begin, offset + t.end);
}

xt::xarray<float> SafeTensors::load_f32(const std::string& name,
                                        const std::vector<std::int64_t>& expected_shape) const {
  const TensorInfo& t = info(name);
  const DType dtype = t.dtype;
  if (dtype != DType::F32 && dtype != DType::F16 && dtype != DType::BF16 && dtype != DType::F64) {
    fail(impl_->path, "tensor " + detail::quote_name(name) + " has dtype " + dtype_name(dtype) +
                          ", expected a floating-point tensor");
  }
  check_shape(impl_->path, t, expected_shape);
  auto out = xt::xarray<float>::from_shape(xshape(t.shape));
  const auto count = static_cast<std::size_t>(t.numel());
  if (count == 0) return out;
  const std::uint8_t* src = impl_->data_section + t.begin;
  float* dst = out.data();
  switch (dtype) {
    case DType::F32:
      std::memcpy(dst, src, count * sizeof(float));
      break;
    case DType::F16:
      widen<std::uint16_t>(src, count, dst, detail::f16_to_f32);
      break;
    case DType::BF16:
      widen<std::uint16_t>(src, count, dst, detail::bf16_to_f32);
      break;
    case DType::F64:
      widen<double>(src, count, dst, [](double v) { return static_cast<float>(v); });
      break;
    default:
      break;  // refused above
  }
  return out;
}

xt::xarray<std::uint8_t> SafeTensors::load_u8(const std::string& name,
                                              const std::vector<std::int64_t>& expected_shape) const {
  const TensorInfo& t = info(name);
  if (t.dtype != DType::U8) {
    fail(impl_->path, "tensor " + detail::quote_name(name) + " has dtype " + dtype_name(t.dtype) +
                          ", expected U8");
  }
  check_shape(impl_->path, t, expected_shape);
  auto out = xt::xarray<std::uint8_t>::from_shape(xshape(t.shape));
  const auto count = static_cast<std::size_t>(t.numel());
  if (count > 0) std::memcpy(out.data(), impl_->data_section + t.begin, count);
  return out;
}

}  // namespace vitscope
