// Broken safetensors files: each is refused with a WeightsError naming the file and the problem.
#include <filesystem>
#include <string>

#include <catch2/catch.hpp>

#include <sys/stat.h>

#include "io/safetensors_test_file.hpp"
#include "vitscope/io/safetensors.hpp"

using namespace vitscope;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;
using vitscope::test::Bytes;
using vitscope::test::bytes_of;
using vitscope::test::length_prefix;
using vitscope::test::safetensors_bytes;
using vitscope::test::TempDir;
using vitscope::test::weights_error;

namespace {

// The message SafeTensors::open(<dir>/<name>) fails with, for a file holding `bytes`.
std::string open_error(const TempDir& dir, const std::string& name, const Bytes& bytes) {
  const std::string path = dir.write(name, bytes);
  return weights_error([&] { SafeTensors::open(path); });
}

// The same for a header text followed by `data_size` zero bytes.
std::string header_error(const TempDir& dir, const std::string& header, std::size_t data_size = 0) {
  return open_error(dir, "bad.safetensors", safetensors_bytes(header, Bytes(data_size, 0)));
}

}  // namespace

TEST_CASE("paths that are not readable files", "[safetensors][corrupt]") {
  TempDir dir;
  SECTION("missing file") {
    const std::string path = dir.file("absent.safetensors");
    CHECK(weights_error([&] { SafeTensors::open(path); }) ==
          path + ": cannot open: No such file or directory");
  }
  SECTION("directory") {
    const std::string path = dir.file("");
    CHECK(weights_error([&] { SafeTensors::open(path); }) == path + ": cannot open: Is a directory");
  }
  SECTION("FIFO (would block a plain open)") {
    const std::string path = dir.file("pipe");
    REQUIRE(::mkfifo(path.c_str(), 0600) == 0);
    CHECK(weights_error([&] { SafeTensors::open(path); }) == path + ": cannot open: not a regular file");
  }
}

TEST_CASE("files too short for their header", "[safetensors][corrupt]") {
  TempDir dir;
  const std::string path = dir.file("bad.safetensors");
  SECTION("empty file") {
    CHECK(open_error(dir, "bad.safetensors", {}) == path + ": file is empty");
  }
  SECTION("shorter than the length prefix") {
    CHECK(open_error(dir, "bad.safetensors", Bytes{1, 2, 3, 4, 5}) ==
          path + ": file is 5 bytes, too short for the 8-byte header length");
  }
  SECTION("header length runs past the end of the file") {
    Bytes bytes = length_prefix(123456789);
    bytes.resize(4096, ' ');
    CHECK(open_error(dir, "bad.safetensors", bytes) ==
          path + ": header length 123456789 runs past the end of the file (4096 bytes)");
  }
  SECTION("header length is the largest 64-bit value") {
    Bytes bytes = length_prefix(~std::uint64_t{0});
    bytes.push_back('{');
    CHECK(open_error(dir, "bad.safetensors", bytes) ==
          path + ": header length 18446744073709551615 runs past the end of the file (9 bytes)");
  }
  SECTION("header one byte longer than the file holds") {
    const std::string header = R"({"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})";
    Bytes bytes = safetensors_bytes(header);
    bytes[0] = static_cast<std::uint8_t>(header.size() + 1);
    CHECK_THAT(open_error(dir, "bad.safetensors", bytes),
               StartsWith(path + ": header length " + std::to_string(header.size() + 1) +
                          " runs past the end of the file"));
  }
  SECTION("header length of zero") {
    CHECK(open_error(dir, "bad.safetensors", length_prefix(0)) ==
          path + ": header length is 0, expected a JSON object");
  }
}

TEST_CASE("an absurdly large header length is refused before the header is read", "[safetensors][corrupt]") {
  // A sparse 150 MB file: the length fits inside it but exceeds the 100 MB limit.
  TempDir dir;
  const std::string path = dir.write("huge.safetensors", length_prefix(120'000'000));
  std::filesystem::resize_file(path, 150'000'000);
  CHECK(weights_error([&] { SafeTensors::open(path); }) ==
        path + ": header length 120000000 is implausibly large (limit 100000000 bytes)");
}

