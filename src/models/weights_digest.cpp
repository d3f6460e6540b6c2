#include "vitscope/models/weights_digest.hpp"

#include <fstream>
#include <stdexcept>

#include "vitscope/core/error.hpp"
#include "vitscope/io/file_digest.hpp"

namespace vitscope {
namespace {

// The digest recorded beside the file by fetch_weights.sh (sha256sum's "<hex>  <name>"), or "".
std::string recorded_digest(const std::string& weights_path) {
  std::ifstream in(weights_path + ".sha256");
  std::string digest;
  if (!(in >> digest) || digest.size() != 64 || digest.find_first_not_of("0123456789abcdef") != std::string::npos)
    return {};
  return digest;
}

}  // namespace

WeightsDigestCheck check_weights_digest(const ModelSpec& spec) {
  WeightsDigestCheck check;
  try {
    check.actual = file_sha256_hex(spec.weights_path);
  } catch (const std::runtime_error& e) {
    throw ConfigError(e.what());
  }
  bool any_pinned = false;
  for (const WeightSource& source : spec.sources) {
    if (source.sha256.empty()) continue;
    any_pinned = true;
    if (source.sha256 == check.actual) {
      check.status = WeightsDigestCheck::Status::Verified;
      check.expected = source.sha256;
      check.origin = "pinned in the manifest";
      return check;
    }
    if (check.expected.empty()) check.expected = source.sha256;
  }
  if (any_pinned) {
    check.status = WeightsDigestCheck::Status::Mismatch;
    check.origin = "pinned in the manifest";
    return check;
  }
  check.expected = recorded_digest(spec.weights_path);
  if (check.expected.empty()) return check;
  check.origin = "given by the server at download, recorded in " + spec.weights_path + ".sha256";
  check.status = check.expected == check.actual ? WeightsDigestCheck::Status::Verified
                                                : WeightsDigestCheck::Status::Mismatch;
  return check;
}

std::string describe(const WeightsDigestCheck& check) {
  switch (check.status) {
    case WeightsDigestCheck::Status::Verified:
      return check.actual + " (verified: " + check.origin + ")";
    case WeightsDigestCheck::Status::Mismatch:
      return check.actual + " (MISMATCH: expected " + check.expected + ", " + check.origin +
             "; the file is not the one it should be)";
    case WeightsDigestCheck::Status::Unverified:
      break;
  }
  return check.actual + " (UNVERIFIED: the manifest pins no digest for this model and none was recorded at download)";
}

}  // namespace vitscope
