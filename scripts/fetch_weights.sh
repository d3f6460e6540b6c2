#!/usr/bin/env bash
# Puts a model's weights into weights/ as named in weights/models.json.
#   scripts/fetch_weights.sh [NAME]        (default: the manifest's default model)
# A local mirror is tried first ($VITSCOPE_WEIGHTS_DIR, then ../shared/models beside the repository),
# then the model's download URL. The sha256 is checked wherever the manifest knows it.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
manifest="$repo/weights/models.json"
command -v jq >/dev/null || { echo "fetch_weights: jq is required (apt-get install jq)" >&2; exit 2; }

name="${1:-$(jq -r '.default_model' "$manifest")}"
if ! jq -e --arg n "$name" '.models[$n]' "$manifest" >/dev/null; then
  echo "fetch_weights: unknown model '$name'; known: $(jq -r '.models | keys | join(", ")' "$manifest")" >&2
  exit 2
fi
file="$(jq -r --arg n "$name" '.models[$n].file' "$manifest")"
dest="$repo/weights/$file"

check_sha() {  # file expected-sha (empty: unknown)
  local actual
  actual="$(sha256sum "$1" | cut -d' ' -f1)"
  if [[ -n "$2" && "$actual" != "$2" ]]; then
    echo "fetch_weights: $1: sha256 $actual does not match the manifest's $2" >&2
    return 1
  fi
  echo "fetch_weights: $1: sha256 $actual${2:+ (verified)}"
}

if [[ -f "$dest" ]]; then
  mirror_sha="$(jq -r --arg n "$name" '[.models[$n].sources[] | select(.mirror) | .sha256 // ""][0] // ""' "$manifest")"
  url_sha="$(jq -r --arg n "$name" '[.models[$n].sources[] | select(.url) | .sha256 // ""][0] // ""' "$manifest")"
  actual="$(sha256sum "$dest" | cut -d' ' -f1)"
  if [[ ( -z "$mirror_sha" && -z "$url_sha" ) || "$actual" == "$mirror_sha" || "$actual" == "$url_sha" ]]; then
    echo "fetch_weights: $dest is already present"
    exit 0
  fi
  echo "fetch_weights: $dest has an unexpected sha256; fetching again" >&2
fi

mirror_dirs=()
[[ -n "${VITSCOPE_WEIGHTS_DIR:-}" ]] && mirror_dirs+=("$VITSCOPE_WEIGHTS_DIR")
mirror_dirs+=("$repo/../shared/models")

while IFS=$'\t' read -r mirror sha; do
  for dir in "${mirror_dirs[@]}"; do
    if [[ -f "$dir/$mirror" ]]; then
      cp "$dir/$mirror" "$dest.part"
      if check_sha "$dest.part" "$sha"; then
        mv "$dest.part" "$dest"
        echo "fetch_weights: $name <- $dir/$mirror"
        exit 0
      fi
      rm -f "$dest.part"
    fi
  done
done < <(jq -r --arg n "$name" '.models[$n].sources[] | select(.mirror) | [.mirror, (.sha256 // "")] | @tsv' "$manifest")

while IFS=$'\t' read -r url sha; do
  echo "fetch_weights: downloading $url"
  if curl -fL --retry 2 -o "$dest.part" "$url" && check_sha "$dest.part" "$sha"; then
    mv "$dest.part" "$dest"
    echo "fetch_weights: $name <- $url"
    exit 0
  fi
  rm -f "$dest.part"
done < <(jq -r --arg n "$name" '.models[$n].sources[] | select(.url) | [.url, (.sha256 // "")] | @tsv' "$manifest")

echo "fetch_weights: no source of '$name' could be reached (mirrors tried: ${mirror_dirs[*]})" >&2
exit 1
