#pragma once
// Whether a model's weights file is the one it should be: its SHA-256 against the digests pinned
// in the manifest (any of its sources'), or else against the digest the server gave when
// scripts/fetch_weights.sh downloaded it (recorded beside the file as FILE.sha256).
#include <string>

#include "vitscope/models/model_registry.hpp"

namespace vitscope {

struct WeightsDigestCheck {
  enum class Status { Verified, Mismatch, Unverified };
  Status status = Status::Unverified;
  std::string actual;    // the file's SHA-256, 64 hex digits
  std::string expected;  // what it matched or should have matched; empty when unverified
  std::string origin;    // where `expected` comes from, in words
};

// Reads the whole weights file; throws ConfigError when it cannot be read.
WeightsDigestCheck check_weights_digest(const ModelSpec& spec);

// One line for people: "<actual> (verified: pinned in the manifest)", "... UNVERIFIED: ...", etc.
std::string describe(const WeightsDigestCheck& check);

}  // namespace vitscope
