#pragma once
// What each fuzz target does with one input, shared by the libFuzzer wrappers (tests/fuzz/fuzz_*.cpp)
// and the tests that replay saved inputs (tests/io/test_fuzz_regressions.cpp and its models twin).
//
// An input is handled when the reader either returns a result that keeps the reader's documented
// promises or throws the one error type it documents, with a one-line "<path>: <problem>" message.
// Anything else escapes: a crash or sanitizer report stops the process, and a broken promise, another
// exception type or a malformed message is thrown as FuzzFinding. Under libFuzzer an escaping
// exception aborts the run (a finding); under Catch2 it fails the test with its message.
//
// Target names: safetensors, image_decode, labels_csv, class_names (and result_file, manifest in
// fuzz_entry_points_result_file.hpp, fuzz_entry_points_manifest.hpp). Target <t> is fuzz_<t>() here,
// tests/fuzz/fuzz_<t>.cpp, the executable fuzz_<t>, tests/fuzz/corpus/<t>/ and
// tests/data/fuzz_regressions/<t>/.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <unistd.h>

#include "vitscope/core/error.hpp"
#include "vitscope/io/dataset.hpp"
#include "vitscope/io/image.hpp"
#include "vitscope/io/labels.hpp"
#include "vitscope/io/safetensors.hpp"

namespace vitscope::fuzz {

// What the reader made of an input.
enum class Outcome { Accepted, Refused };

// A broken promise of a reader: deliberately not a vitscope error, so nothing swallows it.
class FuzzFinding : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

inline void require(bool promise_kept, const std::string& what) {
  if (!promise_kept) throw FuzzFinding(what);
}

// The error messages promise "<path>: <problem>" on one line.
inline void check_error_message(const std::string& message, const std::string& path) {
  require(message.size() > path.size() + 2 && message.compare(0, path.size() + 2, path + ": ") == 0,
          "error message does not start with \"<path>: \": " + message);
  require(message.find_first_of("\r\n") == std::string::npos,
          "error message spans several lines: " + message);
}

// The readers under test take a path; every input goes to the same file, one per process and
// target, removed when the process exits normally (a crashed run leaves it in $TMPDIR).
class ScratchFile {
 public:
  explicit ScratchFile(const std::string& target) {
    const char* dir = std::getenv("TMPDIR");
    path_ = std::string(dir && *dir ? dir : "/tmp") + "/vitscope_fuzz_" + target + "_" +
            std::to_string(static_cast<long>(::getpid()));
  }
  ScratchFile(const ScratchFile&) = delete;
  ScratchFile& operator=(const ScratchFile&) = delete;
  ~ScratchFile() { std::remove(path_.c_str()); }

  // Replaces the file's content with [data, data + size) and returns its path.
  const std::string& write(const std::uint8_t* data, std::size_t size) const {
    std::FILE* file = std::fopen(path_.c_str(), "wb");
    if (file == nullptr) throw std::runtime_error(path_ + ": cannot create the fuzz input file");
    const bool written = size == 0 || std::fwrite(data, 1, size, file) == size;
    if (std::fclose(file) != 0 || !written) {
      throw std::runtime_error(path_ + ": cannot write the fuzz input file");
    }
    return path_;
  }

