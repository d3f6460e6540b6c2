#include "vitscope/batch/inputs.hpp"

#include <filesystem>
#include <unordered_set>

#include "vitscope/io/discover.hpp"

namespace vitscope::batch {
namespace {

namespace fs = std::filesystem;

// discover_inputs builds the paths of a folder's files as `argument / name...`, so the relative
// name is what follows the argument's text.
std::string relative_to(const std::string& path, const std::string& argument) {
  if (path.size() > argument.size() && path.compare(0, argument.size(), argument) == 0) {
    const std::size_t start = path.find_first_not_of('/', argument.size());
    if (start != std::string::npos) return path.substr(start);
  }
  return fs::path(path).lexically_relative(argument).generic_string();
}

}  // namespace

std::vector<BatchInput> discover_batch_inputs(const std::vector<std::string>& arguments) {
  std::vector<BatchInput> inputs;
  std::unordered_set<std::string> seen;
  for (const std::string& given : arguments) {
    const std::string argument = normal_path(given);  // as discover_inputs writes the found paths
    std::error_code error;
    const bool folder = fs::is_directory(fs::status(argument, error));
    for (std::string& path : discover_inputs({argument})) {
      if (!seen.insert(path).second) continue;
      std::string relative = folder ? relative_to(path, argument) : fs::path(path).filename().string();
      inputs.push_back({std::move(path), std::move(relative)});
    }
  }
  return inputs;
}

std::vector<BatchInput> select_shard(const std::vector<BatchInput>& inputs, const Shard& shard) {
  std::vector<BatchInput> selected;
  for (const BatchInput& input : inputs)
    if (shard.contains(input.relative)) selected.push_back(input);
  return selected;
}

}  // namespace vitscope::batch
