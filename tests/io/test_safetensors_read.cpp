// Reading valid safetensors files: names, metadata, shapes, and exact values for every dtype.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include "io/safetensors_test_file.hpp"
#include "vitscope/io/safetensors.hpp"

using namespace vitscope;
using vitscope::test::Bytes;
using vitscope::test::bytes_of;
using vitscope::test::concat;
using vitscope::test::safetensors_bytes;
using vitscope::test::TempDir;
using vitscope::test::weights_error;

namespace {

std::uint32_t bits_of(float v) {
  std::uint32_t b;
  std::memcpy(&b, &v, sizeof b);
  return b;
}

// Exact equality, bit for bit (tells -0 from +0); any NaN matches a NaN of the same sign.
bool same_float(float a, float b) {
  if (std::isnan(a) || std::isnan(b)) {
    return std::isnan(a) && std::isnan(b) && std::signbit(a) == std::signbit(b);
  }
  return bits_of(a) == bits_of(b);
}

// Index of the first element where `got` differs from `want` (bitwise), or -1.
std::int64_t first_mismatch(const float* got, const std::vector<float>& want) {
  for (std::size_t i = 0; i < want.size(); ++i) {
    if (!same_float(got[i], want[i])) return static_cast<std::int64_t>(i);
  }
  return -1;
}

// binary16 from its definition: (-1)^s · 2^(e-15) · 1.m, or 2^-14 · 0.m when e = 0.
float half_by_definition(std::uint16_t h) {
  const int e = (h >> 10) & 0x1f;
  const int m = h & 0x3ff;
  double v;
  if (e == 0x1f) {
    v = m != 0 ? std::numeric_limits<double>::quiet_NaN() : std::numeric_limits<double>::infinity();
  } else if (e == 0) {
    v = std::ldexp(m, -24);
  } else {
    v = std::ldexp(1024 + m, e - 25);
  }
  return static_cast<float>((h & 0x8000) ? -v : v);
}

// bfloat16 from its definition: (-1)^s · 2^(e-127) · 1.m (7-bit m), or 2^-126 · 0.m when e = 0.
float bf16_by_definition(std::uint16_t h) {
  const int e = (h >> 7) & 0xff;
  const int m = h & 0x7f;
  double v;
  if (e == 0xff) {
    v = m != 0 ? std::numeric_limits<double>::quiet_NaN() : std::numeric_limits<double>::infinity();
  } else if (e == 0) {
    v = std::ldexp(m, -133);
  } else {
    v = std::ldexp(128 + m, e - 134);
  }
  return static_cast<float>((h & 0x8000) ? -v : v);
}

constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

}  // namespace

TEST_CASE("shape_to_string, dtype_name and dtype_size", "[safetensors]") {
  CHECK(shape_to_string({1, 197, 192}) == "[1,197,192]");
  CHECK(shape_to_string({}) == "[]");
  CHECK(shape_to_string({0}) == "[0]");
  const std::vector<std::pair<DType, std::pair<std::string, std::size_t>>> table = {
      {DType::F64, {"F64", 8}}, {DType::F32, {"F32", 4}}, {DType::F16, {"F16", 2}},
      {DType::BF16, {"BF16", 2}}, {DType::I64, {"I64", 8}}, {DType::I32, {"I32", 4}},
      {DType::I16, {"I16", 2}}, {DType::I8, {"I8", 1}},   {DType::U8, {"U8", 1}},
      {DType::BOOL, {"BOOL", 1}}};
  for (const auto& [dtype, expected] : table) {
    CHECK(std::string(dtype_name(dtype)) == expected.first);
    CHECK(dtype_size(dtype) == expected.second);
  }
  TensorInfo info;
  info.shape = {2, 3, 4};
  CHECK(info.numel() == 24);
  info.shape = {};
  CHECK(info.numel() == 1);
  info.shape = {7, 0};
  CHECK(info.numel() == 0);
}

