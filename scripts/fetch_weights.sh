#!/usr/bin/env bash
# Puts a model's weights beside the model manifest (weights/ by default) as the manifest names them.
#   scripts/fetch_weights.sh [--manifest FILE] [NAME]   (default: the manifest's default model;
#                                                         manifest: $VITSCOPE_MANIFEST or weights/models.json)
# A local mirror is tried first ($VITSCOPE_WEIGHTS_DIR, then ../shared/models beside the repository),
# then the model's download URLs. A download goes to FILE.part and is renamed into place only once
# its SHA-256 is verified: against the digest pinned in the manifest or, where none is pinned, the
# one the server gives for the file (the X-Linked-Etag header of the model hub's LFS files, as its
# own clients use it); a mismatch is refused with both digests named, and the .part removed. A
# digest given by the server is recorded beside the file (FILE.sha256, sha256sum's format), where
# `vitscope info` finds it. With no digest from either, the file is kept and said to be unverified.
# An interrupted download is resumed (HTTP range requests): within a run up to 5 times, and by the
# next run from the .part it left. Progress is shown when stderr is a terminal.
# Exit status: 0 placed (or already present and matching), 1 no source gave a good file, 2 usage.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
manifest="${VITSCOPE_MANIFEST:-$repo/weights/models.json}"
name=""
while (($#)); do
  case "$1" in
    --manifest) [[ $# -ge 2 ]] || { echo "fetch_weights: --manifest needs a file" >&2; exit 2; }; manifest="$2"; shift 2 ;;
    -h | --help) sed -n '2,14s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; exit 0 ;;
    -*) echo "fetch_weights: unknown option $1" >&2; exit 2 ;;
    *) [[ -z "$name" ]] || { echo "fetch_weights: one model at a time ($name, $1)" >&2; exit 2; }; name="$1"; shift ;;
  esac
done
for tool in jq curl sha256sum; do
  command -v "$tool" >/dev/null || { echo "fetch_weights: $tool is required (apt-get install $tool)" >&2; exit 2; }
done
[[ -f "$manifest" ]] || { echo "fetch_weights: $manifest: no such manifest" >&2; exit 2; }

[[ -n "$name" ]] || name="$(jq -r '.default_model' "$manifest")"
if ! jq -e --arg n "$name" '.models[$n]' "$manifest" >/dev/null; then
  echo "fetch_weights: unknown model '$name'; known: $(jq -r '.models | keys | join(", ")' "$manifest")" >&2
  exit 2
fi
file="$(jq -r --arg n "$name" '.models[$n].file' "$manifest")"
dest="$(dirname "$manifest")/$file"
part="$dest.part"

sha_of() { sha256sum "$1" | cut -d' ' -f1; }
is_digest() { [[ "$1" =~ ^[0-9a-f]{64}$ ]]; }

# Every digest the manifest pins for this model (a mirror's and a URL's may differ).
mapfile -t pinned < <(jq -r --arg n "$name" '.models[$n].sources[] | .sha256 // empty' "$manifest")

