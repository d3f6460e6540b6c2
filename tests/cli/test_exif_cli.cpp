// --exif apply|ignore on the command line: every command that reads images takes it, the two give
// different pixels for a turned photo, validate counts the photos that carry a rotation, and a
// batch result file remembers which one wrote it.
#include <filesystem>
#include <fstream>

#include "cli/batch_test_support.hpp"

using namespace vitscope::testing;
namespace fs = std::filesystem;
using Catch::Matchers::Contains;

TEST_CASE("--exif ignore reads the stored pixels; validate counts rotated photos; batch remembers the choice",
          "[cli][exif]") {
  const fs::path dir = fresh_dir("exif_cli");
  fs::create_directories(dir / "photos");
  for (const char* name : {"orientation_3.jpg", "orientation_6.jpg", "orientation_8.jpg"})
    fs::copy_file(data_path(std::string("images/") + name), dir / "photos" / name);
  const std::string model = " --model " + quote(tiny_model()) + " ";
  const std::string photo = quote((dir / "photos" / "orientation_6.jpg").string());
  const RunResult apply = run_vitscope("classify --format csv --exif apply" + model + photo);
  const RunResult ignore = run_vitscope("classify --format csv --exif ignore" + model + photo);
  REQUIRE(apply.status == 0);
  REQUIRE(ignore.status == 0);
  CHECK(apply.out != ignore.out);  // a 90-degree turn changes the logits
  const RunResult bad = run_vitscope("classify --exif auto" + model + photo);
  CHECK(bad.status == 2);

  std::ofstream(dir / "labels.csv") << "file,class_index\norientation_3.jpg,1\norientation_6.jpg,2\norientation_8.jpg,3\n";
  const RunResult validate = run_vitscope("validate " + quote((dir / "photos").string()) + " --labels " +
                                          quote((dir / "labels.csv").string()) + " --exif ignore" + model);
  INFO(validate.err);
  CHECK(validate.status == 0);
  CHECK_THAT(validate.out, Contains("EXIF orientation: 3 of the images carry a rotation or mirroring (--exif ignore)"));

  const fs::path out = dir / "results.csv";
  REQUIRE(run_vitscope(batch_args(tiny_model(), dir / "photos", out, "--quiet --exif ignore")).status == 0);
  CHECK_THAT(read_file(out.string() + ".settings.json"), Contains("exif ignore"));
  const RunResult resumed = run_vitscope(batch_args(tiny_model(), dir / "photos", out, "--resume"));
  CHECK(resumed.status == 2);
  CHECK_THAT(resumed.err, Contains("preprocessing: exif ignore"));
  for (const char* command : {"compare", "faithfulness", "probe window", "bench"})
    CHECK_THAT(run_vitscope(std::string(command) + " --help").out, Contains("--exif"));
}
