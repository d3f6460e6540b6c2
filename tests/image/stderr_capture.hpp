#pragma once
// Captures what the process writes to file descriptor 2 (C stdio, iostreams and the C libraries
// underneath OpenCV alike) while an object of this class lives. Single-threaded tests only.
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <string>

namespace vitscope::test {

class StderrCapture {
 public:
  explicit StderrCapture(std::string path) : path_(std::move(path)) {
    std::fflush(stderr);
    std::cerr.flush();
    saved_ = ::dup(2);
    std::FILE* file = std::fopen(path_.c_str(), "w");
    if (file != nullptr) {
      ::dup2(::fileno(file), 2);
      std::fclose(file);
    }
  }
  StderrCapture(const StderrCapture&) = delete;
  StderrCapture& operator=(const StderrCapture&) = delete;
  ~StderrCapture() { restore(); }

  // Stops capturing and returns everything written meanwhile.
  std::string text() {
    restore();
    std::ifstream in(path_);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

 private:
  void restore() {
    if (saved_ < 0) return;
    std::fflush(stderr);
    std::cerr.flush();
    ::dup2(saved_, 2);
    ::close(saved_);
    saved_ = -1;
  }

  std::string path_;
  int saved_ = -1;
};

}  // namespace vitscope::test
