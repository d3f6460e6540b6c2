// Expanding command-line paths into inputs: files kept as given, folders walked recursively.
#include "vitscope/io/discover.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "vitscope/io/image.hpp"

namespace vitscope {
namespace {

namespace fs = std::filesystem;

// True when the file's first bytes are those of a supported image format.
bool starts_like_image(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return false;
  std::uint8_t head[16];
  const ssize_t got = ::read(fd, head, sizeof head);
  ::close(fd);
  return got > 0 && sniff_image_format(head, static_cast<std::size_t>(got)) != ImageFormat::Unknown;
}

bool is_hidden(const fs::path& path) {
  const std::string name = path.filename().string();
  return !name.empty() && name[0] == '.';
}

// Identity of a directory, to visit each one once even when symlinks lead back to it.
using DirectoryId = std::pair<std::uintmax_t, std::uintmax_t>;  // device, inode

bool directory_id(const fs::path& path, DirectoryId& id) {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) return false;
  id = {static_cast<std::uintmax_t>(info.st_dev), static_cast<std::uintmax_t>(info.st_ino)};
  return true;
}

// Depth-first over `root` in sorted order, following directory symlinks but entering each
// directory once, so symlink loops end. A directory that cannot be listed is kept as an input
// itself: loading it reports why (read_image_file: "cannot read folder: ...").
std::vector<std::string> walk(const fs::path& root) {
  std::vector<std::string> files;
  std::set<DirectoryId> visited;
  std::vector<fs::path> pending = {root};
  while (!pending.empty()) {
    const fs::path dir = pending.back();
    pending.pop_back();
    DirectoryId id;
    if (!directory_id(dir, id) || !visited.insert(id).second) continue;

    std::error_code error;
    fs::directory_iterator it(dir, error);
    if (error) {
      files.push_back(dir.string());
      continue;
    }
    std::vector<fs::path> entries;
    for (const fs::directory_iterator end; it != end; it.increment(error)) {
      if (error) break;
      if (!is_hidden(it->path())) entries.push_back(it->path());
    }
    if (error) files.push_back(dir.string());  // listed in part: the rest cannot be known
    std::sort(entries.begin(), entries.end());

    std::vector<fs::path> subdirectories;
    for (const fs::path& entry : entries) {
      std::error_code status_error;
      const fs::file_status status = fs::status(entry, status_error);  // follows symlinks
      if (fs::is_directory(status)) {
        subdirectories.push_back(entry);
      } else if (fs::is_regular_file(status)) {
        if (has_image_extension(entry.string()) || starts_like_image(entry.string())) {
          files.push_back(entry.string());
        }
      } else if (status_error && has_image_extension(entry.string())) {
        files.push_back(entry.string());  // a dangling "photo.jpg" link: reported when loaded
      }
    }
    // Pushed in reverse so the first subdirectory is walked next.
    pending.insert(pending.end(), subdirectories.rbegin(), subdirectories.rend());
  }
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace

std::string normal_path(const std::string& path) {
  if (path.empty()) return path;
  const fs::path given(path);
  const fs::path root = given.root_path();  // "/" or ""
  std::vector<std::string> parts;
  auto prefix = [&] {
    fs::path p = root;
    for (const std::string& part : parts) p /= part;
    return p;
  };
  for (const fs::path& component : given.relative_path()) {
    const std::string name = component.string();
    if (name.empty() || name == ".") continue;
    if (name == "..") {
      if (parts.empty() && !root.empty()) continue;  // "/.." is "/"
      // "name/.." is the folder name is in only when name is a real folder: through a symlink
      // it is the folder the link points into, and if name does not exist the path names nothing.
      std::error_code error;
      if (!parts.empty() && parts.back() != ".." &&
          fs::is_directory(fs::symlink_status(prefix(), error))) {
        parts.pop_back();
        continue;
      }
    }
    parts.push_back(name);
  }
  std::string normal = prefix().string();
  if (normal.empty()) return ".";
  // "dir/" stays "dir/" (a trailing separator names the folder itself); "./" becomes ".".
  if (!parts.empty() && path.back() == '/') normal += '/';
  return normal;
}

std::vector<std::string> discover_inputs(const std::vector<std::string>& arguments) {
  std::vector<std::string> inputs;
  std::set<std::string> seen;  // an input named twice (two arguments, or a file inside a folder given) runs once
  auto keep = [&](const std::string& path) {
    if (seen.insert(path).second) inputs.push_back(path);
  };
  for (const std::string& argument : arguments) {
    const std::string path = normal_path(argument);
    std::error_code error;
    if (!fs::is_directory(fs::status(path, error))) {
      keep(path);  // a file, or a path that does not exist: reported when loaded
      continue;
    }
    for (const std::string& found : walk(path)) keep(found);
  }
  return inputs;
}

}  // namespace vitscope