TEST_CASE("names, metadata and tensor info", "[safetensors]") {
  TempDir dir;
  const std::string header =
      R"({"__metadata__":{"format":"pt","note":"two tensors"},)"
      R"("weight":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]},)"
      R"("bias":{"dtype":"U8","shape":[3],"data_offsets":[24,27]}})";
  const Bytes data = concat({bytes_of<float>({1, 2, 3, 4, 5, 6}), Bytes{7, 8, 9}});
  const std::string path = dir.write("two.safetensors", safetensors_bytes(header, data));

  const SafeTensors st = SafeTensors::open(path);
  CHECK(st.path() == path);
  CHECK(st.names() == std::vector<std::string>{"bias", "weight"});
  CHECK(st.metadata() == std::map<std::string, std::string>{{"format", "pt"}, {"note", "two tensors"}});
  CHECK(st.contains("weight"));
  CHECK_FALSE(st.contains("__metadata__"));
  CHECK_FALSE(st.contains("missing"));

  const TensorInfo& w = st.info("weight");
  CHECK(w.name == "weight");
  CHECK(w.dtype == DType::F32);
  CHECK(w.shape == std::vector<std::int64_t>{2, 3});
  CHECK(w.begin == 0);
  CHECK(w.end == 24);
  CHECK(w.numel() == 6);
  const TensorInfo& b = st.info("bias");
  CHECK(b.dtype == DType::U8);
  CHECK(b.begin == 24);
  CHECK(b.end == 27);

  // data() points at the stored bytes.
  CHECK(std::memcmp(st.data("weight"), data.data(), 24) == 0);
  CHECK(std::memcmp(st.data("bias"), data.data() + 24, 3) == 0);

  const xt::xarray<float> weight = st.load_f32("weight", {2, 3});
  REQUIRE(weight.shape() == xt::xarray<float>::shape_type{2, 3});
  CHECK(weight(0, 0) == 1.0f);
  CHECK(weight(1, 2) == 6.0f);

  const xt::xarray<std::uint8_t> bias = st.load_u8("bias", {3});
  REQUIRE(bias.shape() == xt::xarray<std::uint8_t>::shape_type{3});
  CHECK(bias(0) == 7);
  CHECK(bias(2) == 9);
}

TEST_CASE("a file without metadata, with a space-padded header, opens", "[safetensors]") {
  TempDir dir;
  std::string header = R"({"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})";
  header.append(8 - header.size() % 8, ' ');  // the reference writer pads to a multiple of 8
  const std::string path = dir.write("padded.safetensors", safetensors_bytes(header, bytes_of<float>({2.5f})));
  const SafeTensors st = SafeTensors::open(path);
  CHECK(st.metadata().empty());
  CHECK(st.load_f32("x")(0) == 2.5f);
}

TEST_CASE("F32 values are copied bit for bit", "[safetensors]") {
  TempDir dir;
  const std::vector<float> values = {0.0f, -0.0f, 1.0f, -3.25f, 1e-45f /* smallest subnormal */,
                                     std::numeric_limits<float>::max(), kInf, -kInf, kNaN, 0.1f};
  const std::string header = R"({"x":{"dtype":"F32","shape":[10],"data_offsets":[0,40]}})";
  const SafeTensors st =
      SafeTensors::open(dir.write("f32.safetensors", safetensors_bytes(header, bytes_of(values))));
  const xt::xarray<float> x = st.load_f32("x");
  REQUIRE(x.size() == values.size());
  const std::int64_t bad = first_mismatch(x.data(), values);
  INFO("first mismatch at " << bad);
  CHECK(bad == -1);
}

