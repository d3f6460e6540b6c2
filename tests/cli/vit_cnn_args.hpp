#pragma once
// What the tests of the commands that run a ViT and a CNN side by side (compare, faithfulness)
// share: the bundled sample photos and the real DeiT-Tiny and MobileNet of ../shared.
#include <string>

#include "cli/cli_runner.hpp"
#include "models/test_helpers.hpp"

namespace vitscope::testing {

inline const std::string kSamples = std::string(VITSCOPE_REPO_DIR) + "/samples";

// "--vit <DeiT-Tiny> --cnn <MobileNet v1 0.75>".
inline std::string model_args() {
  return "--vit " + quote(shared_path("models/deit_tiny_patch16_224.safetensors")) + " --cnn " +
         quote(shared_path("models/mobilenet_v1_0.75_224.safetensors"));
}

}  // namespace vitscope::testing