TEST_CASE("headers that are not a JSON object", "[safetensors][corrupt]") {
  TempDir dir;
  const std::string path = dir.file("bad.safetensors");
  SECTION("truncated JSON") {
    CHECK(header_error(dir, R"({"x":{"dtype":"F32")") ==
          path + ": header is not valid JSON (it ends early, after byte 19)");
  }
  SECTION("syntax error") {
    CHECK(header_error(dir, R"({"a"})") == path + ": header is not valid JSON (parse error at byte 5)");
  }
  SECTION("invalid UTF-8 in a name") {
    CHECK_THAT(header_error(dir, "{\"\xff\xfe\":1}"), StartsWith(path + ": header is not valid JSON"));
  }
  SECTION("NUL padding instead of spaces") {
    CHECK(header_error(dir, std::string("{}\0\0\0\0\0\0", 8)) ==
          path + ": header is not valid JSON (NUL byte at byte 3)");
  }
  SECTION("an array") {
    CHECK(header_error(dir, "[1,2]") == path + ": header is an array, expected a JSON object");
  }
  SECTION("a string") {
    CHECK(header_error(dir, R"("F32")") == path + ": header is a string, expected a JSON object");
  }
  SECTION("deeply nested values") {
    const std::string deep = R"({"x":)" + std::string(100000, '[') + std::string(100000, ']') + "}";
    CHECK(header_error(dir, deep) == path + ": header nests JSON deeper than 8 levels");
  }
}

TEST_CASE("tensor entries with missing or mistyped fields", "[safetensors][corrupt]") {
  TempDir dir;
  const std::string path = dir.file("bad.safetensors");
  const std::string prefix = path + ": tensor 'x' ";
  SECTION("entry is not an object") {
    CHECK(header_error(dir, R"({"x":[1,2]})") ==
          prefix + "entry is an array, expected an object with dtype, shape and data_offsets");
  }
  SECTION("missing dtype") {
    CHECK(header_error(dir, R"({"x":{"shape":[1],"data_offsets":[0,4]}})", 4) ==
          prefix + "has no \"dtype\"");
  }
  SECTION("missing shape") {
    CHECK(header_error(dir, R"({"x":{"dtype":"F32","data_offsets":[0,4]}})", 4) ==
          prefix + "has no \"shape\"");
  }
  SECTION("missing data_offsets") {
    CHECK(header_error(dir, R"({"x":{"dtype":"F32","shape":[1]}})", 4) ==
          prefix + "has no \"data_offsets\"");
  }
  SECTION("dtype is not a string") {
    CHECK(header_error(dir, R"({"x":{"dtype":32,"shape":[1],"data_offsets":[0,4]}})", 4) ==
          prefix + "dtype is 32, expected a string");
  }
  SECTION("unknown dtype") {
    const std::string header =
        R"({"blocks.0.attn.qkv.weight":{"dtype":"Q4","shape":[1],"data_offsets":[0,4]}})";
    CHECK(header_error(dir, header, 4) ==
          path + ": tensor 'blocks.0.attn.qkv.weight' has unknown dtype 'Q4'");
  }
  SECTION("dtype names are case-sensitive") {
    CHECK(header_error(dir, R"({"x":{"dtype":"f32","shape":[1],"data_offsets":[0,4]}})", 4) ==
          prefix + "has unknown dtype 'f32'");
  }
  SECTION("shape is not an array") {
    CHECK(header_error(dir, R"({"x":{"dtype":"F32","shape":"[1]","data_offsets":[0,4]}})", 4) ==
          prefix + "shape is a string, expected an array of integers");
  }
  SECTION("negative dimension") {
    CHECK(header_error(dir, R"({"x":{"dtype":"F32","shape":[2,-3],"data_offsets":[0,4]}})", 4) ==
          prefix + "shape entry 1 is negative (-3)");
  }
  SECTION("fractional dimension") {
    CHECK(header_error(dir, R"({"x":{"dtype":"F32","shape":[1.0],"data_offsets":[0,4]}})", 4) ==
          prefix + "shape entry 0 is 1.0, expected a non-negative integer");
  }
  SECTION("dimension beyond 64 bits") {
    CHECK(header_error(dir, R"({"x":{"dtype":"F32","shape":[99999999999999999999],"data_offsets":[0,4]}})", 4) ==
          prefix + "shape entry 0 is 1e+20, expected a non-negative integer");
  }
  SECTION("dimension beyond int64") {
    CHECK(header_error(dir, R"({"x":{"dtype":"U8","shape":[9223372036854775808],"data_offsets":[0,4]}})", 4) ==
          prefix + "shape entry 0 (9223372036854775808) is too large");
  }
  SECTION("shape product overflows") {
    CHECK(header_error(dir, R"({"x":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,4]}})", 4) ==
          prefix + "shape [4294967296,4294967296] with dtype F32 has a byte size that overflows 64 bits");
  }
  SECTION("data_offsets with three entries") {
    CHECK(header_error(dir, R"({"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4,8]}})", 8) ==
          prefix + "data_offsets is an array of 3, expected an array of two integers [begin,end]");
  }
  SECTION("data_offsets is an object") {
    CHECK(header_error(dir, R"({"x":{"dtype":"F32","shape":[1],"data_offsets":{}}})", 4) ==
          prefix + "data_offsets is an object, expected an array of two integers [begin,end]");
  }
  SECTION("negative offset") {
    CHECK(header_error(dir, R"({"x":{"dtype":"F32","shape":[1],"data_offsets":[-4,0]}})", 4) ==
          prefix + "data_offsets begin is negative (-4)");
  }
  SECTION("offset given as a string") {
    CHECK(header_error(dir, R"({"x":{"dtype":"F32","shape":[1],"data_offsets":[0,"4"]}})", 4) ==
          prefix + "data_offsets end is a string, expected a non-negative integer");
  }
  SECTION("offsets in reverse") {
    CHECK(header_error(dir, R"({"x":{"dtype":"F32","shape":[0],"data_offsets":[4,0]}})", 4) ==
          prefix + "data_offsets [4,0] end before they begin");
  }
  SECTION("control characters in a name stay on one line") {
    const std::string message =
        header_error(dir, R"({"a\nb":{"dtype":"Q4","shape":[1],"data_offsets":[0,4]}})", 4);
    CHECK(message == path + ": tensor 'a\\x0ab' has unknown dtype 'Q4'");
    CHECK(message.find('\n') == std::string::npos);
  }
}