TEST_CASE("F16 widening is exact for every one of the 65536 halves", "[safetensors]") {
  TempDir dir;
  std::vector<std::uint16_t> all(65536);
  for (std::size_t i = 0; i < all.size(); ++i) all[i] = static_cast<std::uint16_t>(i);
  const std::string header = R"({"h":{"dtype":"F16","shape":[256,256],"data_offsets":[0,131072]}})";
  const SafeTensors st =
      SafeTensors::open(dir.write("f16.safetensors", safetensors_bytes(header, bytes_of(all))));
  const xt::xarray<float> h = st.load_f32("h", {256, 256});
  REQUIRE(h.size() == all.size());

  std::vector<float> want(all.size());
  for (std::size_t i = 0; i < all.size(); ++i) want[i] = half_by_definition(all[i]);
  const std::int64_t bad = first_mismatch(h.data(), want);
  if (bad >= 0) {
    FAIL("half 0x" << std::hex << bad << std::dec << " widened to " << h.data()[bad]
                   << ", expected " << want[static_cast<std::size_t>(bad)]);
  }

  // Spot checks written out, so the reference above is not the only witness.
  CHECK(h.data()[0x3c00] == 1.0f);
  CHECK(h.data()[0xc000] == -2.0f);
  CHECK(h.data()[0x7bff] == 65504.0f);                        // largest finite half
  CHECK(h.data()[0x0400] == std::ldexp(1.0f, -14));           // smallest normal
  CHECK(h.data()[0x0001] == std::ldexp(1.0f, -24));           // smallest subnormal
  CHECK(h.data()[0x03ff] == std::ldexp(1023.0f, -24));        // largest subnormal
  CHECK(h.data()[0x8001] == -std::ldexp(1.0f, -24));
  CHECK(h.data()[0x3555] == 0.333251953125f);
  CHECK(h.data()[0x7c00] == kInf);
  CHECK(h.data()[0xfc00] == -kInf);
  CHECK(std::isnan(h.data()[0x7e00]));
  CHECK(std::isnan(h.data()[0x7c01]));  // signalling-NaN pattern is still NaN
  CHECK(bits_of(h.data()[0x8000]) == 0x80000000u);  // -0 keeps its sign
}

TEST_CASE("BF16 widening is exact for every one of the 65536 bfloat16 values", "[safetensors]") {
  TempDir dir;
  std::vector<std::uint16_t> all(65536);
  for (std::size_t i = 0; i < all.size(); ++i) all[i] = static_cast<std::uint16_t>(i);
  const std::string header = R"({"b":{"dtype":"BF16","shape":[65536],"data_offsets":[0,131072]}})";
  const SafeTensors st =
      SafeTensors::open(dir.write("bf16.safetensors", safetensors_bytes(header, bytes_of(all))));
  const xt::xarray<float> b = st.load_f32("b");
  REQUIRE(b.size() == all.size());

  std::vector<float> want(all.size());
  for (std::size_t i = 0; i < all.size(); ++i) want[i] = bf16_by_definition(all[i]);
  const std::int64_t bad = first_mismatch(b.data(), want);
  if (bad >= 0) {
    FAIL("bfloat16 0x" << std::hex << bad << std::dec << " widened to " << b.data()[bad]
                       << ", expected " << want[static_cast<std::size_t>(bad)]);
  }

  CHECK(b.data()[0x3f80] == 1.0f);
  CHECK(b.data()[0xc040] == -3.0f);
  CHECK(b.data()[0x0001] == std::ldexp(1.0f, -133));  // smallest subnormal
  CHECK(b.data()[0x7f80] == kInf);
  CHECK(b.data()[0xff80] == -kInf);
  CHECK(std::isnan(b.data()[0x7fc0]));
  CHECK(bits_of(b.data()[0x8000]) == 0x80000000u);
}

TEST_CASE("F64 narrows to the nearest float, overflowing to inf", "[safetensors]") {
  TempDir dir;
  const std::vector<double> values = {1.5, -0.1, 1e300, -1e300, 1e-50, -0.0,
                                      std::numeric_limits<double>::quiet_NaN(),
                                      3.4028234663852886e38 /* FLT_MAX */, 1.0 + 1e-12};
  const std::vector<float> want = {1.5f, -0.1f, kInf, -kInf, 0.0f, -0.0f, kNaN,
                                   std::numeric_limits<float>::max(), 1.0f};
  const std::string header = R"({"d":{"dtype":"F64","shape":[3,3],"data_offsets":[0,72]}})";
  const SafeTensors st =
      SafeTensors::open(dir.write("f64.safetensors", safetensors_bytes(header, bytes_of(values))));
  const xt::xarray<float> d = st.load_f32("d", {3, 3});
  REQUIRE(d.size() == want.size());
  const std::int64_t bad = first_mismatch(d.data(), want);
  INFO("first mismatch at " << bad);
  CHECK(bad == -1);
}

