// Robustness: thousands of corrupted variants of a small valid file. Each must either open (and
// then read cleanly) or be refused with a one-line WeightsError — never crash, hang, read out of
// bounds (run this under the ASan build) or throw anything else.
#include <cstdint>
#include <random>
#include <string>

#include <catch2/catch.hpp>

#include "io/safetensors_test_file.hpp"
#include "vitscope/io/safetensors.hpp"

using namespace vitscope;
using vitscope::test::Bytes;
using vitscope::test::bytes_of;
using vitscope::test::concat;
using vitscope::test::safetensors_bytes;
using vitscope::test::TempDir;

namespace {

// Five tensors of different dtypes filling the data section exactly (no trailing bytes), so that
// every truncation of the file loses data some tensor needs.
Bytes valid_file() {
  const std::string header =
      R"({"__metadata__":{"format":"pt","seed":"7"},)"
      R"("a.weight":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]},)"
      R"("a.bias":{"dtype":"F16","shape":[3],"data_offsets":[24,30]},)"
      R"("b":{"dtype":"BF16","shape":[1,1,2],"data_offsets":[30,34]},)"
      R"("empty":{"dtype":"F64","shape":[0],"data_offsets":[34,34]},)"
      R"("pixels":{"dtype":"U8","shape":[3,1],"data_offsets":[34,37]},)"
      R"("steps":{"dtype":"I32","shape":[1],"data_offsets":[37,41]}})";
  const Bytes data = concat({bytes_of<float>({1, -2, 3.5f, 0, 1e-3f, 7}),
                             bytes_of<std::uint16_t>({0x3c00, 0x0001, 0x7c00}),
                             bytes_of<std::uint16_t>({0x3f80, 0xc000}), Bytes{1, 2, 3},
                             bytes_of<std::int32_t>({42})});
  return safetensors_bytes(header, data);
}

std::size_t header_end(const Bytes& file) {
  std::uint64_t length = 0;
  for (int i = 0; i < 8; ++i) length |= std::uint64_t{file[i]} << (8 * i);
  return static_cast<std::size_t>(8 + length);
}

// Characters that keep a mutated header close to JSON, so mutations reach the later checks.
const std::string kJsonAlphabet = "{}[]\":,-.0123456789eE \tFIUBOL16843x_";

enum class Outcome { Opened, Refused };

// Opens `path`; when it opens, reads every tensor in the way its dtype allows. Any exception
// other than a well-formed WeightsError from open() fails the test.
Outcome probe(const std::string& path) {
  std::string message;
  try {
    const SafeTensors st = SafeTensors::open(path);
    for (const std::string& name : st.names()) {
      const TensorInfo& info = st.info(name);
      switch (info.dtype) {
        case DType::F64:
        case DType::F32:
        case DType::F16:
        case DType::BF16:
          CHECK(st.load_f32(name).size() == static_cast<std::size_t>(info.numel()));
          break;
        case DType::U8:
          CHECK(st.load_u8(name).size() == static_cast<std::size_t>(info.numel()));
          break;
        default: {
          // Touch every byte, so an unchecked span would show up under ASan.
          const std::uint8_t* bytes = st.data(name);
          unsigned sum = 0;
          for (std::size_t i = 0; i < info.end - info.begin; ++i) sum += bytes[i];
          (void)sum;
        }
      }
    }
    return Outcome::Opened;
  } catch (const WeightsError& e) {
    message = e.what();
  } catch (const std::exception& e) {
    FAIL("unexpected exception type: " << e.what());
  } catch (...) {
    FAIL("unexpected non-standard exception");
  }
  INFO("message: " << message);
  CHECK(message.rfind(path + ": ", 0) == 0);
  CHECK(message.find('\n') == std::string::npos);
  return Outcome::Refused;
}

}  // namespace

TEST_CASE("every truncation of a valid file is refused", "[safetensors][fuzz]") {
  TempDir dir;
  const Bytes file = valid_file();
  const std::string path = dir.file("cut.safetensors");
  REQUIRE(probe(dir.write("cut.safetensors", file)) == Outcome::Opened);
  for (std::size_t length = 0; length < file.size(); ++length) {
    INFO("truncated to " << length << " of " << file.size() << " bytes");
    dir.write("cut.safetensors", Bytes(file.begin(), file.begin() + static_cast<std::ptrdiff_t>(length)));
    CHECK(probe(path) == Outcome::Refused);
  }
}

TEST_CASE("random corruptions of the header open or are refused cleanly", "[safetensors][fuzz]") {
  TempDir dir;
  const Bytes file = valid_file();
  const std::size_t json_end = header_end(file);
  const std::string path = dir.file("mutant.safetensors");
  std::mt19937_64 rng(20240611);
  const auto pick = [&](std::size_t n) { return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng); };

  int opened = 0;
  int refused = 0;
  const auto run = [&](const Bytes& mutant, int round) {
    INFO("mutation round " << round);
    dir.write("mutant.safetensors", mutant);
    (probe(path) == Outcome::Opened ? opened : refused) += 1;
  };

  // Byte replacements inside the JSON header (length prefix untouched).
  for (int round = 0; round < 3000; ++round) {
    Bytes mutant = file;
    const std::size_t changes = 1 + pick(4);
    for (std::size_t c = 0; c < changes; ++c) {
      const std::size_t at = 8 + pick(json_end - 8);
      mutant[at] = pick(2) == 0 ? static_cast<std::uint8_t>(pick(256))
                                : static_cast<std::uint8_t>(kJsonAlphabet[pick(kJsonAlphabet.size())]);
    }
    run(mutant, round);
  }
  // Insertions and deletions inside the header, with the length prefix kept consistent, so the
  // data section shifts against the offsets.
  for (int round = 0; round < 1000; ++round) {
    Bytes mutant = file;
    const auto at = static_cast<std::ptrdiff_t>(8 + pick(json_end - 8));
    std::uint64_t length = json_end - 8;
    if (pick(2) == 0) {
      mutant.erase(mutant.begin() + at);
      --length;
    } else {
      mutant.insert(mutant.begin() + at, static_cast<std::uint8_t>(kJsonAlphabet[pick(kJsonAlphabet.size())]));
      ++length;
    }
    for (int i = 0; i < 8; ++i) mutant[i] = static_cast<std::uint8_t>(length >> (8 * i));
    run(mutant, 3000 + round);
  }
  // Corrupted length prefixes: random values, small shifts, and single bit flips.
  for (int round = 0; round < 500; ++round) {
    Bytes mutant = file;
    std::uint64_t length = json_end - 8;
    switch (pick(3)) {
      case 0: length = rng(); break;
      case 1: length += static_cast<std::uint64_t>(pick(33)) - 16; break;
      default: length ^= std::uint64_t{1} << pick(64); break;
    }
    for (int i = 0; i < 8; ++i) mutant[i] = static_cast<std::uint8_t>(length >> (8 * i));
    run(mutant, 4000 + round);
  }

  INFO(opened << " mutants opened, " << refused << " refused");
  CHECK(opened + refused == 4500);
  // Both outcomes occur: mutations reach past the JSON parser into the semantic checks.
  CHECK(opened > 0);
  CHECK(refused > 0);
}
