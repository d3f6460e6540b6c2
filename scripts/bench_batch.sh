#!/usr/bin/env bash
# Benchmark of `vitscope batch`, measured rather than claimed:
#   1. throughput of `batch` on a folder of --count photos (default 1000: the 100 ImageNet photos of
#      ../shared/images/imagenet-100, hard-linked under distinct names) at --batch 1 and 8, against
#      the pure model throughput `vitscope bench` measures at the same batch size and model threads
#      (--threads, a comma-separated list; default 2,1: both cores on the model, where the images
#      are prepared on the model's threads between batches, and one core left to the decode
#      thread). Throughput is images over the time they took, for both: `bench` runs about as many
#      images as the folder holds, and its all-runs rate is compared (its median-run rate, which
#      leaves out the slow runs a long job also meets, is shown beside it). Each pair is measured
#      --repeats times (default 3), alternating model and batch so that both see the same machine,
#      and the medians are compared: on a shared machine single runs swing by ±10%;
#   2. peak resident memory (/usr/bin/time -v) of `batch` on --count and on --large files (default
#      10000): it must not grow with the folder;
#   3. a sharded run: --shards processes (default 4) started by GNU parallel, one model thread each,
#      joined by `vitscope merge --expect`, must give exactly the file of one unsharded run (cmp);
#   4. phone-sized photos: --photos12mp JPEGs (default 40; ImageNet photos enlarged to 4000x3000,
#      quality 90, 4:2:0, by PIL) classified with --decode exact and --decode draft at batch 8 on the
#      first --threads count, against the model alone, --repeats times alternating, with the time
#      per image of each stage from batch's summary and the peak resident memory; and the exact
#      decode side by side with libjpeg-turbo's own djpeg on the same files (djpeg -rgb to
#      /dev/null, one file after another; vitscope's decode time from the summary of a run with one
#      model thread and one decode thread, so that the decode has a core of its own).
#
#   scripts/bench_batch.sh [--build-dir build] [--count 1000] [--large 10000] [--threads 2,1]
#                          [--repeats 3] [--shards 4] [--topk 5] [--photos12mp 40] [--only-photos12mp]
#
# Folders, result files and logs go to .cache/bench_batch/. The machine should be otherwise idle:
# other work on the same cores shows up in every number. A quick check that it all works:
#   scripts/bench_batch.sh --count 100 --large 300
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build_dir="$repo/build"
count=1000
large=10000
thread_counts=2,1
shards=4
topk=5
repeats=3
photos12mp=40
only_photos12mp=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --build-dir) build_dir="$2"; shift 2 ;;
    --count) count="$2"; shift 2 ;;
    --large) large="$2"; shift 2 ;;
    --threads) thread_counts="$2"; shift 2 ;;
    --shards) shards="$2"; shift 2 ;;
    --repeats) repeats="$2"; shift 2 ;;
    --topk) topk="$2"; shift 2 ;;
    --photos12mp) photos12mp="$2"; shift 2 ;;
    --only-photos12mp) only_photos12mp=1; shift ;;
    -h|--help) sed -n '2,32p' "$0"; exit 0 ;;
    *) echo "bench_batch.sh: unknown option $1" >&2; exit 2 ;;
  esac
done

vitscope="$build_dir/vitscope"
photos="$repo/../shared/images/imagenet-100"
cache="$repo/.cache/bench_batch"
for need in "$vitscope" "$photos" /usr/bin/time /usr/bin/djpeg /usr/bin/python3; do
  [[ -e "$need" ]] || { echo "bench_batch.sh: missing $need (build vitscope; ../shared beside the repo; apt-get install time libjpeg-turbo-progs python3-pil)" >&2; exit 1; }
done
command -v parallel >/dev/null || { echo "bench_batch.sh: GNU parallel is missing (apt-get install parallel)" >&2; exit 1; }
mkdir -p "$cache"

# A folder of n photos: images_<n>/part_<k>/<i>_<photo>, 1000 per part, hard links to one copy of
# the originals (distinct paths, the same bytes).
make_folder() {
  local n="$1" dir="$cache/images_$1"
  if [[ -f "$dir/.complete" ]]; then echo "$dir"; return; fi
  rm -rf "$dir" "$cache/originals"
  mkdir -p "$cache/originals"
  cp "$photos"/*.JPEG "$cache/originals/"
  local originals=("$cache/originals"/*.JPEG) i
  local part src name
  for ((i = 0; i < n; i++)); do
    printf -v part '%s/part_%03d' "$dir" $((i / 1000))
    [[ $((i % 1000)) -eq 0 ]] && mkdir -p "$part"
    src="${originals[$((i % ${#originals[@]}))]}"
    printf -v name '%s/%06d_%s' "$part" "$i" "${src##*/}"
    ln "$src" "$name"
  done
  touch "$dir/.complete"
  echo "$dir"
}

