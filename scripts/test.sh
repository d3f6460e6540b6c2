#!/usr/bin/env bash
# Builds and runs the whole test suite with CTest.
#   scripts/test.sh              Release build in build/
#   scripts/test.sh --sanitize   AddressSanitizer + UndefinedBehaviorSanitizer build in build-asan/
#   scripts/test.sh --tsan       ThreadSanitizer build in build-tsan/ of the threading tests only:
#                                the thread pool, threaded kernels (fp32, bf16, int8, Winograd), and sessions
#                                sharing one model
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
build=build
flags=(-DCMAKE_BUILD_TYPE=Release)
case "${1:-}" in
  --sanitize)
    build=build-asan
    flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DVITSCOPE_SANITIZE=ON)
    export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1"
    export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
    ;;
  --tsan)
    cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DVITSCOPE_TSAN=ON
    cmake --build build-tsan -j"$(nproc)" --target test_kernels test_models
    export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1"
    build-tsan/tests/test_kernels "[thread_pool],[linear],[int8][threads],[winograd]" --use-colour no
    build-tsan/tests/test_models "[sessions]" --use-colour no
    exit 0
    ;;
esac
parallel_tests=1
[[ "$build" == build-asan ]] && parallel_tests="$(nproc)"  # the sanitizer suites are CPU-bound and long
cmake -S . -B "$build" "${flags[@]}"
cmake --build "$build" -j"$(nproc)"
ctest --test-dir "$build" --output-on-failure -j"$parallel_tests"
# The real-weights test's summary line (top-1 accuracy on the 100 labelled photos).
grep -h "top-1 accuracy" "$build/Testing/Temporary/LastTest.log" || true
