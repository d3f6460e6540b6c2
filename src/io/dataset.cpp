// Labelled image sets: a labels CSV, or an ImageFolder tree.
#include "vitscope/io/dataset.hpp"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "vitscope/core/error.hpp"
#include "vitscope/io/discover.hpp"

namespace fs = std::filesystem;

namespace vitscope {
namespace {

std::vector<std::string> split_csv_line(const std::string& line) {
  std::vector<std::string> fields;
  std::string field;
  bool quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') field += '"', ++i;
      else if (c == '"') quoted = false;
      else field += c;
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      fields.push_back(field), field.clear();
    } else if (c != '\r') {
      field += c;
    }
  }
  fields.push_back(field);
  return fields;
}

std::string printable_field(const std::string& field) { return printable(field); }

}  // namespace

std::vector<LabelledImage> read_labelled_csv(const std::string& csv_path, const std::string& image_dir) {
  std::ifstream in(csv_path);
  if (!in) throw ConfigError(csv_path + ": cannot open label file");
  std::string line;
  if (!std::getline(in, line)) throw ConfigError(csv_path + ": empty label file");
  const std::vector<std::string> header = split_csv_line(line);
  const auto column = [&](const std::string& name) {
    const auto it = std::find(header.begin(), header.end(), name);
    if (it == header.end()) throw ConfigError(csv_path + ": no '" + name + "' column in the header");
    return static_cast<std::size_t>(it - header.begin());
  };
  const std::size_t file_col = column("file"), class_col = column("class_index");
  const fs::path folder(image_dir);
  std::vector<LabelledImage> out;
  std::map<std::string, int> first_line;  // file → the line that labels it
  for (int number = 2; std::getline(in, line); ++number) {
    if (line.empty() || line == "\r") continue;
    const std::vector<std::string> fields = split_csv_line(line);
    if (fields.size() <= std::max(file_col, class_col))
      throw ConfigError(csv_path + ": line " + std::to_string(number) + " has too few fields");
    try {
      std::size_t used = 0;
      const int index = std::stoi(fields[class_col], &used);
      if (used != fields[class_col].size() || index < 0) throw std::invalid_argument("class");
      const std::string file = fs::path(fields[file_col]).lexically_normal().string();
      if (const auto [at, inserted] = first_line.emplace(file, number); !inserted)
        throw ConfigError(csv_path + ": line " + std::to_string(number) + ": " + printable_field(fields[file_col]) +
                          " is labelled again (first on line " + std::to_string(at->second) + ")");
      out.push_back({(folder / fields[file_col]).string(), index});
    } catch (const ConfigError&) {
      throw;
    } catch (const std::exception&) {
      throw ConfigError(csv_path + ": line " + std::to_string(number) + ": class_index '" +
                        printable_field(fields[class_col]) + "' is not a non-negative integer");
    }
  }
  if (out.empty()) throw ConfigError(csv_path + ": no labelled images");
  return out;
}

std::vector<LabelledImage> read_image_folder(const std::string& dir,
                                             const std::vector<std::string>& class_names) {
  std::vector<std::string> folders;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec))
    if (entry.is_directory() && entry.path().filename().string()[0] != '.')
      folders.push_back(entry.path().filename().string());
  if (ec) throw ConfigError(dir + ": cannot read folder: " + ec.message());
  std::sort(folders.begin(), folders.end());
  if (folders.empty()) throw ConfigError(dir + ": no class sub-folders (expected DIR/<class>/<images>)");
  std::vector<LabelledImage> out;
  for (std::size_t i = 0; i < folders.size(); ++i) {
    int index = static_cast<int>(i);
    if (!class_names.empty()) {
      const auto it = std::find(class_names.begin(), class_names.end(), folders[i]);
      if (it == class_names.end())
        throw ConfigError((fs::path(dir) / folders[i]).string() + ": folder name is not a class name of the model");
      index = static_cast<int>(it - class_names.begin());
    }
    for (const std::string& path : discover_inputs({(fs::path(dir) / folders[i]).string()}))
      out.push_back({path, index});
  }
  return out;
}

}  // namespace vitscope