# Images/s of the forward pass alone: model_rate <batch> <threads> <iterations> prints two numbers,
# the throughput over all timed runs (the same statistic as batch's images/s: images over the time
# they took, slow runs included) and the rate of the median run.
model_rate() {
  "$vitscope" bench --batch "$1" --threads "$2" --iterations "$3" --format json |
    sed -n 's/.*"median_ms_per_image":\([0-9.]*\).*"images_per_second":\([0-9.]*\).*/\1 \2/p' |
    awk '{ printf "%.2f %.2f\n", $2, 1000 / $1 }'
}

# Runs batch under /usr/bin/time: batch_run <folder> <out> <batch> <threads> <log> [options...];
# prints "<images/s of the run> <wall s> <peak RSS MB>".
batch_run() {
  local dir="$1" out="$2" batch="$3" threads="$4" log="$5"
  shift 5
  rm -f "$out" "$out.settings.json"
  /usr/bin/time -v "$vitscope" batch "$dir" --out "$out" --batch "$batch" --threads "$threads" \
    --topk "$topk" --quiet "$@" 2>"$log"
  local rate wall rss
  rate=$(sed -n 's/^vitscope batch: .* (\([0-9.]*\) images\/s).*/\1/p' "$log")
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, t, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + t[i]; print s }' "$log")
  rss=$(awk -F': ' '/Maximum resident set size/ { printf "%.1f", $2 / 1024 }' "$log")
  echo "$rate $wall $rss"
}

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
# The median of the numbers given as arguments.
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
IFS=, read -r -a threads_list <<<"$thread_counts"
first_threads="${threads_list[0]}"
same="identical (cmp)"
if ((only_photos12mp == 0)); then
small_dir=$(make_folder "$count")
large_dir=$(make_folder "$large")

echo

echo "| batch | threads | model alone img/s (all runs) | model alone img/s (median run) | vitscope batch img/s | batch / model (all runs) | range of the $repeats paired ratios | batch / model (median run) | wall s | peak RSS MB |"
echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
rm -f "$cache"/batch*_t*.csv "$cache"/batch*_t*.log  # results of earlier runs are not compared
for threads in "${threads_list[@]}"; do
  for batch in 1 8; do
    # About as many images as the batch run's folder, so both span a similar stretch of time.
    iterations=$(( (count + batch - 1) / batch ))
    name="batch${batch}_t$threads"
    models=() medians=() rates=() ratios=() walls=() rsses=()
    for ((r = 0; r < repeats; r++)); do
      read -r model median_run < <(model_rate "$batch" "$threads" "$iterations")
      read -r rate wall rss < <(batch_run "$small_dir" "$cache/$name.csv" "$batch" "$threads" "$cache/$name.log")
      models+=("$model") medians+=("$median_run") rates+=("$rate") walls+=("$wall") rsses+=("$rss")
      ratios+=("$(awk -v a="$rate" -v b="$model" 'BEGIN { printf "%.3f", a / b }')")
    done
    model=$(median "${models[@]}") median_run=$(median "${medians[@]}") rate=$(median "${rates[@]}")
    ratio=$(awk -v a="$rate" -v b="$model" 'BEGIN { printf "%.3f", a / b }')
    ratio_median=$(awk -v a="$rate" -v b="$median_run" 'BEGIN { printf "%.3f", a / b }')
    range="$(printf '%s\n' "${ratios[@]}" | sort -g | head -1)–$(printf '%s\n' "${ratios[@]}" | sort -g | tail -1)"
    echo "| $batch | $threads | $model | $median_run | $rate | $ratio | $range | $ratio_median | $(median "${walls[@]}") | $(median "${rsses[@]}") |"
  done
done
# Batch size and threads must not change a single byte of the results.
for result in "$cache"/batch*_t*.csv; do
  cmp -s "$result" "$cache/batch8_t$first_threads.csv" ||
    { echo "bench_batch.sh: FAILED: $result differs from batch8_t$first_threads.csv" >&2; exit 1; }
done

echo
echo "| files | batch | threads | img/s | wall s | peak RSS MB |"
echo "|---:|---:|---:|---:|---:|---:|"
small_log="$cache/batch8_t$first_threads.log"
small_rss=$(awk -F': ' '/Maximum resident set size/ { printf "%.1f", $2 / 1024 }' "$small_log")
small_rate=$(sed -n 's/^vitscope batch: .* (\([0-9.]*\) images\/s).*/\1/p' "$small_log")
small_wall=$(awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, t, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + t[i]; print s }' "$small_log")
echo "| $count | 8 | $first_threads | $small_rate | $small_wall | $small_rss |"
read -r rate wall rss < <(batch_run "$large_dir" "$cache/large.csv" 8 "$first_threads" "$cache/large.log")
echo "| $large | 8 | $first_threads | $rate | $wall | $rss |"

echo
rm -f "$cache"/shard_*.csv "$cache/merged.csv"
start=$(date +%s.%N)
# Exit status 1 only means some inputs failed; anything above is a real failure.
parallel --halt now,fail=1 -j "$shards" \
  "'$vitscope' batch '$small_dir' --threads 1 --batch 8 --topk $topk --quiet --shard {}/$shards --out '$cache/shard_{}.csv' 2>'$cache/shard_{}.log' || [ \$? -eq 1 ]" \
  ::: $(seq 1 "$shards")
