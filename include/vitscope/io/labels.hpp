#pragma once
#include <string>
#include <vector>

namespace vitscope {

// One class name per line (blank trailing lines ignored). Throws ConfigError "<path>: <problem>".
std::vector<std::string> read_label_names(const std::string& path);

}  // namespace vitscope
