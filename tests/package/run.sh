#!/usr/bin/env bash
# Installs a built vitscope into a fresh prefix, builds tests/package/consumer against the installed
# tree alone (find_package), and classifies a sample photo with it, by manifest name and by file.
#   tests/package/run.sh BUILD_DIR [WORK_DIR]
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build="$(cd "$1" && pwd)"
work="${2:-$build/package_test}"
rm -rf "$work"
mkdir -p "$work"
prefix="$work/prefix"

cmake --install "$build" --prefix "$prefix" > "$work/install.log"
for f in bin/vitscope lib/cmake/vitscope/vitscopeConfig.cmake include/vitscope/models/classifier.hpp \
         share/vitscope/weights/models.json; do
  [[ -e "$prefix/$f" ]] || { echo "package: $f missing from the installed tree" >&2; exit 1; }
done
# The consumer sees the installed tree only: no path into the source or build tree.
cmake -S "$repo/tests/package" -B "$work/consumer" -DCMAKE_BUILD_TYPE=Release \
      -DCMAKE_PREFIX_PATH="$prefix" > "$work/configure.log"
cmake --build "$work/consumer" -j"$(nproc)" > "$work/build.log"
consumer="$work/consumer/consumer"

shared_model="$repo/../shared/models/deit_tiny_patch16_224.safetensors"
[[ -f "$shared_model" ]] || { echo "package: $shared_model not found (../shared beside the repository)" >&2; exit 1; }
expect_cat() {  # the top class of samples/chelsea.png, as `vitscope classify` gives it
  local output="$1"
  echo "$output"
  head -1 <<<"$output" | grep -q "Egyptian cat (285)" || { echo "package: wrong top class" >&2; exit 1; }
  [[ $(wc -l <<<"$output") -eq 5 ]] || { echo "package: expected 5 lines" >&2; exit 1; }
}
# By name, through the installed manifest, with the weights from ../shared.
expect_cat "$(VITSCOPE_MANIFEST="$prefix/share/vitscope/weights/models.json" \
              VITSCOPE_WEIGHTS_DIR="$repo/../shared/models" \
              "$consumer" deit_tiny_patch16_224 "$repo/samples/chelsea.png")"
expect_cat "$("$consumer" "$shared_model" "$repo/samples/chelsea.png")"
# The installed executable finds its manifest beside itself (share/vitscope/weights).
VITSCOPE_WEIGHTS_DIR="$repo/../shared/models" "$prefix/bin/vitscope" models > "$work/models.txt"
grep -q deit_tiny_patch16_224 "$work/models.txt"
echo "package: consumer built against the installed tree and classified the photo"