end=$(date +%s.%N)
"$vitscope" merge "$cache/merged.csv" "$cache"/shard_*.csv --expect "$small_dir" 2>"$cache/merge.log" ||
  { cat "$cache/merge.log" >&2; exit 1; }
sharded_rate=$(awk -v n="$count" -v a="$start" -v b="$end" 'BEGIN { printf "%.2f", n / (b - a) }')
if cmp -s "$cache/merged.csv" "$cache/batch8_t$first_threads.csv"; then same="identical (cmp)"; else same="DIFFERENT"; fi
rows=$(($(wc -l < "$cache/merged.csv") - 1))
echo "sharded: $shards processes x 1 model thread (GNU parallel), $count files in $(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }') s" \
     "($sharded_rate images/s including model loads); merged $rows rows: $same to the unsharded run"
fi  # only_photos12mp

# --- 4. phone-sized photos: exact and draft decode ------------------------------------------------
large_photos="$cache/photos_12mp_$photos12mp"
if [[ ! -f "$large_photos/.complete" ]]; then
  rm -rf "$large_photos"
  mkdir -p "$large_photos"
  /usr/bin/python3 - "$photos" "$large_photos" "$photos12mp" <<'PY'
import glob, os, sys
from PIL import Image
src, dst, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
originals = sorted(glob.glob(os.path.join(src, "*.JPEG")))
for i in range(n):
    image = Image.open(originals[i % len(originals)]).convert("RGB").resize((4000, 3000), Image.BICUBIC)
    image.save(os.path.join(dst, "photo_%03d.jpg" % i), quality=90, subsampling=2)
PY
  touch "$large_photos/.complete"
fi
# A stage's ms per image from a batch log: stage_ms <log> <stage>.
stage_ms() { sed -n "s/.* $2 \([0-9.]*\) ms.*/\1/p" "$1" | head -n 1; }
echo
echo "$photos12mp JPEGs of 4000x3000 (12 MP), batch 8, $first_threads model threads, medians of $repeats alternating runs:"
echo
echo "| decode | model alone img/s | vitscope batch img/s | batch / model | decode ms/img | preprocess ms/img | model ms/img | peak RSS MB |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|"
iterations=$(( (photos12mp + 7) / 8 ))
declare -A rates_of rss_of
models12=()
for ((r = 0; r < repeats; r++)); do
  read -r model _ < <(model_rate 8 "$first_threads" "$iterations")
  models12+=("$model")
  for mode in exact draft; do
    read -r rate wall rss < <(batch_run "$large_photos" "$cache/photos12mp_$mode.csv" 8 "$first_threads" \
                              "$cache/photos12mp_${mode}_$r.log" --decode "$mode")
    rates_of[$mode]+="$rate " rss_of[$mode]+="$rss "
  done
done
model12=$(median "${models12[@]}")
for mode in exact draft; do
  rate=$(median ${rates_of[$mode]})
  log="$cache/photos12mp_${mode}_$((repeats / 2)).log"
  echo "| $mode | $model12 | $rate | $(awk -v a="$rate" -v b="$model12" 'BEGIN { printf "%.3f", a / b }') |" \
       "$(stage_ms "$log" decode) | $(stage_ms "$log" preprocess) | $(stage_ms "$log" model) | $(median ${rss_of[$mode]}) |"
done
exact_rate=$(median ${rates_of[exact]}) draft_rate=$(median ${rates_of[draft]})
echo
echo "draft / exact throughput: $(awk -v a="$draft_rate" -v b="$exact_rate" 'BEGIN { printf "%.2f", a / b }')"

# Exact decode against djpeg on the same files, alternating: vitscope with one model thread and one
# decode thread (the decode has a core of its own), djpeg one file after another.
vit_ms=() djpeg_ms=()
for ((r = 0; r < repeats; r++)); do
  batch_run "$large_photos" "$cache/photos12mp_decode.csv" 8 1 "$cache/photos12mp_decode_$r.log" \
    --decode exact --decode-threads 1 >/dev/null
  vit_ms+=("$(stage_ms "$cache/photos12mp_decode_$r.log" decode)")
  start=$(date +%s.%N)
  for f in "$large_photos"/*.jpg; do djpeg -rgb -outfile /dev/null "$f"; done
  end=$(date +%s.%N)
  djpeg_ms+=("$(awk -v n="$photos12mp" -v a="$start" -v b="$end" 'BEGIN { printf "%.2f", 1000 * (b - a) / n }')")
done
vit=$(median "${vit_ms[@]}") dj=$(median "${djpeg_ms[@]}")
echo "exact decode of a 12 MP JPEG: vitscope $vit ms (runs: ${vit_ms[*]}), djpeg $dj ms (runs: ${djpeg_ms[*]}):" \
     "$(awk -v a="$vit" -v b="$dj" 'BEGIN { printf "%.2f", a / b }') x djpeg's time"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
[[ "$same" == "identical (cmp)" ]] || exit 1