TEST_CASE("byte spans that disagree with the shape, leave the data section, or overlap", "[safetensors][corrupt]") {
  TempDir dir;
  const std::string path = dir.file("bad.safetensors");
  SECTION("span shorter than shape × dtype size") {
    CHECK(header_error(dir, R"({"x":{"dtype":"F32","shape":[2,3],"data_offsets":[0,20]}})", 24) ==
          path + ": tensor 'x' shape [2,3] with dtype F32 needs 24 bytes but data_offsets [0,20] span 20");
  }
  SECTION("span longer than shape × dtype size") {
    CHECK(header_error(dir, R"({"x":{"dtype":"F16","shape":[3],"data_offsets":[0,8]}})", 8) ==
          path + ": tensor 'x' shape [3] with dtype F16 needs 6 bytes but data_offsets [0,8] span 8");
  }
  SECTION("span past the end of the data section") {
    CHECK(header_error(dir, R"({"x":{"dtype":"F32","shape":[6],"data_offsets":[100,124]}})", 80) ==
          path + ": tensor 'x' data_offsets [100,124] are outside the data section (80 bytes)");
  }
  SECTION("span ending one byte past the data section") {
    CHECK(header_error(dir, R"({"x":{"dtype":"U8","shape":[4],"data_offsets":[0,4]}})", 3) ==
          path + ": tensor 'x' data_offsets [0,4] are outside the data section (3 bytes)");
  }
  SECTION("zero-size tensor beyond the data section") {
    CHECK(header_error(dir, R"({"x":{"dtype":"U8","shape":[0],"data_offsets":[9,9]}})", 8) ==
          path + ": tensor 'x' data_offsets [9,9] are outside the data section (8 bytes)");
  }
  SECTION("offsets near 2^64 do not wrap around") {
    CHECK(header_error(dir,
                       R"({"x":{"dtype":"U8","shape":[4],)"
                       R"("data_offsets":[18446744073709551614,18446744073709551618]}})", 8) ==
          path + ": tensor 'x' data_offsets end is 1.8446744073709552e+19, expected a non-negative integer");
    CHECK(header_error(dir,
                       R"({"x":{"dtype":"U8","shape":[1],)"
                       R"("data_offsets":[18446744073709551614,18446744073709551615]}})", 8) ==
          path + ": tensor 'x' data_offsets [18446744073709551614,18446744073709551615] are outside "
                 "the data section (8 bytes)");
  }
  SECTION("two tensors overlap") {
    const std::string header =
        R"({"a":{"dtype":"F32","shape":[6],"data_offsets":[0,24]},)"
        R"("b":{"dtype":"F32","shape":[6],"data_offsets":[16,40]}})";
    CHECK(header_error(dir, header, 40) ==
          path + ": tensors 'a' and 'b' overlap (bytes [0,24] and [16,40])");
  }
  SECTION("a tensor inside another") {
    const std::string header =
        R"({"outer":{"dtype":"U8","shape":[100],"data_offsets":[0,100]},)"
        R"("c":{"dtype":"U8","shape":[4],"data_offsets":[60,64]},)"
        R"("inner":{"dtype":"U8","shape":[10],"data_offsets":[10,20]}})";
    CHECK(header_error(dir, header, 100) ==
          path + ": tensors 'outer' and 'inner' overlap (bytes [0,100] and [10,20])");
  }
  SECTION("two tensors at the same span") {
    const std::string header =
        R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
        R"("b":{"dtype":"I32","shape":[1],"data_offsets":[0,4]}})";
    CHECK(header_error(dir, header, 4) == path + ": tensors 'a' and 'b' overlap (bytes [0,4] and [0,4])");
  }
}