 private:
  std::string path_;
};

inline volatile unsigned touched_bytes_sink = 0;

// Opens the bytes as a .safetensors file; when it opens, every tensor is read through the API
// its dtype allows and every byte of every span is touched, so a span the validation let through
// outside the mapping shows up under ASan.
inline Outcome fuzz_safetensors(const std::uint8_t* data, std::size_t size) {
  static const ScratchFile scratch("safetensors");
  const std::string& path = scratch.write(data, size);
  try {
    const SafeTensors st = SafeTensors::open(path);
    // A file that opened has the 8-byte length and the whole header.
    std::uint64_t header_length = 0;
    for (int i = 0; i < 8; ++i) header_length |= std::uint64_t{data[i]} << (8 * i);
    const std::uint64_t data_section = size - 8 - header_length;
    for (const std::string& name : st.names()) {
      const TensorInfo& info = st.info(name);
      for (std::int64_t dim : info.shape) require(dim >= 0, name + ": negative dimension");
      // numel() multiplies the dimensions as int64: open() must refuse shapes that overflow it
      // (UBSan reports the overflow), including those with a 0 dimension.
      const std::int64_t numel = info.numel();
      require(numel >= 0, name + ": negative element count");
      require(info.begin <= info.end && info.end <= data_section,
              name + ": byte span outside the data section");
      require(static_cast<std::uint64_t>(numel) * dtype_size(info.dtype) == info.end - info.begin,
              name + ": byte span does not match shape × dtype size");
      const std::uint8_t* bytes = st.data(name);
      unsigned checksum = 0;
      for (std::size_t i = info.begin; i < info.end; ++i) checksum += bytes[i - info.begin];
      touched_bytes_sink = checksum;  // keeps the reads above from being optimised away
      st.release(name);
      switch (info.dtype) {
        case DType::F64:
        case DType::F32:
        case DType::F16:
        case DType::BF16:
          require(st.load_f32(name).size() == static_cast<std::size_t>(numel),
                  name + ": load_f32 size differs from numel");
          break;
        case DType::U8: {
          const auto copy = st.load_u8(name);
          unsigned copied = 0;
          for (std::uint8_t v : copy) copied += v;
          require(copy.size() == static_cast<std::size_t>(numel) && copied == checksum,
                  name + ": load_u8 differs from the stored bytes");
          break;
        }
        default:
          break;
      }
    }
    return Outcome::Accepted;
  } catch (const WeightsError& e) {
    check_error_message(e.what(), path);
    return Outcome::Refused;
  }
}

// Decodes the bytes as an image file, with a 4-megapixel limit so that the fuzzer explores the
// decoders instead of allocating large images.
inline Outcome fuzz_image_decode(const std::uint8_t* data, std::size_t size) {
  static const std::string name = "fuzz-input";
  ImageLoadOptions options;
  options.max_pixels = 4'000'000;
  try {
    const RgbImage image = decode_image(data, size, name, options);
    const auto height = static_cast<std::int64_t>(image.shape()[0]);
    const auto width = static_cast<std::int64_t>(image.shape()[1]);
    require(image.shape()[2] == 3, "decoded image does not have 3 channels");
    require(width > 0 && height > 0, "decoded image is empty");
    require(width * height <= options.max_pixels, "decoded image is over the pixel limit");
    // The pixel limit is checked on the header's size before decoding: the decoder must agree
    // with it (up to the EXIF rotation), or a small header could hide a large image.
    const std::optional<ImageHeader> header = read_image_header(data, size);
    require(header.has_value(), "decoded an image whose header cannot be read");
    const bool same_size = (header->width == width && header->height == height) ||
                           (header->width == height && header->height == width);
    require(same_size, "decoded " + std::to_string(width) + "x" + std::to_string(height) +
                           " but the header says " + std::to_string(header->width) + "x" +
                           std::to_string(header->height));
    // The draft decode of the same bytes (a JPEG at 1/8 scale when both sides are at least 16
    // pixels): it must succeed too, and be no larger than the exact one.
    ImageLoadOptions draft = options;
    draft.decode = DecodeMode::Draft;
    draft.draft_request = [](int, int) { return std::pair<int, int>{2, 2}; };
    const RgbImage small = decode_image(data, size, name, draft);
    require(small.shape()[2] == 3 && small.shape()[0] > 0 && small.shape()[1] > 0, "draft decode is empty");
    require(static_cast<std::int64_t>(small.shape()[0] * small.shape()[1]) <= width * height,
            "draft decode is larger than the exact one");
    return Outcome::Accepted;
  } catch (const ImageError& e) {
    check_error_message(e.what(), name);
    return Outcome::Refused;
  }
}

// Reads the bytes as a labels.csv (file,class_index,...) for images under "images/".
inline Outcome fuzz_labels_csv(const std::uint8_t* data, std::size_t size) {
  static const ScratchFile scratch("labels_csv");
  const std::string& path = scratch.write(data, size);
  try {
    const std::vector<LabelledImage> labelled = read_labelled_csv(path, "images");
    require(!labelled.empty(), "no labelled images returned without an error");
    for (const LabelledImage& image : labelled) {
      require(image.class_index >= 0, "negative class index " + std::to_string(image.class_index));
    }
    return Outcome::Accepted;
  } catch (const ConfigError& e) {
    check_error_message(e.what(), path);
    return Outcome::Refused;
  }
}

// Reads the bytes as a class-name file (one name per line).
inline Outcome fuzz_class_names(const std::uint8_t* data, std::size_t size) {
  static const ScratchFile scratch("class_names");
  const std::string& path = scratch.write(data, size);
  try {
    const std::vector<std::string> names = read_label_names(path);
    require(!names.empty(), "no class names returned without an error");
    for (const std::string& name : names) {
      require(name.find_first_not_of(" \t\f\v") != std::string::npos, "blank class name returned");
      require(name.find('\n') == std::string::npos, "class name contains a newline");
    }
    return Outcome::Accepted;
  } catch (const ConfigError& e) {
    check_error_message(e.what(), path);
    return Outcome::Refused;
  }
}

}  // namespace vitscope::fuzz
