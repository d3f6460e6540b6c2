#!/usr/bin/env bash
# Which linear layers of a ViT cost accuracy in int8: each layer alone in int8 (every other one in
# fp32), then each kind of layer in every block, then the whole model with and without the patch
# embedding and head, each compared image by image with the same model in fp32
# (`vitscope validate --precision int8 --keep-fp32 ... --against fp32`) on the labelled photos.
#   scripts/int8/layer_sensitivity.sh [--model deit_tiny_patch16_224] [--images DIR] [--labels CSV]
# Prints a markdown table: the layers in int8; top-1 agreement with fp32; mean KL(p_fp32 || p_int8)
# in nats with its 95% bootstrap interval; the worst logit difference; top-1 accuracy in int8
# (fp32's on the first line). Reports go to .cache/int8_sensitivity/.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
model=deit_tiny_patch16_224
images="$repo/../shared/images/imagenet-100"
labels=""
while (($#)); do
  case "$1" in
    --model) model="$2"; shift 2 ;;
    --images) images="$2"; shift 2 ;;
    --labels) labels="$2"; shift 2 ;;
    *) echo "layer_sensitivity.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
labels="${labels:-$images/labels.csv}"
vitscope="$repo/build/vitscope"
out="$repo/.cache/int8_sensitivity"
mkdir -p "$out"
depth=$("$vitscope" info "$model" | sed -n 's/^depth *//p')
all=(patch_embed head)
for ((i = 0; i < depth; i++)); do
  for layer in attn.qkv attn.proj mlp.fc1 mlp.fc2; do all+=("blocks.$i.$layer"); done
done
join() { local IFS=,; echo "$*"; }
# keep_fp32_except <int8 layers...>: every layer not named, comma-separated ("none" if none).
keep_fp32_except() {
  local keep=() layer wanted
  for layer in "${all[@]}"; do
    for wanted in "$@"; do
      [[ "$layer" == "$wanted" || "$layer" == *".$wanted" ]] && continue 2
    done
    keep+=("$layer")
  done
  ((${#keep[@]})) && join "${keep[@]}" || echo none
}
run() {  # run <name> <keep-fp32 list>
  local json="$out/$1.json"
  "$vitscope" validate "$images" --labels "$labels" --model "$model" --precision int8 --keep-fp32 "$2" \
    --against fp32 --json "$json" >/dev/null
  jq -r --arg n "$1" '"| \($n) | \(.against.top1_agreement.count)/\(.against.images) | \(.against.kl_nats.mean | . * 1e5 | round / 1e5) [\(.against.kl_nats.low | . * 1e5 | round / 1e5), \(.against.kl_nats.high | . * 1e5 | round / 1e5)] | \(.against.worst_logit_difference | . * 1000 | round / 1000) | \(.top1_accuracy * 100 | round)% |"' "$json"
}
echo "| int8 layers | top-1 agreement with fp32 | mean KL nats [95% CI] | worst logit difference | top-1 accuracy |"
echo "|---|---:|---|---:|---:|"
run "none (only attention's q·kᵀ and p·v, in bf16 under int8)" "$(keep_fp32_except)"
run "all, the patch embedding and head too (default)" none
run "all but the patch embedding and head" "patch_embed,head"
for kind in attn.qkv attn.proj mlp.fc1 mlp.fc2 patch_embed head; do
  run "$kind of every block" "$(keep_fp32_except "$kind")"
done
for layer in "${all[@]}"; do
  [[ "$layer" == patch_embed || "$layer" == head ]] && continue
  run "$layer alone" "$(keep_fp32_except "$layer")"
done
