// Class-name files: one name per line.
#include <filesystem>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "io/safetensors_test_file.hpp"
#include "vitscope/core/error.hpp"
#include "vitscope/io/labels.hpp"

using namespace vitscope;
using vitscope::test::TempDir;

namespace {

using Names = std::vector<std::string>;

std::string config_error(const std::string& path) {
  try {
    read_label_names(path);
  } catch (const ConfigError& e) {
    return e.what();
  } catch (const std::exception& e) {
    FAIL("expected a ConfigError, got another exception: " << e.what());
  }
  FAIL("expected a ConfigError, but nothing was thrown");
  return {};
}

}  // namespace

TEST_CASE("label files: one class name per line", "[labels]") {
  TempDir dir;
  SECTION("plain lines, names keep their inner spaces and commas") {
    const std::string path = dir.write("l.txt", std::string("tench, Tinca tinca\ngoldfish\ngreat white shark\n"));
    CHECK(read_label_names(path) == Names{"tench, Tinca tinca", "goldfish", "great white shark"});
  }
  SECTION("no newline after the last name") {
    CHECK(read_label_names(dir.write("l.txt", std::string("a\nb"))) == Names{"a", "b"});
  }
  SECTION("Windows line endings") {
    CHECK(read_label_names(dir.write("l.txt", std::string("cat\r\ndog\r\n"))) == Names{"cat", "dog"});
  }
  SECTION("trailing blank lines are ignored") {
    CHECK(read_label_names(dir.write("l.txt", std::string("cat\ndog\n\n \r\n\n"))) == Names{"cat", "dog"});
  }
  SECTION("a UTF-8 byte-order mark is not part of the first name") {
    CHECK(read_label_names(dir.write("l.txt", std::string("\xEF\xBB\xBF" "cat\ndog\n"))) == Names{"cat", "dog"});
  }
  SECTION("non-ASCII names are kept as written") {
    CHECK(read_label_names(dir.write("l.txt", std::string("Bärenklau\n猫\n"))) == Names{"Bärenklau", "猫"});
  }
}

TEST_CASE("label files that cannot be used", "[labels]") {
  TempDir dir;
  SECTION("missing file") {
    const std::string path = dir.file("absent.txt");
    CHECK(config_error(path) == path + ": cannot open: No such file or directory");
  }
  SECTION("directory") {
    const std::string path = dir.file("");
    CHECK(config_error(path) == path + ": cannot open: Is a directory");
  }
  SECTION("empty file") {
    const std::string path = dir.write("empty.txt", std::string());
    CHECK(config_error(path) == path + ": no class names (the file is empty or blank)");
  }
  SECTION("only blank lines") {
    const std::string path = dir.write("blank.txt", std::string("\n\r\n  \n"));
    CHECK(config_error(path) == path + ": no class names (the file is empty or blank)");
  }
  SECTION("a blank line between names would shift every later index") {
    const std::string path = dir.write("gap.txt", std::string("cat\n\ndog\n"));
    CHECK(config_error(path) == path + ": line 2 is blank; every class needs a name");
  }
}

TEST_CASE("the shared ImageNet class list", "[labels][shared]") {
  const std::string path = VITSCOPE_SHARED_DIR "/images/imagenet_classes.txt";
  if (!std::filesystem::is_regular_file(path)) {
    FAIL("missing shared label file " << path << " (the shared images directory is required)");
  }
  const Names names = read_label_names(path);
  REQUIRE(names.size() == 1000);
  CHECK(names.front() == "tench");
  CHECK(names[1] == "goldfish");
  CHECK(names.back() == "toilet tissue");
}