TEST_CASE("tensors at unaligned offsets read correctly", "[safetensors]") {
  // u8[3] at 0, f32[4] at 3, f16[3] at 19, f64[2] at 25, bf16[2] at 41: none naturally aligned.
  TempDir dir;
  const std::vector<float> f32 = {1.25f, -7.0f, 3.0e-39f /* subnormal */, 123456.78f};
  const std::vector<std::uint16_t> f16 = {0x3c00, 0xbc00, 0x0001};     // 1, -1, 2^-24
  const std::vector<double> f64 = {0.5, -1e10};
  const std::vector<std::uint16_t> bf16 = {0x4049, 0xc2f7};            // 3.140625, -123.5
  const Bytes data = concat({Bytes{10, 20, 30}, bytes_of(f32), bytes_of(f16), bytes_of(f64), bytes_of(bf16)});
  REQUIRE(data.size() == 45);
  const std::string header =
      R"({"u":{"dtype":"U8","shape":[3],"data_offsets":[0,3]},)"
      R"("f32":{"dtype":"F32","shape":[2,2],"data_offsets":[3,19]},)"
      R"("f16":{"dtype":"F16","shape":[3],"data_offsets":[19,25]},)"
      R"("f64":{"dtype":"F64","shape":[2],"data_offsets":[25,41]},)"
      R"("bf16":{"dtype":"BF16","shape":[1,2],"data_offsets":[41,45]}})";
  // A header of odd length puts the data section itself at an odd file offset.
  const std::string odd_header = header.size() % 2 == 0 ? header + " " : header;
  const SafeTensors st =
      SafeTensors::open(dir.write("unaligned.safetensors", safetensors_bytes(odd_header, data)));

  const xt::xarray<float> a = st.load_f32("f32", {2, 2});
  CHECK(first_mismatch(a.data(), f32) == -1);
  const xt::xarray<float> h = st.load_f32("f16");
  CHECK(first_mismatch(h.data(), {1.0f, -1.0f, std::ldexp(1.0f, -24)}) == -1);
  const xt::xarray<float> d = st.load_f32("f64");
  CHECK(first_mismatch(d.data(), {0.5f, -1e10f}) == -1);
  const xt::xarray<float> b = st.load_f32("bf16", {1, 2});
  CHECK(first_mismatch(b.data(), {3.140625f, -123.5f}) == -1);
  const xt::xarray<std::uint8_t> u = st.load_u8("u");
  CHECK(u(0) == 10);
  CHECK(u(1) == 20);
  CHECK(u(2) == 30);
}

TEST_CASE("zero-size and scalar tensors", "[safetensors]") {
  TempDir dir;
  SECTION("zero-size tensors between, at the end of, and sharing an offset with others") {
    const std::string header =
        R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
        R"("empty":{"dtype":"F32","shape":[0,5],"data_offsets":[4,4]},)"
        R"("empty2":{"dtype":"F16","shape":[5,0],"data_offsets":[4,4]},)"
        R"("b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]},)"
        R"("tail":{"dtype":"U8","shape":[0],"data_offsets":[8,8]}})";
    const SafeTensors st = SafeTensors::open(
        dir.write("zero.safetensors", safetensors_bytes(header, bytes_of<float>({1.0f, 2.0f}))));
    const xt::xarray<float> e = st.load_f32("empty", {0, 5});
    CHECK(e.size() == 0);
    CHECK(e.shape() == xt::xarray<float>::shape_type{0, 5});
    CHECK(st.load_f32("empty2").size() == 0);
    CHECK(st.load_u8("tail", {0}).size() == 0);
    CHECK(st.info("empty").numel() == 0);
    CHECK(st.data("tail") != nullptr);
    CHECK(st.load_f32("b")(0) == 2.0f);
  }
  SECTION("a file whose data section is empty") {
    const std::string header = R"({"nothing":{"dtype":"BF16","shape":[3,0,2],"data_offsets":[0,0]}})";
    const SafeTensors st = SafeTensors::open(dir.write("nodata.safetensors", safetensors_bytes(header)));
    CHECK(st.load_f32("nothing").size() == 0);
  }
  SECTION("a file with no tensors at all") {
    const SafeTensors st = SafeTensors::open(dir.write("none.safetensors", safetensors_bytes("{}")));
    CHECK(st.names().empty());
  }
  SECTION("a rank-0 tensor holds one element") {
    const std::string header = R"({"s":{"dtype":"F32","shape":[],"data_offsets":[0,4]}})";
    const SafeTensors st =
        SafeTensors::open(dir.write("scalar.safetensors", safetensors_bytes(header, bytes_of<float>({-4.5f}))));
    CHECK(st.info("s").numel() == 1);
    const xt::xarray<float> s = st.load_f32("s");
    CHECK(s.dimension() == 0);
    REQUIRE(s.size() == 1);
    CHECK(s() == -4.5f);
  }
}

