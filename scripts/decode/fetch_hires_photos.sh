#!/usr/bin/env bash
# Collects the 33 high-resolution JPEG photographs listed in scripts/decode/hires_photos.tsv from the
# Debian 12 packages that ship them (desktop wallpapers; each row names the package, the version,
# the path inside it, the author and the licence), into .cache/hires_photos/photos/.
#   scripts/decode/fetch_hires_photos.sh
# The packages are downloaded with `apt-get download` and unpacked with `dpkg-deb -x` under
# .cache/hires_photos/debs/; nothing is installed. A file whose size differs from the table's
# (another package version) is reported and left out.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
table="$repo/scripts/decode/hires_photos.tsv"
cache="$repo/.cache/hires_photos"
mkdir -p "$cache/debs" "$cache/photos"
cd "$cache/debs"
for package in $(tail -n +2 "$table" | cut -f2 | sort -u); do
  if ! ls "${package}"_*.deb >/dev/null 2>&1; then
    apt-get download "$package" >/dev/null 2>&1 || { echo "fetch_hires_photos: apt-get download $package failed" >&2; exit 1; }
  fi
  mkdir -p x
  [[ -d "x/$package" ]] || dpkg-deb -x "$(ls "${package}"_*.deb | head -n 1)" "x/$package"
done
kept=0
while IFS=$'\t' read -r file package _version path width height _rest; do
  src="x/$package$path"
  if [[ ! -f "$src" ]]; then
    echo "fetch_hires_photos: $package has no $path (another version?)" >&2
    continue
  fi
  cp "$src" "$cache/photos/$file"
  size="$(/usr/bin/python3 -c 'import sys; from PIL import Image; print("%dx%d" % Image.open(sys.argv[1]).size)' "$cache/photos/$file")"
  if [[ "$size" != "${width}x${height}" ]]; then
    echo "fetch_hires_photos: $file is $size, not ${width}x${height}; left out" >&2
    rm -f "$cache/photos/$file"
    continue
  fi
  kept=$((kept + 1))
done < <(tail -n +2 "$table")
echo "fetch_hires_photos: $kept photos in $cache/photos"
