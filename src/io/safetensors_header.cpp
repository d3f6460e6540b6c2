// Validation of a safetensors JSON header. Everything a reader later relies on is checked here,
// so that a file which opens can be read without further bounds checks.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "io/safetensors_detail.hpp"
#include "vitscope/core/error.hpp"

namespace vitscope::detail {

namespace {

using Json = nlohmann::json;

constexpr const char* kMetadataKey = "__metadata__";

// A valid header nests three levels (header object, tensor entry, shape array). The limit stops
// a hostile "[[[[..." from building millions of nested values.
constexpr int kMaxJsonDepth = 8;
struct TooDeep {};

[[noreturn]] void fail(const std::string& path, const std::string& problem) {
  throw WeightsError(path + ": " + problem);
}

std::string span_to_string(std::uint64_t begin, std::uint64_t end) {
  return "[" + std::to_string(begin) + "," + std::to_string(end) + "]";
}

// "an array", "a string", ... for messages; a number is shown as itself ("1.5", "-3").
std::string describe(const Json& value) {
  switch (value.type()) {
    case Json::value_t::object: return "an object";
    case Json::value_t::array: return "an array";
    case Json::value_t::string: return "a string";
    case Json::value_t::boolean: return "a boolean";
    case Json::value_t::null: return "null";
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
    case Json::value_t::number_float: return value.dump();
    default: return "not a JSON value";
  }
}

Json parse_json(const std::string& path, const char* json, std::size_t json_size) {
  const auto limit_depth = [](int depth, Json::parse_event_t, Json&) {
    if (depth > kMaxJsonDepth) throw TooDeep{};
    return true;
  };
  // The JSON lexer takes a NUL for the end of its input and would ignore whatever follows it.
  if (const void* nul = std::memchr(json, '\0', json_size)) {
    const auto at = static_cast<const char*>(nul) - json + 1;
    fail(path, "header is not valid JSON (NUL byte at byte " + std::to_string(at) + ")");
  }
  try {
    return Json::parse(json, json + json_size, limit_depth);
  } catch (const Json::parse_error& e) {
    if (e.byte > json_size) {
      fail(path, "header is not valid JSON (it ends early, after byte " + std::to_string(json_size) + ")");
    }
    fail(path, "header is not valid JSON (parse error at byte " + std::to_string(e.byte) + ")");
  } catch (const TooDeep&) {
    fail(path, "header nests JSON deeper than " + std::to_string(kMaxJsonDepth) + " levels");
  } catch (const Json::exception&) {  // the parser throws parse_error; this is a safety net
    fail(path, "header is not valid JSON");
  }
}

// A non-negative JSON integer; anything else (negative, fractional, string, ...) is rejected with
// a message built from `what` ("tensor 'x' shape entry 1").
std::uint64_t read_count(const std::string& path, const Json& value, const std::string& what) {
  if (value.is_number_unsigned()) return value.get<std::uint64_t>();
  if (value.is_number_integer()) {
    fail(path, what + " is negative (" + std::to_string(value.get<std::int64_t>()) + ")");
  }
  fail(path, what + " is " + describe(value) + ", expected a non-negative integer");
}

const Json& require_field(const std::string& path, const Json& entry, const std::string& tensor,
                          const char* field) {
  const auto it = entry.find(field);
  if (it == entry.end()) fail(path, "tensor " + tensor + " has no \"" + field + "\"");
  return *it;
}

DType read_dtype(const std::string& path, const Json& entry, const std::string& tensor) {
  const Json& value = require_field(path, entry, tensor, "dtype");
  if (!value.is_string()) {
    fail(path, "tensor " + tensor + " dtype is " + describe(value) + ", expected a string");
  }
  const auto& name = value.get_ref<const std::string&>();
  const std::optional<DType> dtype = parse_dtype(name);
  if (!dtype) fail(path, "tensor " + tensor + " has unknown dtype " + quote_name(name));
  return *dtype;
}

std::vector<std::int64_t> read_shape(const std::string& path, const Json& entry,
                                     const std::string& tensor) {
  const Json& value = require_field(path, entry, tensor, "shape");
  if (!value.is_array()) {
    fail(path, "tensor " + tensor + " shape is " + describe(value) +
                   ", expected an array of integers");
  }
  std::vector<std::int64_t> shape;
  shape.reserve(value.size());
  for (std::size_t i = 0; i < value.size(); ++i) {
    const std::string what = "tensor " + tensor + " shape entry " + std::to_string(i);
    const std::uint64_t dim = read_count(path, value[i], what);
    if (dim > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
      fail(path, what + " (" + std::to_string(dim) + ") is too large");
    }
    shape.push_back(static_cast<std::int64_t>(dim));
  }
  return shape;
}

struct Span {
  std::uint64_t begin;
  std::uint64_t end;
};

Span read_offsets(const std::string& path, const Json& entry, const std::string& tensor) {
  const Json& value = require_field(path, entry, tensor, "data_offsets");
  if (!value.is_array() || value.size() != 2) {
    const std::string found =
        value.is_array() ? "an array of " + std::to_string(value.size()) : describe(value);
    fail(path, "tensor " + tensor + " data_offsets is " + found +
                   ", expected an array of two integers [begin,end]");
  }
  const Span span{read_count(path, value[0], "tensor " + tensor + " data_offsets begin"),
                  read_count(path, value[1], "tensor " + tensor + " data_offsets end")};
  if (span.end < span.begin) {
    fail(path, "tensor " + tensor + " data_offsets " + span_to_string(span.begin, span.end) +
                   " end before they begin");
  }
  return span;
}

// shape × dtype size in bytes, or nullopt when it does not fit in 64 bits.
std::optional<std::uint64_t> byte_size(const std::vector<std::int64_t>& shape, DType dtype) {
  if (std::find(shape.begin(), shape.end(), 0) != shape.end()) return 0;
  std::uint64_t bytes = dtype_size(dtype);
  for (std::int64_t dim : shape) {
    const auto d = static_cast<std::uint64_t>(dim);
    if (bytes > std::numeric_limits<std::uint64_t>::max() / d) return std::nullopt;
    bytes *= d;
  }
  return bytes;
}

// Whether the non-zero dimensions multiply to an int64. byte_size() stops at a 0 dimension, so a
// zero-element tensor could otherwise pass with dimensions whose product overflows in
// TensorInfo::numel(), which multiplies them in order.
bool element_count_fits(const std::vector<std::int64_t>& shape) {
  constexpr auto kMax = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  std::uint64_t count = 1;
  for (std::int64_t dim : shape) {
    const auto d = static_cast<std::uint64_t>(dim);
    if (d == 0) continue;
    if (count > kMax / d) return false;
    count *= d;
  }
  return true;
}

TensorInfo read_tensor(const std::string& path, const std::string& name, const Json& entry,
                       std::size_t data_size) {
  const std::string tensor = quote_name(name);
  if (!entry.is_object()) {
    fail(path, "tensor " + tensor + " entry is " + describe(entry) +
                   ", expected an object with dtype, shape and data_offsets");
  }
  TensorInfo info;
  info.name = name;
  info.dtype = read_dtype(path, entry, tensor);
  info.shape = read_shape(path, entry, tensor);
  const Span span = read_offsets(path, entry, tensor);

  const std::string described = "tensor " + tensor + " shape " + shape_to_string(info.shape) +
                                " with dtype " + dtype_name(info.dtype);
  const std::optional<std::uint64_t> needed = byte_size(info.shape, info.dtype);
  if (!needed) fail(path, described + " has a byte size that overflows 64 bits");
  if (!element_count_fits(info.shape)) {
    fail(path, described + " has an element count that overflows 64 bits");
  }
  if (*needed != span.end - span.begin) {
    fail(path, described + " needs " + std::to_string(*needed) + " bytes but data_offsets " +
                   span_to_string(span.begin, span.end) + " span " +
                   std::to_string(span.end - span.begin));
  }
  if (span.end > data_size) {
    fail(path, "tensor " + tensor + " data_offsets " + span_to_string(span.begin, span.end) +
                   " are outside the data section (" + std::to_string(data_size) + " bytes)");
  }
  info.begin = static_cast<std::size_t>(span.begin);
  info.end = static_cast<std::size_t>(span.end);
  return info;
}

std::map<std::string, std::string> read_metadata(const std::string& path, const Json& value) {
  if (!value.is_object()) {
    fail(path, std::string(kMetadataKey) + " is " + describe(value) +
                   ", expected an object mapping strings to strings");
  }
  std::map<std::string, std::string> metadata;
  for (const auto& [key, item] : value.items()) {
    if (!item.is_string()) {
      fail(path, std::string(kMetadataKey) + " entry " + quote_name(key) + " is " +
                     describe(item) + ", expected a string");
    }
    metadata.emplace(key, item.get<std::string>());
  }
  return metadata;
}

// Zero-byte tensors occupy nothing and overlap nothing; every other pair must be disjoint.
void check_disjoint(const std::string& path, const std::map<std::string, TensorInfo>& tensors) {
  std::vector<const TensorInfo*> by_offset;
  for (const auto& [name, info] : tensors) {
    if (info.end > info.begin) by_offset.push_back(&info);
  }
  std::sort(by_offset.begin(), by_offset.end(), [](const TensorInfo* a, const TensorInfo* b) {
    return a->begin != b->begin ? a->begin < b->begin : a->name < b->name;
  });
  for (std::size_t i = 1; i < by_offset.size(); ++i) {
    const TensorInfo& a = *by_offset[i - 1];
    const TensorInfo& b = *by_offset[i];
    if (b.begin < a.end) {
      fail(path, "tensors " + quote_name(a.name) + " and " + quote_name(b.name) +
                     " overlap (bytes " + span_to_string(a.begin, a.end) + " and " +
                     span_to_string(b.begin, b.end) + ")");
    }
  }
}

}  // namespace

SafeTensorsHeader parse_safetensors_header(const std::string& path, const char* json,
                                           std::size_t json_size, std::size_t data_size) {
  const Json root = parse_json(path, json, json_size);
  if (!root.is_object()) {
    fail(path, "header is " + describe(root) + ", expected a JSON object");
  }
  SafeTensorsHeader header;
  for (const auto& [key, value] : root.items()) {
    if (key == kMetadataKey) {
      header.metadata = read_metadata(path, value);
    } else {
      header.tensors.emplace(key, read_tensor(path, key, value, data_size));
    }
  }
  check_disjoint(path, header.tensors);
  return header;
}

}  // namespace vitscope::detail
