#pragma once
// Error types carried as exceptions to the one place (the CLI) that prints them.
// Every message reads "<file or tensor>: <problem>" on one line.
#include <stdexcept>
#include <string>

namespace vitscope {

// A weights file or model manifest that cannot be used. The CLI exits with status 2.
class WeightsError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// One input image that cannot be read or decoded. The CLI reports it as an error row and goes on.
class ImageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A bad option or configuration (unknown model name, inconsistent settings). Exit status 2.
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A model whose output for one input cannot be used (a non-finite logit: broken weights). The
// message names the model; the CLI adds the file and reports an error row for that input.
class ModelOutputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Text from a file, made fit for such a message: control bytes written as \xNN so that the
// message stays on one line, and cut to max_shown bytes ("..." after).
std::string printable(const std::string& text, std::size_t max_shown = 40);

}  // namespace vitscope
