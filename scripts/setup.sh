#!/usr/bin/env bash
# One-step set-up on Debian 12: packages, a Release build in build/, the default model's weights,
# then the main job on the bundled samples.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
bash scripts/install_deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release
cmake --build build -j"$(nproc)"
bash scripts/fetch_weights.sh
./build/vitscope classify samples/
