// discover_inputs on a scratch tree: argument order kept, folders walked recursively and sorted,
// images recognised by content or extension, other files skipped, symlink loops ending.
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "image/image_test_util.hpp"
#include "vitscope/io/discover.hpp"

using namespace vitscope;
using namespace vitscope::test;

namespace fs = std::filesystem;

namespace {

std::vector<std::string> relative_to(const std::string& base, const std::vector<std::string>& paths) {
  std::vector<std::string> out;
  for (const std::string& p : paths) {
    out.push_back(p.rfind(base + "/", 0) == 0 ? p.substr(base.size() + 1) : p);
  }
  return out;
}

}  // namespace

TEST_CASE("folders are walked recursively, sorted, keeping images by content or name", "[discover]") {
  ScratchDir dir;
  const Bytes png = read_bytes(image_fixture("rgb.png"));
  const Bytes jpeg = read_bytes(image_fixture("rgb.jpg"));
  dir.write("photos/b.png", png);
  dir.write("photos/a.JPG", jpeg);
  dir.write("photos/no_extension", jpeg);             // recognised by content
  dir.write("photos/broken.jpg", "not really a jpeg");  // kept by name, to get an error row
  dir.write("photos/notes.txt", "text");              // skipped
  dir.write("photos/empty", Bytes{});                  // skipped
  dir.write("photos/sub/deeper/c.webp", read_bytes(image_fixture("rgb_lossless.webp")));
  dir.write("photos/sub/d.tiff", read_bytes(image_fixture("rgb.tiff")));
  dir.write("photos/.hidden.png", png);                // hidden: skipped
  dir.write("photos/.cache/e.png", png);               // inside a hidden folder: skipped
  dir.write("photos/Z.png", png);                      // upper case sorts before lower case
  dir.write("single.txt", "given explicitly");

  const std::vector<std::string> found = discover_inputs(
      {dir.file("single.txt"), dir.file("photos"), dir.file("missing.png"), dir.file("photos/b.png")});
  const std::vector<std::string> expected = {
      "single.txt",                                   // explicit files are kept, images or not
      "photos/Z.png", "photos/a.JPG", "photos/b.png", "photos/broken.jpg", "photos/no_extension",
      "photos/sub/d.tiff", "photos/sub/deeper/c.webp",
      "missing.png"};                                 // kept, to be reported; photos/b.png,
                                                      // given again, runs once where first found
  CHECK(relative_to(dir.path(), found) == expected);
}

TEST_CASE("symlink loops end and linked folders are walked once", "[discover]") {
  ScratchDir dir;
  const Bytes png = read_bytes(image_fixture("rgb.png"));
  dir.write("tree/a/one.png", png);
  dir.write("tree/b/two.png", png);
  fs::create_directory_symlink("..", dir.file("tree/a/up"));        // loop to the parent
  fs::create_directory_symlink(dir.file("tree"), dir.file("tree/b/root"));  // loop to the top
  fs::create_directory_symlink(dir.file("tree/b"), dir.file("tree/c"));     // alias of b
  fs::create_symlink(dir.file("tree/a/one.png"), dir.file("tree/link.png"));  // file link: kept
  fs::create_symlink(dir.file("gone.png"), dir.file("tree/dangling.png"));   // dangling: kept

  const std::vector<std::string> found = discover_inputs({dir.file("tree")});
  // b comes before its alias c in sorted order, so its files are listed under b.
  const std::vector<std::string> expected = {"tree/a/one.png", "tree/b/two.png", "tree/dangling.png",
                                             "tree/link.png"};
  CHECK(relative_to(dir.path(), found) == expected);
}

TEST_CASE("a folder argument given through a symlink, and an empty list", "[discover]") {
  ScratchDir dir;
  dir.write("real/x.bmp", read_bytes(image_fixture("rgb.bmp")));
  fs::create_directory_symlink(dir.file("real"), dir.file("alias"));
  CHECK(relative_to(dir.path(), discover_inputs({dir.file("alias")})) ==
        std::vector<std::string>{"alias/x.bmp"});
  CHECK(discover_inputs({}).empty());
  dir.write("empty_folder/.keep", "");
  CHECK(discover_inputs({dir.file("empty_folder")}).empty());
}

TEST_CASE("an unreadable subfolder is skipped", "[discover]") {
  ScratchDir dir;
  dir.write("top/ok.png", read_bytes(image_fixture("rgb.png")));
  dir.write("top/locked/secret.png", read_bytes(image_fixture("rgb.png")));
  fs::permissions(dir.file("top/locked"), fs::perms::none);
  const bool can_still_read = ::access(dir.file("top/locked").c_str(), R_OK) == 0;  // e.g. root
  const std::vector<std::string> found = relative_to(dir.path(), discover_inputs({dir.file("top")}));
  fs::permissions(dir.file("top/locked"), fs::perms::owner_all);
  if (can_still_read) {
    CHECK(found == std::vector<std::string>{"top/locked/secret.png", "top/ok.png"});
  } else {
    CHECK(found == std::vector<std::string>{"top/ok.png"});
  }
}

TEST_CASE("one file named two ways is one input; two names of a file are two", "[discover]") {
  CHECK(normal_path("./dir/x.jpg") == "dir/x.jpg");
  CHECK(normal_path("dir//./x.jpg") == "dir/x.jpg");
  CHECK(normal_path("./") == ".");
  CHECK(normal_path("dir/") == "dir/");
  CHECK(normal_path("/abs/./x") == "/abs/x");
  CHECK(normal_path("/../x") == "/x");
  CHECK(normal_path("../x") == "../x");
  ScratchDir dir;
  const Bytes jpeg = read_bytes(image_fixture("rgb.jpg"));
  dir.write("photos/a.jpg", jpeg);
  dir.write("photos/b.jpg", jpeg);
  std::filesystem::create_hard_link(dir.file("photos/a.jpg"), dir.file("photos/c.jpg"));
  const std::string root = dir.file("photos");
  const std::vector<std::string> inputs =
      discover_inputs({root + "/./b.jpg", root + "//b.jpg", root, root + "/../photos/a.jpg"});
  CHECK(inputs == std::vector<std::string>{root + "/b.jpg", root + "/a.jpg", root + "/c.jpg"});
}

TEST_CASE("name/.. is collapsed only where name is a real folder", "[discover]") {
  ScratchDir dir;
  const Bytes jpeg = read_bytes(image_fixture("rgb.jpg"));
  dir.write("dir/sub/keep.jpg", jpeg);
  dir.write("dir/x.jpg", jpeg);
  dir.write("real/inner/keep.jpg", jpeg);
  dir.write("real/x.jpg", jpeg);
  std::filesystem::create_directory_symlink(dir.file("real/inner"), dir.file("dir/link"));
  CHECK(normal_path(dir.file("dir/sub/../x.jpg")) == dir.file("dir/x.jpg"));
  // dir/link/.. is real/, not dir/: the path keeps its "..", and names real/x.jpg as the system does.
  const std::string through_link = dir.file("dir/link/../x.jpg");
  CHECK(normal_path(through_link) == through_link);
  CHECK(std::filesystem::equivalent(normal_path(through_link), dir.file("real/x.jpg")));
  // A missing folder: "missing/../x.jpg" names nothing, so it is not shortened to an existing x.jpg.
  const std::string missing = dir.file("dir/missing/../x.jpg");
  CHECK(normal_path(missing) == missing);
}
