// Class-name files: line i (from 0) names class i.
#include "vitscope/io/labels.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include <sys/stat.h>

#include "vitscope/core/error.hpp"

namespace vitscope {

namespace {

[[noreturn]] void fail(const std::string& path, const std::string& problem) {
  throw ConfigError(path + ": " + problem);
}

bool is_blank(const std::string& line) {
  return line.find_first_not_of(" \t\f\v") == std::string::npos;
}

}  // namespace

std::vector<std::string> read_label_names(const std::string& path) {
  // std::ifstream "opens" a directory and then reads nothing; refuse it by name instead.
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) fail(path, std::string("cannot open: ") + std::strerror(errno));
  if (S_ISDIR(st.st_mode)) fail(path, std::string("cannot open: ") + std::strerror(EISDIR));

  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, std::string("cannot open: ") + std::strerror(errno));

  std::vector<std::string> names;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();  // files written on Windows
    if (names.empty() && line.compare(0, 3, "\xEF\xBB\xBF") == 0) line.erase(0, 3);  // UTF-8 BOM
    names.push_back(line);
  }
  if (in.bad()) fail(path, "read error");

  while (!names.empty() && is_blank(names.back())) names.pop_back();
  if (names.empty()) fail(path, "no class names (the file is empty or blank)");
  // A blank line inside the list would silently shift every later class index.
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (is_blank(names[i])) {
      fail(path, "line " + std::to_string(i + 1) + " is blank; every class needs a name");
    }
  }
  return names;
}

}  // namespace vitscope
