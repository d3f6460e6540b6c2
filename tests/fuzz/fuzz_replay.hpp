#pragma once
// Replays the saved inputs of a fuzz target in a Catch2 test: the seeds of tests/fuzz/corpus/<target>/
// and the reproducers of tests/data/fuzz_regressions/<target>/. Needs VITSCOPE_REPO_DIR and
// VITSCOPE_TEST_DATA_DIR (set for every test suite).
//
// A file named valid-* must be accepted by the reader; any other name (crash-*, oom-*, timeout-*,
// invalid-*, unsupported-*) must be refused with the reader's documented error. Either way the
// entry point's own checks (fuzz_entry_points.hpp) apply. A missing or empty folder fails the
// test, so that a moved folder cannot turn the test into one that checks nothing.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "fuzz/fuzz_entry_points.hpp"

namespace vitscope::fuzz {

using EntryPoint = Outcome (*)(const std::uint8_t* data, std::size_t size);

inline std::vector<std::filesystem::path> saved_inputs(const std::filesystem::path& folder) {
  std::vector<std::filesystem::path> files;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(folder, error)) {
    if (entry.is_regular_file()) files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

inline std::vector<std::uint8_t> file_bytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in);
  return std::vector<std::uint8_t>(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

inline const char* outcome_name(Outcome outcome) {
  return outcome == Outcome::Accepted ? "accepted" : "refused";
}

inline void replay_folder(const std::filesystem::path& folder, EntryPoint entry) {
  const std::vector<std::filesystem::path> files = saved_inputs(folder);
  INFO("folder " << folder.string());
  REQUIRE(std::filesystem::is_directory(folder));
  REQUIRE(!files.empty());
  for (const std::filesystem::path& file : files) {
    const std::string name = file.filename().string();
    const Outcome expected = name.rfind("valid-", 0) == 0 ? Outcome::Accepted : Outcome::Refused;
    const std::vector<std::uint8_t> bytes = file_bytes(file);
    INFO("input " << file.string() << " (" << bytes.size() << " bytes)");
    try {
      const Outcome outcome = entry(bytes.data(), bytes.size());
      INFO("expected " << outcome_name(expected) << ", was " << outcome_name(outcome));
      CHECK(outcome == expected);
    } catch (const std::exception& e) {
      FAIL_CHECK("escaped the reader: " << e.what());
    }
  }
}

// Replays both folders of `target` through `entry`.
inline void replay_saved_inputs(const std::string& target, EntryPoint entry) {
  SECTION("seed corpus") { replay_folder(std::string(VITSCOPE_REPO_DIR) + "/tests/fuzz/corpus/" + target, entry); }
  SECTION("regressions") {
    replay_folder(std::string(VITSCOPE_TEST_DATA_DIR) + "/fuzz_regressions/" + target, entry);
  }
}

}  // namespace vitscope::fuzz