TEST_CASE("integer and bool tensors open and expose their bytes", "[safetensors]") {
  TempDir dir;
  const std::string header =
      R"({"i64":{"dtype":"I64","shape":[2],"data_offsets":[0,16]},)"
      R"("i32":{"dtype":"I32","shape":[2],"data_offsets":[16,24]},)"
      R"("i16":{"dtype":"I16","shape":[2],"data_offsets":[24,28]},)"
      R"("i8":{"dtype":"I8","shape":[2],"data_offsets":[28,30]},)"
      R"("flag":{"dtype":"BOOL","shape":[2],"data_offsets":[30,32]}})";
  const Bytes data = concat({bytes_of<std::int64_t>({-1, 1LL << 40}), bytes_of<std::int32_t>({-7, 7}),
                             bytes_of<std::int16_t>({-300, 300}), bytes_of<std::int8_t>({-5, 5}),
                             Bytes{1, 0}});
  const SafeTensors st = SafeTensors::open(dir.write("ints.safetensors", safetensors_bytes(header, data)));
  CHECK(st.info("i64").dtype == DType::I64);
  CHECK(st.info("flag").dtype == DType::BOOL);
  std::int64_t second;
  std::memcpy(&second, st.data("i64") + 8, sizeof second);
  CHECK(second == (1LL << 40));
  std::int16_t first16;
  std::memcpy(&first16, st.data("i16"), sizeof first16);
  CHECK(first16 == -300);
  CHECK(st.data("flag")[0] == 1);
}

TEST_CASE("load_f32 checks the expected shape, with -1 matching any size", "[safetensors]") {
  TempDir dir;
  const std::string header = R"({"w":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]}})";
  const std::string path =
      dir.write("shape.safetensors", safetensors_bytes(header, bytes_of<float>({0, 1, 2, 3, 4, 5})));
  const SafeTensors st = SafeTensors::open(path);
  CHECK(st.load_f32("w", {2, 3}).size() == 6);
  CHECK(st.load_f32("w", {-1, 3}).size() == 6);
  CHECK(st.load_f32("w", {2, -1}).size() == 6);
  CHECK(st.load_f32("w", {-1, -1}).size() == 6);
  CHECK(weights_error([&] { st.load_f32("w", {3, 2}); }) ==
        path + ": tensor 'w' has shape [2,3], expected [3,2]");
  CHECK(weights_error([&] { st.load_f32("w", {2, 3, 1}); }) ==
        path + ": tensor 'w' has shape [2,3], expected [2,3,1]");
  CHECK(weights_error([&] { st.load_f32("w", {-1}); }) ==
        path + ": tensor 'w' has shape [2,3], expected [-1]");
}

TEST_CASE("SafeTensors is movable; the moved-to object keeps the mapping", "[safetensors]") {
  TempDir dir;
  const std::string header = R"({"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
  const std::string path = dir.write("move.safetensors", safetensors_bytes(header, bytes_of<float>({3, 4})));
  SafeTensors a = SafeTensors::open(path);
  SafeTensors b = std::move(a);
  CHECK(b.load_f32("x")(1) == 4.0f);
  SafeTensors c = SafeTensors::open(path);
  c = std::move(b);  // releases c's own mapping
  CHECK(c.load_f32("x")(0) == 3.0f);
  CHECK(c.path() == path);
}
