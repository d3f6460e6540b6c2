#pragma once
// Expanding command-line paths into the list of inputs to process.
#include <string>
#include <vector>

namespace vitscope {

// Each argument that names a file is kept as given (even when it is not an image, so that it gets an
// error row). Each folder is walked recursively; a file in it is kept when its content starts like an
// image or its name has an image extension (so a broken "photo.jpg" still gets an error row), and
// the files of a folder come out sorted by path. A path that does not exist is kept, to be reported.
// The order of the arguments is preserved. Inside folders, hidden entries (names starting with ".")
// are skipped, and symlinked folders are followed but each folder is entered once, so symlink loops
// end. A folder that cannot be read is kept as an input of its own, so that it gets an error row
// saying why instead of vanishing from the results.
// Arguments are first written in normal form (normal_path), so "./dir/x", "dir//x" and "dir/x"
// name one input, and an input reached twice is kept once, where it first appears; two different
// names of one file (a link) stay two inputs.
std::vector<std::string> discover_inputs(const std::vector<std::string>& paths);

// The path without "." components, repeated separators or "name/.." pairs where name is a real
// folder (not a symlink, which ".." leaves for the folder the link points into, and not missing:
// such pairs stay, and the path names what the system makes of it).
std::string normal_path(const std::string& path);

}  // namespace vitscope
