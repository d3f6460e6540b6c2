#!/usr/bin/env bash
# Regenerates the figures shown in README.md with `vitscope compare` on a bundled sample photo:
# scripts/figures/{panel.png, receptive_fields.png, compare.json}.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
binary="${VITSCOPE_BINARY:-build/vitscope}"
[[ -x "$binary" ]] || { echo "make_readme_figures: build first ($binary is missing)" >&2; exit 2; }
"$binary" compare --vit deit_tiny_patch16_224 --cnn mobilenet_v1_0.75_224 --out scripts/figures samples/coffee.png