if [[ -f "$dest" ]]; then
  actual="$(sha_of "$dest")"
  recorded=""
  [[ -f "$dest.sha256" ]] && recorded="$(cut -d' ' -f1 "$dest.sha256")"
  if ((${#pinned[@]} == 0)) && [[ -z "$recorded" || "$actual" == "$recorded" ]]; then
    how="unverified: no digest pinned in the manifest or recorded at download"
    [[ -n "$recorded" ]] && how="verified: the digest the server gave at download"
    echo "fetch_weights: $dest is already present (sha256 $actual, $how)"
    exit 0
  fi
  for sha in "${pinned[@]}"; do
    [[ "$actual" == "$sha" ]] && { echo "fetch_weights: $dest is already present (sha256 $actual, verified)"; exit 0; }
  done
  echo "fetch_weights: $dest: sha256 $actual matches no digest it should have; fetching again" >&2
fi

mirror_dirs=()
[[ -n "${VITSCOPE_WEIGHTS_DIR:-}" ]] && mirror_dirs+=("$VITSCOPE_WEIGHTS_DIR")
mirror_dirs+=("$repo/../shared/models")

while IFS=$'\t' read -r mirror sha; do
  for dir in "${mirror_dirs[@]}"; do
    [[ -f "$dir/$mirror" ]] || continue
    cp "$dir/$mirror" "$part"
    actual="$(sha_of "$part")"
    if [[ -n "$sha" && "$actual" != "$sha" ]]; then
      echo "fetch_weights: $dir/$mirror: sha256 mismatch: expected $sha (pinned in the manifest), got $actual; not used" >&2
      rm -f "$part"
      continue
    fi
    mv "$part" "$dest"
    rm -f "$dest.sha256"
    echo "fetch_weights: $name <- $dir/$mirror (sha256 $actual${sha:+, verified})"
    exit 0
  done
done < <(jq -r --arg n "$name" '.models[$n].sources[] | select(.mirror) | [.mirror, (.sha256 // "")] | @tsv' "$manifest")

# The digest a server gives for a URL: the last X-Linked-Etag of the redirect chain, when it is a
# SHA-256 (the model hub sends it with the redirect to its storage; an ETag proper is not a digest).
server_digest() {
  local value
  value="$(curl -sSIL --max-time 60 "$1" 2>/dev/null | tr -d '\r' |
           sed -n 's/^[Xx]-[Ll]inked-[Ee][Tt]ag:[[:space:]]*//p' | tail -n 1)"
  value="${value#W/}"
  value="${value//\"/}"
  value="${value,,}"
  is_digest "$value" && echo "$value" || true
}

progress=(-sS)
[[ -t 2 ]] && progress=(--progress-bar)

part_size() { stat -c %s "$part" 2>/dev/null || echo 0; }
free_space() { df -h --output=avail "$(dirname "$part")" 2>/dev/null | tail -n 1 | tr -d '[:space:]'; }

# Downloads $1 into $part, resuming what is there. Returns 0 when complete, 1 otherwise (said why).
download() {
  local url="$1" attempt code rc
  for attempt in 1 2 3 4 5; do
    rc=0
    code="$(curl -fL -C - "${progress[@]}" --connect-timeout 30 -w '%{http_code}' -o "$part" "$url")" || rc=$?
    case "$rc" in
      0) return 0 ;;
      18 | 28 | 52 | 55 | 56 | 92)  # cut short: resume
        echo "fetch_weights: $url: transfer cut short at $(part_size) bytes (curl exit $rc); resuming" >&2
        sleep 1 ;;
      22)
        if [[ "$code" == 416 ]]; then  # the .part is longer than the file: not a start of it
          echo "fetch_weights: $url: $part does not fit the file (HTTP 416); starting over" >&2
          rm -f "$part"
        else
          echo "fetch_weights: $url: the server answered HTTP $code" >&2
          return 1
        fi ;;
      23)
        echo "fetch_weights: $part: cannot write ($(free_space) free on its file system): disk full? The part is kept; run again to resume once there is room" >&2
        return 1 ;;
      33)
        echo "fetch_weights: $url: the server does not resume (no range requests); starting over" >&2
        rm -f "$part" ;;
      *)
        echo "fetch_weights: $url: download failed (curl exit $rc)" >&2
        return 1 ;;
    esac
  done
  echo "fetch_weights: $url: still incomplete after $attempt attempts; run again to resume from $part" >&2
  return 1
}

while IFS=$'\t' read -r url sha; do
  origin="pinned in the manifest"
  if [[ -z "$sha" ]]; then
    sha="$(server_digest "$url")"
    origin="given by the server"
  fi
  # A .part of another file (the digest it was started for differs) cannot be resumed.
  if [[ -f "$part" && "$(cat "$part.digest" 2>/dev/null || true)" != "$sha" ]]; then
    echo "fetch_weights: $part was started for another version of the file; starting over" >&2
    rm -f "$part"
  fi
  printf '%s\n' "$sha" >"$part.digest"
  [[ -f "$part" ]] && echo "fetch_weights: resuming $url from $(part_size) bytes" ||
    echo "fetch_weights: downloading $url"
  download "$url" || continue
  actual="$(sha_of "$part")"
  if [[ -n "$sha" && "$actual" != "$sha" ]]; then
    echo "fetch_weights: $url: sha256 mismatch: expected $sha ($origin), got $actual; download removed" >&2
    rm -f "$part" "$part.digest"
    continue
  fi
  mv "$part" "$dest"
  rm -f "$part.digest"
  if [[ -z "$sha" ]]; then
    rm -f "$dest.sha256"
    echo "fetch_weights: $name <- $url (sha256 $actual; UNVERIFIED: no digest pinned in the manifest and none given by the server)" >&2
  else
    if [[ "$origin" == "given by the server" ]]; then
      printf '%s  %s\n' "$sha" "$file" >"$dest.sha256"
    else
      rm -f "$dest.sha256"
    fi
    echo "fetch_weights: $name <- $url (sha256 $actual, verified: $origin)"
  fi
  exit 0
done < <(jq -r --arg n "$name" '.models[$n].sources[] | select(.url) | [.url, (.sha256 // "")] | @tsv' "$manifest")

echo "fetch_weights: no source of '$name' gave a good file (mirrors tried: ${mirror_dirs[*]})" >&2
exit 1
