#!/usr/bin/env bash
# Installs the Debian 12 packages vitscope needs to build and test (run as root, or with sudo).
set -euo pipefail
packages=(
  build-essential cmake pkg-config git ca-certificates curl jq
  libopencv-dev libturbojpeg0-dev libxtensor-dev libxsimd-dev catch2 libcli11-dev nlohmann-json3-dev libssl-dev
  parallel clang libclang-rt-14-dev
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  echo "install_deps: all packages present"
  exit 0
fi
sudo_cmd=()
[[ "$(id -u)" -ne 0 ]] && sudo_cmd=(sudo)
echo "install_deps: installing ${missing[*]}"
"${sudo_cmd[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
