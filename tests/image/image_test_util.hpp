#pragma once
// Helpers of the image tests: fixture paths, a scratch directory, file bytes, and the message of
// the ImageError an action throws.
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <string>
#include <vector>

#include <stdlib.h>  // mkdtemp

#include <catch2/catch.hpp>

#include "vitscope/core/error.hpp"
#include "vitscope/io/image.hpp"
#include "vitscope/io/safetensors.hpp"

namespace vitscope::test {

using Bytes = std::vector<std::uint8_t>;

inline std::string image_fixture(const std::string& name) {
  return std::string(VITSCOPE_TEST_DATA_DIR) + "/images/" + name;
}

// PIL's decoded pixels of each fixture, written by scripts/golden/gen_images.py.
inline const SafeTensors& expected_pixels() {
  static const SafeTensors file = SafeTensors::open(image_fixture("expected.safetensors"));
  return file;
}

inline Bytes read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) FAIL("cannot read " << path);
  return Bytes(std::istreambuf_iterator<char>(in), {});
}

// A fresh directory under $TMPDIR (or /tmp), removed with everything in it on destruction.
class ScratchDir {
 public:
  ScratchDir() {
    const char* base = std::getenv("TMPDIR");
    std::string pattern = std::string(base && *base ? base : "/tmp") + "/vitscope_image_XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) FAIL("mkdtemp " << pattern << ": " << std::strerror(errno));
    path_ = pattern;
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  ~ScratchDir() {
    std::error_code ignored;
    std::filesystem::permissions(path_, std::filesystem::perms::owner_all,
                                 std::filesystem::perm_options::add, ignored);
    std::filesystem::remove_all(path_, ignored);
  }

  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

  // Writes `bytes` to <dir>/<name> (creating parent folders) and returns the full path.
  std::string write(const std::string& name, const Bytes& bytes) const {
    const std::string path = file(name);
    std::filesystem::create_directories(std::filesystem::path(path).parent_path());
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

// The message of the ImageError `action` throws; fails the test when it throws nothing or
// something else.
inline std::string image_error_of(const std::function<void()>& action) {
  try {
    action();
  } catch (const ImageError& e) {
    return e.what();
  } catch (const std::exception& e) {
    FAIL("expected an ImageError, got: " << e.what());
  }
  FAIL("expected an ImageError, but the call succeeded");
  return {};
}

}  // namespace vitscope::test