TEST_CASE("__metadata__ must map strings to strings", "[safetensors][corrupt]") {
  TempDir dir;
  const std::string path = dir.file("bad.safetensors");
  CHECK(header_error(dir, R"({"__metadata__":["pt"]})") ==
        path + ": __metadata__ is an array, expected an object mapping strings to strings");
  CHECK(header_error(dir, R"({"__metadata__":{"format":"pt","epochs":300}})") ==
        path + ": __metadata__ entry 'epochs' is 300, expected a string");
  CHECK(header_error(dir, R"({"__metadata__":{"nested":{"a":"b"}}})") ==
        path + ": __metadata__ entry 'nested' is an object, expected a string");
}

TEST_CASE("reading a tensor the wrong way", "[safetensors][corrupt]") {
  TempDir dir;
  const std::string header =
      R"({"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},)"
      R"("steps":{"dtype":"I64","shape":[1],"data_offsets":[16,24]},)"
      R"("flag":{"dtype":"BOOL","shape":[1],"data_offsets":[24,25]},)"
      R"("img":{"dtype":"U8","shape":[1],"data_offsets":[25,26]}})";
  const std::string path = dir.write("ok.safetensors", safetensors_bytes(header, Bytes(26, 0)));
  const SafeTensors st = SafeTensors::open(path);
  CHECK(weights_error([&] { st.info("missing"); }) == path + ": no tensor 'missing'");
  CHECK(weights_error([&] { st.data("missing"); }) == path + ": no tensor 'missing'");
  CHECK(weights_error([&] { st.load_f32("blocks.0.attn.qkv.weight"); }) ==
        path + ": no tensor 'blocks.0.attn.qkv.weight'");
  CHECK(weights_error([&] { st.load_f32("w", {4}); }) ==
        path + ": tensor 'w' has shape [2,2], expected [4]");
  CHECK(weights_error([&] { st.load_f32("steps"); }) ==
        path + ": tensor 'steps' has dtype I64, expected a floating-point tensor");
  CHECK(weights_error([&] { st.load_f32("flag"); }) ==
        path + ": tensor 'flag' has dtype BOOL, expected a floating-point tensor");
  CHECK(weights_error([&] { st.load_f32("img"); }) ==
        path + ": tensor 'img' has dtype U8, expected a floating-point tensor");
  CHECK(weights_error([&] { st.load_u8("w"); }) == path + ": tensor 'w' has dtype F32, expected U8");
  CHECK(weights_error([&] { st.load_u8("img", {2}); }) ==
        path + ": tensor 'img' has shape [1], expected [2]");
}
