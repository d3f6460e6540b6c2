#pragma once
// The fuzz entry point of model manifests (fuzz_entry_points.hpp has the rules):
// ModelRegistry::load, throwing ConfigError. Apart from fuzz_entry_points.hpp because the reader
// is in the models library.
#include "fuzz/fuzz_entry_points.hpp"
#include "vitscope/models/model_registry.hpp"

namespace vitscope::fuzz {

inline Outcome fuzz_manifest(const std::uint8_t* data, std::size_t size) {
  static const ScratchFile scratch("manifest");
  const std::string& path = scratch.write(data, size);
  try {
    const ModelRegistry registry = ModelRegistry::load(path);
    for (const std::string& name : registry.names()) require(registry.contains(name), "a listed model is not found");
    return Outcome::Accepted;
  } catch (const ConfigError& e) {
    check_error_message(e.what(), path);
    return Outcome::Refused;
  }
}

}  // namespace vitscope::fuzz
