#!/usr/bin/env bash
# Regenerates the figures shown in README.md: `vitscope compare` on a bundled sample photo
# (scripts/figures/{panel.png, receptive_fields.png, compare.json}), and `vitscope probe window` on
# the 100 labelled photos of ../shared (scripts/figures/probe_window.png, probe_window.json), and
# `vitscope probe conv` there (scripts/figures/probe_conv_kernels.png), the receptive-field summary
# over those photos (scripts/figures/receptive_fields_100.png, receptive_fields_100.json) and the
# faithfulness scoreboard (scripts/figures/faithfulness.{png,json,txt}).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
binary="${VITSCOPE_BINARY:-build/vitscope}"
[[ -x "$binary" ]] || { echo "make_readme_figures: build first ($binary is missing)" >&2; exit 2; }
"$binary" compare --vit deit_tiny_patch16_224 --cnn mobilenet_v1_0.75_224 --out scripts/figures samples/coffee.png
images=../shared/images/imagenet-100
[[ -d "$images" ]] || { echo "make_readme_figures: $images not found (../shared beside the repository)" >&2; exit 2; }
"$binary" probe window "$images" --labels "$images/labels.csv" --model deit_tiny_patch16_224 \
  --cnn mobilenet_v1_0.75_224 --json scripts/figures/probe_window.json --out scripts/figures/probe
mv scripts/figures/probe/window.png scripts/figures/probe_window.png
"$binary" probe conv "$images" --labels "$images/labels.csv" --model deit_tiny_patch16_224 \
  --out scripts/figures/probe
mv scripts/figures/probe/conv_kernels.png scripts/figures/probe_conv_kernels.png
rmdir scripts/figures/probe
summary_dir=$(mktemp -d)
trap 'rm -rf "$summary_dir"' EXIT
"$binary" compare --summary --maps rollout,cam --out "$summary_dir" "$images" > /dev/null
cp "$summary_dir/summary/receptive_fields.png" scripts/figures/receptive_fields_100.png
cp "$summary_dir/summary/summary.json" scripts/figures/receptive_fields_100.json
"$binary" faithfulness "$images" --json scripts/figures/faithfulness.json --plot scripts/figures/faithfulness.png \
  > scripts/figures/faithfulness.txt
