#!/usr/bin/env bash
# Accuracy cost of `--decode draft` against the default exact decode, measured on the model outputs:
# for each model (--models, a comma-separated list; default deit_tiny_patch16_224 and
# mobilenet_v1_0.75_224) and each of two photo sets it runs
#   vitscope batch <folder> --model <name> --topk 1000 --threads N --out <file>.jsonl --quiet
# once with the exact decode and once with --decode draft, keeping every class's probability, and
# then scripts/decode/draft_accuracy_report.py compares the two runs image by image (top-1
# agreement, top-5 overlap, KL divergence, top-1 probability, ImageNet accuracy; the definitions are
# at the top of that script). The photo sets:
#   hires     the 33 high-resolution JPEG photographs of scripts/decode/hires_photos.tsv (shorter
#             sides 1536 to 3391 pixels: every one is draft-decoded at 1/4 or 1/8), collected into
#             .cache/hires_photos/photos/ by scripts/decode/fetch_hires_photos.sh, which is run here
#             when that folder is missing or empty;
#   imagenet  the 100 labelled ImageNet photos of ../shared/images/imagenet-100 (labels.csv gives
#             the true class), mostly about 500x375: only the few whose shorter side reaches twice
#             the resize target (512 pixels for a 224 input at crop_pct 0.875) are decoded any
#             differently by draft; the others must give identical outputs.
#
#   scripts/decode/draft_accuracy.sh [--models deit_tiny_patch16_224,mobilenet_v1_0.75_224]
#                                    [--threads 2] [--build-dir build]
#
# Result files (<model>.<set>.<exact|draft>.jsonl and their .settings.json), stderr logs and the
# report (report.md, the Markdown printed at the end, and report.json) go to .cache/draft_accuracy/.
# Old result files are deleted first (batch refuses to overwrite one). The wall time of each run is
# printed as it goes, for orientation only: it is not a benchmark (scripts/bench_batch.sh is).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build_dir="$repo/build"
models=deit_tiny_patch16_224,mobilenet_v1_0.75_224
threads=2
while [[ $# -gt 0 ]]; do
  case "$1" in
    --models) models="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --build-dir) build_dir="$2"; shift 2 ;;
    -h|--help) sed -n '2,25p' "$0"; exit 0 ;;
    *) echo "draft_accuracy.sh: unknown option $1" >&2; exit 2 ;;
  esac
done

vitscope="$build_dir/vitscope"
hires="$repo/.cache/hires_photos/photos"
imagenet="$repo/../shared/images/imagenet-100"
cache="$repo/.cache/draft_accuracy"
for need in "$vitscope" "$imagenet/labels.csv" /usr/bin/python3; do
  [[ -e "$need" ]] || { echo "draft_accuracy.sh: missing $need (build vitscope; ../shared beside the repo)" >&2; exit 1; }
done
if [[ ! -d "$hires" ]] || [[ -z "$(ls -A "$hires")" ]]; then
  "$repo/scripts/decode/fetch_hires_photos.sh"
fi
mkdir -p "$cache"

IFS=, read -r -a model_list <<< "$models"
for model in "${model_list[@]}"; do
  for set in hires imagenet; do
    folder="$hires"; [[ "$set" == imagenet ]] && folder="$imagenet"
    for decode in exact draft; do
      out="$cache/$model.$set.$decode.jsonl"
      rm -f "$out" "$out.settings.json"
      start="$(date +%s.%N)"
      "$vitscope" batch "$folder" --model "$model" --topk 1000 --threads "$threads" \
        --decode "$decode" --out "$out" --quiet 2> "$cache/$model.$set.$decode.log" \
        || { echo "draft_accuracy.sh: batch failed, see $cache/$model.$set.$decode.log" >&2; exit 1; }
      end="$(date +%s.%N)"
      printf '%-24s %-9s %-6s %4d rows  %6.1f s\n' "$model" "$set" "$decode" \
        "$(wc -l < "$out")" "$(awk -v a="$start" -v b="$end" 'BEGIN { print b - a }')"
    done
  done
done

/usr/bin/python3 "$repo/scripts/decode/draft_accuracy_report.py" --models "$models" --results "$cache" \
  --hires "$hires" --imagenet "$imagenet"
