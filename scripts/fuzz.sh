#!/usr/bin/env bash
# Fuzzes vitscope's input parsers with libFuzzer (tests/fuzz), one target after another, each for
# a bounded time.
#   scripts/fuzz.sh [--seconds N] [target...]
# Targets: safetensors image_decode labels_csv class_names result_file manifest (default: all);
# N seconds each (60).
#
# Builds build-fuzz/ with clang, the whole project instrumented for coverage and checked by ASan and
# UBSan. Each target starts from its committed seeds (tests/fuzz/corpus/<target>/, read only) plus
# what earlier runs found (.cache/fuzz/<target>/corpus/, where new inputs go). Fuzzer output goes to
# .cache/fuzz/<target>/log-<time>.txt, reproducers of findings to .cache/fuzz/<target>/findings-<time>/.
# Prints one summary line per target; exits 1 when any target found a crash, a timeout, an
# out-of-memory or a leak, 2 on a usage or build error.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"

all_targets=(safetensors image_decode labels_csv class_names result_file manifest)
# The largest input worth mutating, in bytes: seeds are a few KB; headers and CSV lines are short.
declare -A max_len=([safetensors]=16384 [image_decode]=65536 [labels_csv]=4096 [class_names]=4096
                   [result_file]=4096 [manifest]=4096)

usage() {
  sed -n '2,6s/^# \{0,1\}//p' "${BASH_SOURCE[0]}" >&2
  exit 2
}

seconds=60
targets=()
while (($#)); do
  case "$1" in
    --seconds)
      [[ $# -ge 2 && "$2" =~ ^[1-9][0-9]*$ ]] || usage
      seconds="$2"
      shift 2
      ;;
    -h | --help) usage ;;
    -*) echo "fuzz.sh: unknown option $1" >&2; usage ;;
    *)
      [[ -v "max_len[$1]" ]] || { echo "fuzz.sh: unknown target '$1' (targets: ${all_targets[*]})" >&2; exit 2; }
      targets+=("$1")
      shift
      ;;
  esac
done
((${#targets[@]})) || targets=("${all_targets[@]}")

build=build-fuzz
sanitizers="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined"
cmake -S . -B "$build" -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g" \
  -DCMAKE_CXX_FLAGS="$sanitizers -fno-omit-frame-pointer -D_GLIBCXX_ASSERTIONS" \
  -DVITSCOPE_FUZZ=ON -DVITSCOPE_BUILD_TESTS=OFF >/dev/null ||
  { echo "fuzz.sh: cmake configure of $build failed" >&2; exit 2; }
cmake --build "$build" -j"$(nproc)" --target "${targets[@]/#/fuzz_}" ||
  { echo "fuzz.sh: build failed" >&2; exit 2; }

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

stamp="$(date +%Y%m%d-%H%M%S)"
summaries=()
findings=()
for target in "${targets[@]}"; do
  work=".cache/fuzz/$target"
  log="$work/log-$stamp.txt"
  artifacts="$work/findings-$stamp"
  mkdir -p "$work/corpus" "$artifacts"
  echo "== fuzz_$target for ${seconds}s (log: $log)" >&2

  status=0
  "$build/tests/fuzz/fuzz_$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -max_len="${max_len[$target]}" -dict="tests/fuzz/$target.dict" -use_value_profile=1 \
    -print_final_stats=1 -artifact_prefix="$artifacts/" \
    "$work/corpus" "tests/fuzz/corpus/$target" >"$log" 2>&1 || status=$?

  # The last status line ("#123 DONE cov: 456 ft: 789 corp: 12/3456b ...") and the final stats.
  last="$(grep -E '^#[0-9]+' "$log" | tail -n 1 || true)"
  cov="$(sed -nE 's/.* cov: ([0-9]+).*/\1/p' <<<"$last")"
  ft="$(sed -nE 's/.* ft: ([0-9]+).*/\1/p' <<<"$last")"
  corp="$(sed -nE 's/.* corp: ([0-9]+).*/\1/p' <<<"$last")"
  execs="$(sed -nE 's/^stat::number_of_executed_units: *([0-9]+).*/\1/p' "$log" | tail -n 1)"
  rate="$(sed -nE 's/^stat::average_exec_per_sec: *([0-9]+).*/\1/p' "$log" | tail -n 1)"

  found=("$artifacts"/*)
  if [[ -e "${found[0]}" ]]; then
    result="FOUND $(basename "${found[0]}" | cut -d- -f1): ${found[*]}"
    findings+=("$target: ${found[*]}")
  elif ((status != 0)); then
    result="FAILED (exit $status, no reproducer; see $log)"
    findings+=("$target: fuzzer exited with status $status, see $log")
    rmdir "$artifacts"
  else
    result="ok"
    rmdir "$artifacts"
  fi
  summaries+=("$(printf '%-13s %8s execs (%s/s)  cov %s  ft %s  corpus %s  %s' "$target" \
    "${execs:-?}" "${rate:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}" "$result")")
  echo "${summaries[-1]}" >&2
done

echo
printf '%s\n' "${summaries[@]}"
if ((${#findings[@]})); then
  echo
  echo "Findings (the fuzzer's output, with the stack trace, is in the target's log):"
  printf '  %s\n' "${findings[@]}"
  echo "Replay one with: $build/tests/fuzz/fuzz_<target> <reproducer>"
  echo "Then copy it to tests/data/fuzz_regressions/<target>/ as crash-<what it found>.<ext>"
  echo "(see tests/fuzz/fuzz_replay.hpp) and run test_io (test_models for labels_csv and manifest,"
  echo "test_batch for result_file)."
  exit 1
fi
